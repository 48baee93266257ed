package topology

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Defaults for the zero values of Swarm's fields.
const (
	defaultHandshakeTimeout = 5 * time.Second
	defaultDialTimeout      = 5 * time.Second
	// portWait is how long a NAME peer's dial waits, once its addresses
	// are known, for a PortResolver's port (a peer without an SRV record
	// gives none: it is dialled at HashToPort(NAME) after this).
	portWait          = 250 * time.Millisecond
	defaultMinBackoff = 100 * time.Millisecond
	defaultMaxBackoff = 5 * time.Second
	// defaultMaxConns is MaxConns's default: room for a large workshop,
	// and a bound on what connections from strangers cost (doc.go).
	defaultMaxConns = 128
)

// keepAlive makes the kernel notice a peer that vanished without closing
// (a crashed machine, a changed address) within about 20 s, so that the
// connection slot of that peer frees up for its next connection; once a
// connection is registered, its idle time grows with the connections
// the swarm holds (paceKeepAlives).
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 5 * time.Second, Count: 3}

// A Resolver looks up the addresses of a host name. *net.Resolver
// satisfies it, and so does the mdns package's resolver for NAME.local.
type Resolver interface {
	LookupHost(ctx context.Context, host string) (addrs []string, err error)
}

// A PortResolver is a Resolver that also finds the TCP port a NAME peer
// listens on (the chat: from the peer's DNS-SD SRV record). When
// Swarm.Resolver is one, a NAME peer is dialled at the port it gives,
// else, or when it gives none within portWait of the addresses, at
// HashToPort(NAME).
type PortResolver interface {
	Resolver
	LookupPort(ctx context.Context, name string) (uint16, error)
}

// ProtocolVersion is the version of the handshake this package speaks,
// for advertising (the chat's DNS-SD TXT record says v=ProtocolVersion).
const ProtocolVersion = protoVersion

