package topology

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMeshOfThree(t *testing.T) {
	w := newWorld(t)
	lns := []net.Listener{listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")}
	addr := func(i int) string { return lns[i].Addr().String() }
	k := testKeys(3)
	nodes := []*node{
		w.newNode(k[1], "alice", lns[0], addr(1), addr(2)),
		w.newNode(k[2], "bob", lns[1], addr(0), addr(2)),
		w.newNode(k[0], "carol", lns[2], addr(0), addr(1)),
	}
	for _, n := range nodes {
		n.start()
	}
	w.waitFor("every pair linked by one connection", func() bool {
		return same(nodes[0], nodes[1]) && same(nodes[0], nodes[2]) && same(nodes[1], nodes[2])
	})
	w.mu.Lock()
	for _, n := range nodes {
		if got := len(n.active); got != 2 {
			t.Errorf("%s: %d connections, want 2", n.sw.Name, got)
		}
		for id, c := range n.active {
			if string(c.Peer.Key) != id || c.Peer.Name == "" || c.Peer.Addr == "" || c.Dialed != (c.Target != "") {
				t.Errorf("%s: connection to %q has peer %+v", n.sw.Name, id, c.Peer)
			}
		}
	}
	w.mu.Unlock()
	for _, n := range nodes {
		n.stop()
		n.checkAlternation(t)
	}
}

// TestSimultaneousDial starts two swarms that name each other at once,
// many times: both must end up serving the same single connection, never
// two Handlers of one peer, and never serve the losing connection.
func TestSimultaneousDial(t *testing.T) {
	const rounds = 50
	k := testKeys(2)
	for i := range rounds {
		w := newWorld(t)
		la, lb := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
		ida, idb := k[0], k[1]
		if i%2 == 1 {
			ida, idb = idb, ida
		}
		a := w.newNode(ida, "alice", la, lb.Addr().String())
		b := w.newNode(idb, "bob", lb, la.Addr().String())
		a.start()
		b.start()
		w.waitFor(fmt.Sprintf("round %d: alice and bob linked", i), func() bool { return same(a, b) })
		w.mu.Lock()
		if got, want := append(a.kinds(idb), b.kinds(ida)...), []EventKind{Connected, Connected}; !slices.Equal(got, want) {
			t.Errorf("round %d: alice's events %v, bob's %v; want one Connected each", i, a.events, b.events)
		}
		w.mu.Unlock()
		a.stop()
		b.stop()
		a.checkAlternation(t)
		b.checkAlternation(t)
		w.leaks.Verify()
	}
}

// TestLateJoiner: alice names bob, who is not up yet; bob comes up and
// dials alice first. alice's next redial finds bob connected and is
// refused, without disturbing the connection bob made.
func TestLateJoiner(t *testing.T) {
	k := testKeys(2)
	for _, ids := range [][2]ed25519.PrivateKey{{k[0], k[1]}, {k[1], k[0]}} {
		t.Run(map[bool]string{true: "alice decides", false: "bob decides"}[ids[0].Equal(k[0])], func(t *testing.T) {
			w := newWorld(t)
			lb := listen(t, "127.0.0.1:0")
			baddr := lb.Addr().String()
			lb.Close() // alice's dials are refused until bob is up
			// alice's third dial waits until bob has connected.
			dial := &countingDial{w: w, gate: make(chan struct{}), gateAfter: 2}
			alice := w.newNode(ids[0], "alice", nil, baddr)
			alice.sw.Dial = dial.dial
			alice.start()
			w.waitFor("alice's third dial", func() bool { return dial.calls >= 3 })
			bob := w.newNode(ids[1], "bob", listen(t, baddr), alice.sw.Listener.Addr().String()).start()
			w.waitFor("bob connected to alice", func() bool { return same(alice, bob) })
			close(dial.gate)
			w.waitFor("alice's redial refused", func() bool { return w.logged("inbound connection refused") })
			w.mu.Lock()
			if got, want := append(alice.kinds(ids[1]), bob.kinds(ids[0])...), []EventKind{Connected, Connected}; !slices.Equal(got, want) {
				t.Errorf("alice's events %v, bob's %v; want one Connected each", alice.events, bob.events)
			}
			if c := alice.active[id(ids[1])]; c == nil || c.Dialed {
				t.Errorf("alice serves %v, want the connection bob dialled", c)
			}
			w.mu.Unlock()
		})
	}
}

// TestRestartReconnects: alice names bob by NAME; bob names nobody. When
// bob restarts on the same port, alice resolves bob.local again and
// reconnects, with the events in order.
func TestRestartReconnects(t *testing.T) {
	// Either may decide: the lower key does.
	k := testKeys(2)
	t.Run("alice decides", func(t *testing.T) { testRestartReconnects(t, k[0], k[1]) })
	t.Run("bob decides", func(t *testing.T) { testRestartReconnects(t, k[1], k[0]) })
}

func testRestartReconnects(t *testing.T, aliceID, bobID ed25519.PrivateKey) {
	w := newWorld(t)
	lb := listen(t, "127.0.0.1:0")
	port := uint16(lb.Addr().(*net.TCPAddr).Port)
	res := &fakeResolver{w: w}
	alice := w.newNode(aliceID, "alice", nil, "bob")
	alice.sw.Resolver = res
	alice.sw.port = func(name string) uint16 {
		if name != "bob" {
			t.Errorf("port asked for %q, want bob", name)
		}
		return port
	}
	alice.start()
	bob := w.newNode(bobID, "bob", lb).start()
	w.waitFor("alice and bob linked", func() bool { return same(alice, bob) })

	bob.stop()
	w.waitFor("alice sees bob disconnected", func() bool { return len(alice.kinds(bobID)) == 2 })
	bob = w.newNode(bobID, "bob", listen(t, lb.Addr().String())).start()
	w.waitFor("alice and bob linked again", func() bool { return same(alice, bob) })

	w.mu.Lock()
	if got, want := alice.kinds(bobID), []EventKind{Connected, Disconnected, Connected}; !slices.Equal(got, want) {
		t.Errorf("alice's events for bob: got %v, want %v", got, want)
	}
	for _, e := range alice.events {
		if e.Kind == Connected && (e.Peer.Name != "bob" || !e.Peer.Key.Equal(pubKey(bobID)) || !e.Dialed || e.Target != "bob" || e.Addr.String() != lb.Addr().String()) {
			t.Errorf("alice's Connected event %+v: want peer bob with bob's key, dialled for target bob, at %v", e, lb.Addr())
		}
	}
	if len(res.asked) < 2 || slices.ContainsFunc(res.asked, func(h string) bool { return h != "bob.local" }) {
		t.Errorf("resolver asked for %q, want bob.local at least twice", res.asked)
	}
	w.mu.Unlock()
	alice.stop()
	alice.checkAlternation(t)
}

// TestUnnamedInboundNotRedialled: bob dials alice, who names nobody;
// alice serves bob and, once bob is gone, never dials him.
func TestUnnamedInboundNotRedialled(t *testing.T) {
	w := newWorld(t)
	k := testKeys(2)
	dial := &countingDial{w: w}
	alice := w.newNode(k[0], "alice", nil)
	alice.sw.Dial = dial.dial
	alice.start()
	bob := w.newNode(k[1], "bob", nil, alice.sw.Listener.Addr().String()).start()
	w.waitFor("alice and bob connected", func() bool { return same(alice, bob) })
	bob.stop()
	w.waitFor("alice sees bob disconnected", func() bool { return len(alice.kinds(k[1])) == 2 })
	alice.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if dial.calls != 0 {
		t.Errorf("alice dialled %d times, want 0", dial.calls)
	}
	e := alice.events[1]
	if e.Kind != Connected || e.Dialed || e.Target != "" || !e.Peer.Key.Equal(pubKey(k[1])) || e.Peer.Name != "bob" || e.Peer.Addr != bob.sw.Listener.Addr().String() {
		t.Errorf("alice's first peer event: got %+v, want Connected, not dialled, from bob", e)
	}
}

// TestHandshakeRejected sends bad handshakes to a swarm over plain TCP:
// each connection must be closed (at once, or after HandshakeTimeout for
// a silent peer) and never reach the Handler.
func TestHandshakeRejected(t *testing.T) {
	w := newWorld(t)
	const timeout = time.Second
	alice := w.newNode(testKeys(1)[0], "alice", nil)
	alice.sw.HandshakeTimeout = timeout
	alice.start()
	addr := alice.sw.Listener.Addr().String()
	v1Hello := frame(1, []byte("\x02id\x05alice\x00"))
	tests := []struct {
		name   string
		send   []byte
		slow   bool   // closed only by the handshake timeout
		answer []byte // what alice answers before she closes
		logged string
	}{
		{"garbage", []byte("\x00\x01\x02garbage garbage garbage"), false, nil, "first byte 0x00 is not a TLS handshake record"},
		{"http", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false, nil, "first byte 0x47 is not a TLS handshake record"},
		{"version 1 Hello", v1Hello, false, frame(2, nil), "peer speaks scuttle-topology version 1 in plaintext, this is version 2 over TLS (an older scuttle)"},
		{"version 1 oversize body", append(frame(1, nil)[:helloHeaderSize-2], 0xff, 0xff), false, nil, "version 1 Hello with a body of 65535 bytes, max 1024"},
		{"version 1 wrong name", append([]byte{16}, "scuttle-topologx\x00\x01\x00\x00"...), false, nil, `scuttle-topologx`},
		{"silent", nil, true, nil, "reading the first byte"},
		{"half a version 1 header", v1Hello[:8], true, nil, "i/o timeout"},
		{"half a TLS record", []byte{tlsRecordHandshake, 3, 1, 0}, true, nil, "TLS handshake failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			if _, err := c.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(waitTimeout))
			reply, err := io.ReadAll(c)
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("reading until alice closes: %v", err)
			}
			// The timeout runs from alice's accept, a little after start.
			if elapsed := time.Since(start); tt.slow != (elapsed >= timeout/2) {
				t.Errorf("closed after %v; want closed %s the %v handshake timeout", elapsed, map[bool]string{true: "by", false: "well before"}[tt.slow], timeout)
			}
			if !bytes.Equal(reply, tt.answer) {
				t.Errorf("reply: got %q, want %q", reply, tt.answer)
			}
			w.waitFor("log line "+tt.logged, func() bool { return w.logged(tt.logged) })
		})
	}
	alice.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(alice.events) != 1 {
		t.Errorf("alice's events: got %v, want only Listening", alice.events)
	}
}

