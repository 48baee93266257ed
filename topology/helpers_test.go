package topology

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"scuttle/topology/testkit"
)

// waitTimeout bounds every wait of the tests.
const waitTimeout = 10 * time.Second

// A world holds the observed state of the test's nodes under one mutex
// and wakes waiters on every change.
type world struct {
	t       *testing.T
	leaks   *testkit.Leaks // begun before the world's first node
	mu      sync.Mutex
	changed chan struct{}
	logs    strings.Builder
}

// newWorld returns a world whose cleanup checks, last, that no goroutine
// started since is left.
func newWorld(t *testing.T) *world {
	t.Helper()
	return &world{t: t, leaks: testkit.CheckLeaks(t), changed: make(chan struct{})}
}

// update runs f under the lock and wakes the waiters.
func (w *world) update(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f()
	close(w.changed)
	w.changed = make(chan struct{})
}

// waitFor waits until cond, run under the lock, holds.
func (w *world) waitFor(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		ok, ch := cond(), w.changed
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			w.mu.Lock()
			defer w.mu.Unlock()
			w.t.Fatalf("timed out after %v waiting for %s; log:\n%s", waitTimeout, what, w.logs.String())
		}
	}
}

// Write collects the swarms' log lines, so tests can wait for one.
func (w *world) Write(p []byte) (int, error) {
	w.update(func() { w.logs.Write(p) })
	return len(p), nil
}

func (w *world) logged(s string) bool { return strings.Contains(w.logs.String(), s) }

// A node is one Swarm under test, with what it reported; its fields
// below sw are guarded by world.mu.
type node struct {
	w      *world
	sw     *Swarm
	events []Event
	active map[string]*Conn // connections in the Handler, by string(peer key)
	cancel context.CancelFunc
	runErr chan error
}

// testKeys returns n ed25519 keys, the same in every run (made from the
// seeds "key 0", "key 1", ...), sorted by public key: keys[0] decides
// against every other (see "One connection per pair" in doc.go).
func testKeys(n int) []ed25519.PrivateKey {
	keys := make([]ed25519.PrivateKey, n)
	for i := range keys {
		seed := sha256.Sum256(fmt.Appendf(nil, "key %d", i))
		keys[i] = ed25519.NewKeyFromSeed(seed[:])
	}
	slices.SortFunc(keys, func(a, b ed25519.PrivateKey) int { return bytes.Compare(pubKey(a), pubKey(b)) })
	return keys
}

// id is the registry key of k's public half, as node.active uses it.
func id(k ed25519.PrivateKey) string { return string(pubKey(k)) }

// newNode makes a swarm with key on ln (127.0.0.1:0 if nil) naming
// peers, with short backoffs. Call start to run it.
func (w *world) newNode(key ed25519.PrivateKey, name string, ln net.Listener, peers ...string) *node {
	w.t.Helper()
	if ln == nil {
		ln = listen(w.t, "127.0.0.1:0")
	}
	n := &node{w: w, active: make(map[string]*Conn)}
	n.sw = &Swarm{
		Key: key, Name: name, Listener: ln, Peers: peers,
		Handler:    n.handle,
		Events:     func(e Event) { w.update(func() { n.events = append(n.events, e) }) },
		Logger:     slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name),
		minBackoff: 10 * time.Millisecond,
		maxBackoff: 200 * time.Millisecond,
	}
	return n
}

// start runs the swarm until stop or the end of the test.
func (n *node) start() *node {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.runErr = cancel, make(chan error, 1)
	go func() { n.runErr <- n.sw.Run(ctx) }()
	n.w.t.Cleanup(n.stop)
	return n
}

// stop cancels the swarm and waits for Run to return nil.
func (n *node) stop() {
	n.w.t.Helper()
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	select {
	case err := <-n.runErr:
		if err != nil {
			n.w.t.Errorf("%s: Run: got %v, want nil", n.sw.Name, err)
		}
	case <-time.After(waitTimeout):
		n.w.t.Fatalf("%s: Run did not return within %v after cancel", n.sw.Name, waitTimeout)
	}
}