// A Swarm keeps one connection to every peer it names and serves every
// peer that connects to it. Set the fields, then call Run once; the
// fields must not change after that. The zero value of every field but
// Key is usable.
type Swarm struct {
	// Key is this side's identity (the chat passes its log's key).
	// Required. Run makes a self-signed TLS certificate of it; peers know
	// this side by its public half. It decides which connection wins
	// when two peers dial each other at once, and a connection whose
	// remote proves the same key is closed.
	Key ed25519.PrivateKey
	// NetworkKey, if set, makes this swarm a member of the private
	// network of that key: it must be NetworkKeySize (32) bytes, and
	// only peers that prove they hold the same key are connected. nil
	// means the public default network, which no keyed peer is in. The
	// key is never sent, only MACs made with it.
	NetworkKey []byte
	// Name is this side's chat name, told to peers in the handshake.
	Name string
	// ListenAddr is the TCP address to listen on; empty means
	// ":<HashToPort(Name)>". Ignored if Listener is set.
	ListenAddr string
	// Listener, if set, is used instead of listening on ListenAddr. Run
	// closes it when it returns.
	Listener net.Listener
	// Peers to keep a connection to, each either NAME (dial NAME.local,
	// resolved by Resolver, on port HashToPort(NAME)) or HOST:PORT (dial
	// directly; an IPv6 host in brackets, "[::1]:4000").
	Peers []string
	// Resolver resolves NAME.local for NAME peers; required if Peers holds
	// a NAME. It is asked again before every dial, since a peer may come
	// back with a new address.
	Resolver Resolver
	// Dial opens a connection; nil means a net.Dialer with TCP keep-alive.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Authorize, if set, is asked about every peer once it has proven
	// its key and its membership of the network and sent its Hello, and
	// before the connection is registered, handed to the Handler or
	// reported by an event, in either direction. A non-nil error
	// refuses the connection: it is closed, the peer is told, and a dial
	// loop backs off as after a failure. The chat refuses there a key
	// that is not the one bound to the peer's claimed name or to the
	// NAME it dialled. It is called from the connection's goroutine,
	// possibly for several connections at once, and must return well
	// within HandshakeTimeout, which counts the time it takes (the chat
	// may wait up to 2 s there for the dial of a NAME of its Peers).
	Authorize func(p Peer, c ConnInfo) error
	// Handler serves one established connection. It must return soon
	// after ctx ends; the connection is closed when ctx ends and when the
	// Handler returns. Its error is the reason of the Disconnected event.
	// nil means a Handler that reads and discards until the connection
	// ends.
	Handler func(ctx context.Context, c *Conn) error
	// Events, if set, is called for each Event, one call at a time (never
	// concurrently), from the goroutine of the connection concerned. For
	// one peer key, Connected and Disconnected alternate, starting with
	// Connected; Listening comes first of all. The Swarm waits for the
	// call, so it must return quickly and must not call Close.
	Events func(Event)
	// Logger receives diagnostics: rejected handshakes, dial failures,
	// accept errors. nil discards them.
	Logger *slog.Logger
	// HandshakeTimeout bounds a connection's handshake, from TCP
	// connect or accept to the verdict; zero means 5 s.
	HandshakeTimeout time.Duration
	// MaxConns bounds the peers connected at once (those past their
	// TLS handshake and network proofs); zero means 128. A peer over the
	// bound is refused before Authorize is asked, both sides are told,
	// and its dial loop backs off. A peer of Peers (dialled for an entry
	// of Peers, or holding the key that entry's dial found last) is never
	// refused for it, so peers nobody named cannot keep out those the
	// user named: the peers connected never number more than MaxConns
	// plus len(Peers).
	MaxConns int

	// Test hooks: the port of a NAME peer (nil: HashToPort) and the
	// redial backoff bounds (zero: 100 ms and 5 s).
	port                   func(name string) uint16
	minBackoff, maxBackoff time.Duration

	mu       sync.Mutex
	started  bool
	closed   bool
	stop     context.CancelCauseFunc       // cancels the Run context; set while running
	done     chan struct{}                 // closed when Run has returned
	conns    map[string]*peerConn          // by string(remote key); guarded by mu
	inflight map[string][]*peerConn        // follower: reported, verdict not yet read; guarded by mu
	keepIdle time.Duration                 // the registered connections' keep-alive idle time (paceKeepAlives); guarded by mu
	seq      uint64                        // last verdict sequence given; guarded by mu
	runCtx   context.Context               // Run's context, for AddPeer; guarded by mu
	waiting  bool                          // Run waits for its goroutines: no AddPeer; guarded by mu
	added    map[string]context.CancelFunc // AddPeer's dial loops, by spec (nil: queued); guarded by mu
	queued   []*target                     // added before Run listened; guarded by mu
	slots    map[string]int                // connections past the proofs, by string(remote key); guarded by mu
	named    map[*target]string            // Peers entry → string(key) its dial found last; guarded by mu
	peers    map[string]*target            // Peers entries' targets by spec, for Redial; set by Run

	evMu       sync.Mutex // serializes Events calls
	wg         sync.WaitGroup
	pub        ed25519.PublicKey // Key's public half
	netKey     []byte            // NetworkKey or publicNetworkKey
	serverConf *tls.Config       // for accepted connections
	clientConf *tls.Config       // for dialled connections
	self       hello             // our Hello
	log        *slog.Logger      // Logger or a discarding one
	pending    pendingTable      // inbound connections in their handshake
}