// TestDialSelf: a swarm that names its own address gives up on it.
func TestDialSelf(t *testing.T) {
	w := newWorld(t)
	dial := &countingDial{w: w}
	ln := listen(t, "127.0.0.1:0")
	alice := w.newNode(testKeys(1)[0], "alice", ln, ln.Addr().String())
	alice.sw.Dial = dial.dial
	alice.start()
	w.waitFor("alice gives up on herself", func() bool { return w.logged("not redialling it") })
	alice.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if dial.calls != 1 || len(alice.events) != 1 {
		t.Errorf("got %d dials and events %v; want 1 dial and only Listening", dial.calls, alice.events)
	}
}

// TestPipe runs two swarms over net.Pipe, which has no buffer: the
// handshake must not need one.
func TestPipe(t *testing.T) {
	w := newWorld(t)
	k := testKeys(2)
	for _, order := range [][2]ed25519.PrivateKey{{k[0], k[1]}, {k[1], k[0]}} {
		pa, pb := newPipeListener(), newPipeListener()
		alice := w.newNode(order[0], "alice", pa, "bob.example:1")
		alice.sw.Dial = pb.Dial
		bob := w.newNode(order[1], "bob", pb)
		alice.start()
		bob.start()
		w.waitFor("alice and bob connected over a pipe", func() bool {
			return alice.active[id(order[1])] != nil && bob.active[id(order[0])] != nil
		})
		w.mu.Lock()
		if got := bob.active[id(order[0])].Peer; !got.Key.Equal(pubKey(order[0])) || got.Name != "alice" || got.Addr != "pipe" {
			t.Errorf("bob sees %+v, want alice", got)
		}
		w.mu.Unlock()
		alice.stop()
		bob.stop()
	}
}