// handle records the connection while it lasts and fails the test if two
// Handlers of one peer overlap.
func (n *node) handle(ctx context.Context, c *Conn) error {
	n.w.update(func() {
		if old := n.active[string(c.Peer.Key)]; old != nil {
			n.w.t.Errorf("%s: two Handlers for peer %s at once: %v and %v", n.sw.Name, c.Peer.Name, old.RemoteAddr(), c.RemoteAddr())
		}
		n.active[string(c.Peer.Key)] = c
	})
	_, err := io.Copy(io.Discard, c)
	n.w.update(func() { delete(n.active, string(c.Peer.Key)) })
	return err
}

// same reports, under world.mu, whether a and b serve one and the same
// TCP connection.
func same(a, b *node) bool {
	ca, cb := a.active[id(b.sw.Key)], b.active[id(a.sw.Key)]
	return ca != nil && cb != nil &&
		ca.LocalAddr().String() == cb.RemoteAddr().String() &&
		ca.RemoteAddr().String() == cb.LocalAddr().String() &&
		ca.Dialed != cb.Dialed
}

// kinds lists, under world.mu, the kinds of n's events about the peer
// with key k.
func (n *node) kinds(k ed25519.PrivateKey) []EventKind {
	var ks []EventKind
	for _, e := range n.events {
		if string(e.Peer.Key) == id(k) {
			ks = append(ks, e.Kind)
		}
	}
	return ks
}

// checkAlternation fails the test unless, for every peer, n's events
// alternate Connected, Disconnected, starting with Connected, and
// Listening came first.
func (n *node) checkAlternation(t *testing.T) {
	t.Helper()
	n.w.mu.Lock()
	defer n.w.mu.Unlock()
	if len(n.events) == 0 || n.events[0].Kind != Listening {
		t.Errorf("%s: first event is not Listening: %v", n.sw.Name, n.events)
	}
	up := map[string]bool{}
	for i, e := range n.events[1:] {
		switch {
		case e.Kind == Connected && !up[string(e.Peer.Key)], e.Kind == Disconnected && up[string(e.Peer.Key)]:
			up[string(e.Peer.Key)] = e.Kind == Connected
		default:
			t.Errorf("%s: event %d (%v) out of order", n.sw.Name, i+1, e)
		}
	}
}

func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	return ln
}

// fakeResolver resolves every name to 127.0.0.1 and records the hosts
// asked for.
type fakeResolver struct {
	w     *world
	asked []string // guarded by w.mu
}

func (r *fakeResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	r.w.update(func() { r.asked = append(r.asked, host) })
	return []string{"127.0.0.1"}, nil
}

// countingDial dials with a net.Dialer and counts the calls. If gate is
// set, calls after the gateAfter'th wait until it is closed.
type countingDial struct {
	w         *world
	calls     int // guarded by w.mu
	gate      chan struct{}
	gateAfter int
}

func (d *countingDial) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var n int
	d.w.update(func() { d.calls++; n = d.calls })
	if d.gate != nil && n > d.gateAfter {
		select {
		case <-d.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

// pipeListener is a Listener over net.Pipe: Dial hands one end to Accept.
type pipeListener struct {
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c1, c2 := net.Pipe()
	select {
	case l.conns <- c2:
		return c1, nil
	case <-l.closed:
		c1.Close()
		return nil, fmt.Errorf("dial %s: %w", addr, net.ErrClosed)
	case <-ctx.Done():
		c1.Close()
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// flakyListener fails its first fails Accepts with a temporary error,
// then blocks until closed.
type flakyListener struct {
	*pipeListener
	mu    sync.Mutex
	fails int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.fails > 0 {
		l.fails--
		l.mu.Unlock()
		return nil, fmt.Errorf("accept: %w", syscall.EMFILE)
	}
	l.mu.Unlock()
	return l.pipeListener.Accept()
}