// Listen listens on the TCP address addr as Run does when Listener is
// not set (with the swarm's TCP keep-alives on accepted connections). A
// program listens first, to fail on a port in use before it announces
// anything, and gives the listener to Swarm.Listener.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAliveConfig: keepAlive}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("topology: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Run listens, dials every peer and serves connections until ctx ends or
// Close is called; then it closes every connection and returns once every
// goroutine it started has ended. It returns nil after such a shutdown.
//
// A bad configuration or a failed listen (for example "address already
// in use") is returned at once, naming the address, before any event or
// connection. Run may be called only once, and closes Listener, if set,
// whenever it returns.
func (s *Swarm) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("topology: Run called twice")
	}
	s.started = true
	targets, err := s.targets()
	if err == nil {
		err = s.setup()
	}
	if err == nil && s.closed {
		err = ErrClosed
	}
	if err != nil {
		s.mu.Unlock()
		if s.Listener != nil {
			s.Listener.Close()
		}
		return err
	}
	ln := s.Listener
	if ln == nil {
		addr := s.ListenAddr
		if addr == "" {
			addr = ":" + strconv.Itoa(int(HashToPort(s.Name)))
		}
		if ln, err = Listen(ctx, addr); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	ctx, stop := context.WithCancelCause(ctx)
	s.stop, s.done = stop, make(chan struct{})
	s.conns = make(map[string]*peerConn)
	s.inflight = make(map[string][]*peerConn)
	s.named = make(map[*target]string)
	s.peers = make(map[string]*target, len(targets))
	for _, t := range targets {
		s.peers[t.spec] = t
	}
	s.runCtx = ctx
	for _, t := range s.queued {
		s.startAdded(t.spec, t)
	}
	s.queued = nil
	// Verdict sequences start at the clock, so that those of a restarted
	// swarm are higher than its previous run's.
	s.seq = uint64(time.Now().UnixNano())
	s.mu.Unlock()
	defer close(s.done)
	defer stop(nil)

	s.log = s.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.self = hello{name: s.Name, addr: ln.Addr().String()}

	// Closing the listener is what ends the accept loop.
	lnClosed := make(chan struct{})
	stopLn := context.AfterFunc(ctx, func() { ln.Close(); close(lnClosed) })

	s.emit(Event{Kind: Listening, Addr: ln.Addr()})
	for _, t := range targets {
		s.wg.Go(func() { s.dialLoop(ctx, t) })
	}
	err = s.acceptLoop(ctx, ln)
	stop(err) // a broken listener ends the whole swarm
	if !stopLn() {
		<-lnClosed
	}
	s.mu.Lock()
	s.waiting = true // no AddPeer from here on
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// AddPeer adds a peer, NAME or HOST:PORT as in Peers, to the Swarm: it
// is dialled and redialled like those of Peers until RemovePeer or the
// end of Run (the chat adds the peers it discovers). Added before Run
// has started listening, it is dialled from then on. Adding a peer again
// does nothing. It fails with ErrClosed once Run is ending or Close was
// called.
func (s *Swarm) AddPeer(p string) error {
	t, err := parsePeer(p)
	if err != nil {
		return err
	}
	if t.name != "" && s.Resolver == nil {
		return fmt.Errorf("topology: peer %q is a NAME, which needs a Resolver (or give it as HOST:PORT)", p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.waiting || s.runCtx != nil && s.runCtx.Err() != nil {
		return ErrClosed
	}
	if _, ok := s.added[p]; ok {
		return nil
	}
	if s.added == nil {
		s.added = make(map[string]context.CancelFunc)
	}
	if s.runCtx == nil {
		s.added[p] = nil // Run starts its dial loop (startAdded)
		s.queued = append(s.queued, t)
		return nil
	}
	s.startAdded(p, t)
	return nil
}

// startAdded starts the dial loop of an added peer; the caller holds
// s.mu and s.runCtx is set.
func (s *Swarm) startAdded(p string, t *target) {
	ctx, cancel := context.WithCancel(s.runCtx)
	s.added[p] = cancel
	s.wg.Go(func() { s.dialLoop(ctx, t) })
}

// RemovePeer stops dialling a peer that AddPeer added, and closes the
// connection its dial loop made, if any (one the peer dialled stays).
func (s *Swarm) RemovePeer(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cancel, ok := s.added[p]; ok {
		if cancel != nil {
			cancel()
		}
		delete(s.added, p)
		s.queued = slices.DeleteFunc(s.queued, func(t *target) bool { return t.spec == p })
	}
}

// Close stops a running Run and waits until it has returned. Closing
// before Run makes Run return ErrClosed; closing again does nothing. It
// must not be called from Handler or Events (it would wait for itself);
// they may cancel the Run context instead.
func (s *Swarm) Close() error {
	s.mu.Lock()
	s.closed = true
	stop, done := s.stop, s.done
	s.mu.Unlock()
	if stop != nil {
		stop(ErrClosed)
		<-done
	}
	return nil
}

// setup checks the keys and makes the TLS configurations.
func (s *Swarm) setup() error {
	if len(s.Key) != ed25519.PrivateKeySize {
		return fmt.Errorf("topology: Swarm.Key is %d bytes, want an ed25519 private key of %d", len(s.Key), ed25519.PrivateKeySize)
	}
	s.pub = pubKey(s.Key)
	if !ed25519.NewKeyFromSeed(s.Key.Seed()).Equal(s.Key) {
		return errors.New("topology: Swarm.Key: its public half does not match its seed")
	}
	switch {
	case s.NetworkKey == nil:
		s.netKey = []byte(publicNetworkKey)
	case len(s.NetworkKey) != NetworkKeySize:
		return fmt.Errorf("topology: Swarm.NetworkKey is %d bytes, want %d (or nil for the public network)", len(s.NetworkKey), NetworkKeySize)
	default:
		s.netKey = bytes.Clone(s.NetworkKey)
	}
	cert, err := newCertificate(s.Key)
	if err != nil {
		return err
	}
	s.serverConf, s.clientConf = tlsConfig(cert, true), tlsConfig(cert, false)
	return nil
}

// targets validates the configuration and parses Peers.
func (s *Swarm) targets() ([]*target, error) {
	if len(s.Name) > maxField {
		return nil, fmt.Errorf("topology: Swarm.Name is %d bytes, max %d", len(s.Name), maxField)
	}
	ts := make([]*target, 0, len(s.Peers))
	for _, p := range s.Peers {
		t, err := parsePeer(p)
		if err != nil {
			return nil, err
		}
		if t.name != "" && s.Resolver == nil {
			return nil, fmt.Errorf("topology: peer %q is a NAME, which needs a Resolver (or give it as HOST:PORT)", p)
		}
		t.named = true
		ts = append(ts, t)
	}
	return ts, nil
}

// acceptLoop accepts connections until ln is closed. It backs off on
// errors such as "too many open files" (5 ms doubling to 1 s) and returns
// nil when the swarm is shutting down, an error if ln closed otherwise.
func (s *Swarm) acceptLoop(ctx context.Context, ln net.Listener) error {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("topology: accept on %v: %w", ln.Addr(), err)
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("topology: accept failed; retrying", "addr", ln.Addr(), "err", err, "in", delay)
			if !sleep(ctx, delay, nil) {
				return nil
			}
			continue
		}
		delay = 0
		slot := s.admitPending(nc)
		if slot == nil {
			continue
		}
		s.wg.Go(func() {
			out := s.connect(ctx, nc, ConnInfo{}, nil, func() { s.pending.done(slot) })
			switch {
			case out.served || ctx.Err() != nil:
			case errors.Is(out.err, errDuplicate) || errors.Is(out.err, errFull):
				s.log.Debug("topology: inbound connection refused", "remote", nc.RemoteAddr(), "peer", out.peer.Name, "key", keyString(out.peer.Key), "err", out.err)
			default:
				s.log.Info("topology: inbound connection rejected", "remote", nc.RemoteAddr(), "peer", out.peer.Name, "key", keyString(out.peer.Key), "err", out.err)
			}
		})
	}
}

// admitPending takes a handshake slot for the accepted connection nc
// (pendingTable.add), closing nc or the connection evicted for it, and
// logging, at most once per pendingLogEvery, what was closed. It returns
// nil if nc was closed.
func (s *Swarm) admitPending(nc net.Conn) *pendingConn {
	slot, evicted, why, log, n := s.pending.add(nc, time.Now())
	if evicted != nil {
		evicted.Close() // its handshake fails, and its goroutine ends
	}
	if slot == nil {
		nc.Close()
	}
	if log {
		s.log.Warn("topology: "+why+"; closing connection", "remote", nc.RemoteAddr(), "closed", n,
			"max", maxPendingHandshakes, "max per address", maxPendingPerSource)
	}
	return slot
}

// emit calls Events with e, one call at a time.
func (s *Swarm) emit(e Event) {
	if s.Events == nil {
		return
	}
	s.evMu.Lock()
	defer s.evMu.Unlock()
	s.Events(e)
}

// sleep waits for d, or until wake (nil: never) or ctx ends; it reports
// whether ctx is still live.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-wake:
		return true
	case <-ctx.Done():
		return false
	}
}