// TestCancelLeavesNothing: cancelling a mesh with live connections, a
// pending dial and a half-done handshake ends every goroutine by the time
// Run returns.
func TestCancelLeavesNothing(t *testing.T) {
	w := newWorld(t)
	k := testKeys(2)
	la, lb := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	dead := listen(t, "127.0.0.1:0") // accepts nothing: a handshake that hangs
	a := w.newNode(k[0], "alice", la, lb.Addr().String(), dead.Addr().String())
	b := w.newNode(k[1], "bob", lb, la.Addr().String())
	a.start()
	b.start()
	w.waitFor("alice and bob linked", func() bool { return same(a, b) })
	half, err := net.Dial("tcp", la.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	a.stop()
	b.stop()
	w.leaks.Verify()
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := a.events[len(a.events)-1]; e.Kind != Disconnected || !e.Peer.Key.Equal(pubKey(k[1])) || !errors.Is(e.Err, context.Canceled) {
		t.Errorf("alice's last event: got %v, want Disconnected from bob with reason context.Canceled", e)
	}
}

func TestListenInUse(t *testing.T) {
	busy := listen(t, "127.0.0.1:0")
	defer busy.Close()
	called := false
	sw := &Swarm{Key: testKeys(1)[0], ListenAddr: busy.Addr().String(), Events: func(Event) { called = true }}
	err := sw.Run(t.Context())
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Errorf("got %v, want EADDRINUSE naming %v", err, busy.Addr())
	}
	if called {
		t.Error("an event was emitted before the listen error")
	}
	if _, err := Listen(t.Context(), busy.Addr().String()); !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Errorf("Listen: got %v, want EADDRINUSE naming %v", err, busy.Addr())
	}
}

func TestConfigErrors(t *testing.T) {
	k := testKeys(1)[0]
	bad := slices.Clone(k)
	bad[40] ^= 1 // the public half no longer matches the seed
	tests := []struct {
		name string
		sw   *Swarm
		want string
	}{
		{"no key", &Swarm{}, "Swarm.Key is 0 bytes, want an ed25519 private key of 64"},
		{"seed only", &Swarm{Key: k.Seed()}, "Swarm.Key is 32 bytes"},
		{"inconsistent key", &Swarm{Key: bad}, "does not match its seed"},
		{"short network key", &Swarm{Key: k, NetworkKey: make([]byte, 31)}, "Swarm.NetworkKey is 31 bytes, want 32 (or nil for the public network)"},
		{"empty network key", &Swarm{Key: k, NetworkKey: []byte{}}, "Swarm.NetworkKey is 0 bytes"},
		{"long name", &Swarm{Key: k, Name: strings.Repeat("n", 256)}, "Swarm.Name is 256 bytes, max 255"},
		{"name without resolver", &Swarm{Key: k, Peers: []string{"bob"}}, `peer "bob" is a NAME, which needs a Resolver`},
		{"empty peer", &Swarm{Key: k, Peers: []string{""}}, "empty peer"},
		{"no port", &Swarm{Key: k, Peers: []string{"10.0.0.7:"}}, "port in 1-65535"},
		{"no host", &Swarm{Key: k, Peers: []string{":4000"}}, "with a host"},
		{"port 0", &Swarm{Key: k, Peers: []string{"h:0"}}, "port in 1-65535"},
		{"bare ipv6", &Swarm{Key: k, Peers: []string{"::1:4000"}}, "too many colons"},
		{"space", &Swarm{Key: k, Resolver: &fakeResolver{}, Peers: []string{"bob smith"}}, "no dots, spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sw.Run(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "topology: ") {
				t.Errorf("got %v, want a topology error containing %q", err, tt.want)
			}
		})
	}
}

func TestClose(t *testing.T) {
	k := testKeys(2)
	t.Run("before Run", func(t *testing.T) {
		sw := &Swarm{Key: k[0], ListenAddr: "127.0.0.1:0"}
		if err := sw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := sw.Run(t.Context()); !errors.Is(err, ErrClosed) {
			t.Errorf("Run after Close: got %v, want ErrClosed", err)
		}
	})
	t.Run("while running, twice", func(t *testing.T) {
		w := newWorld(t)
		a := w.newNode(k[0], "alice", nil)
		b := w.newNode(k[1], "bob", nil, a.sw.Listener.Addr().String())
		a.start()
		b.start()
		w.waitFor("alice and bob connected", func() bool { return same(a, b) })
		if err := b.sw.Close(); err != nil {
			t.Fatal(err)
		}
		w.mu.Lock()
		if got, want := b.kinds(k[0]), []EventKind{Connected, Disconnected}; !slices.Equal(got, want) {
			t.Errorf("bob's events when Close returned: got %v, want %v", got, want)
		}
		w.mu.Unlock()
		select {
		case err := <-b.runErr:
			if err != nil {
				t.Errorf("Run after Close: got %v, want nil", err)
			}
		case <-time.After(waitTimeout):
			t.Fatal("Run did not return after Close")
		}
		b.cancel = nil
		if err := b.sw.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := b.sw.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "Run called twice") {
			t.Errorf("Run after Run: got %v, want an error", err)
		}
		w.waitFor("alice sees bob go", func() bool { return len(a.kinds(k[1])) == 2 })
		w.mu.Lock()
		defer w.mu.Unlock()
		if e := b.events[len(b.events)-1]; e.Kind != Disconnected || !errors.Is(e.Err, ErrClosed) {
			t.Errorf("bob's last event: got %v, want Disconnected with ErrClosed", e)
		}
	})
}

// TestAcceptErrors: the accept loop retries after errors such as
// EMFILE, and a listener closed under the swarm ends Run with an error
// naming it.
func TestAcceptErrors(t *testing.T) {
	w := newWorld(t)
	k := testKeys(2)
	ln := &flakyListener{pipeListener: newPipeListener(), fails: 3}
	a := w.newNode(k[0], "alice", ln).start()
	w.waitFor("three retries logged", func() bool { return strings.Count(w.logs.String(), "accept failed; retrying") == 3 })
	b := w.newNode(k[1], "bob", nil, "alice.example:1")
	b.sw.Dial = ln.Dial
	b.start()
	w.waitFor("bob connected to alice after the errors", func() bool { return a.active[id(k[1])] != nil && b.active[id(k[0])] != nil })

	ln.Close()
	select {
	case err := <-a.runErr:
		if err == nil || !errors.Is(err, net.ErrClosed) || !strings.Contains(err.Error(), "accept on pipe") {
			t.Errorf("Run after its listener closed: got %v, want an error naming the listener", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after its listener closed")
	}
	a.cancel = nil
}

func TestBackoff(t *testing.T) {
	sw := &Swarm{}
	tests := []struct {
		fails    int
		min, max time.Duration
	}{
		{0, 50 * time.Millisecond, 100 * time.Millisecond},
		{1, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 400 * time.Millisecond, 800 * time.Millisecond},
		{5, 1600 * time.Millisecond, 3200 * time.Millisecond},
		{6, 2500 * time.Millisecond, 5 * time.Second},
		{maxFails, 2500 * time.Millisecond, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.fails), func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 100 {
				d := sw.backoff(tt.fails)
				if d < tt.min || d > tt.max {
					t.Fatalf("backoff(%d) = %v, want in [%v, %v]", tt.fails, d, tt.min, tt.max)
				}
				seen[d] = true
			}
			if len(seen) < 10 {
				t.Errorf("backoff(%d): %d distinct values in 100, want jitter", tt.fails, len(seen))
			}
		})
	}
}
