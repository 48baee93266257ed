package topology

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// idleStranger holds idle TCP connections to addr, each from a local
// address src picks, and redials each one the moment it is closed: no
// TLS, no key, not a byte sent. It is what item 6 of issue 19 describes.
type idleStranger struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// holdIdle starts n idle sockets to addr; the i'th comes from src(i).
func holdIdle(t *testing.T, addr string, n int, src func(i int) string) *idleStranger {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &idleStranger{cancel: cancel}
	for i := range n {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src(i))}}
		s.wg.Go(func() {
			for ctx.Err() == nil {
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					continue
				}
				stop := context.AfterFunc(ctx, func() { c.Close() })
				c.Read(make([]byte, 1)) // until alice closes it
				stop()
				c.Close()
			}
		})
	}
	t.Cleanup(s.stop)
	return s
}

func (s *idleStranger) stop() { s.cancel(); s.wg.Wait() }

// fromAddr makes n dial from the loopback address ip, as a peer on
// another host would.
func fromAddr(n *node, ip string) *node {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, KeepAliveConfig: keepAlive}
	n.sw.Dial = d.DialContext
	return n
}

// TestIdleSockets: a stranger on one host that holds maxPendingHandshakes
// idle TCP connections to alice, and redials those she closes, does not
// keep bob, on another host, from connecting, in a private network too;
// nor does a stranger that spreads one idle socket over each of more
// addresses than alice has handshake slots. The handshake deadline is
// long here, so that only the slots per source can let bob in.
func TestIdleSockets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sockets int
		src     func(i int) string
	}{
		{"one host", maxPendingHandshakes + 1, func(int) string { return "127.0.0.1" }},
		{"one socket from each of many addresses", maxPendingHandshakes + 8, func(i int) string { return fmt.Sprintf("127.0.1.%d", i+1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := testKeys(2)
			netKey := make([]byte, NetworkKeySize)
			w := newWorld(t)
			alice := w.newNode(k[0], "alice", nil)
			alice.sw.NetworkKey, alice.sw.HandshakeTimeout = netKey, time.Minute
			alice.start()
			addr := alice.sw.Listener.Addr().String()
			holdIdle(t, addr, tc.sockets, tc.src)
			w.waitFor("alice's handshake slots full", func() bool { return w.logged("too many handshakes") })

			start := time.Now()
			bob := fromAddr(w.newNode(k[1], "bob", nil, addr), "127.0.0.2")
			bob.sw.NetworkKey = netKey
			bob.start()
			w.waitFor("bob connects despite the idle sockets", func() bool { return same(alice, bob) })
			t.Logf("bob connected in %v with %d idle sockets held", time.Since(start), tc.sockets)
		})
	}
}

// TestConnectionCap: once defaultMaxConns peers nobody named are
// connected to alice, the next such peer is refused after its handshake,
// and alice says so; bob, whom alice names in her Peers, still connects.
// Every stranger is a full peer of the network, each from its own
// address, so no other limit refuses it.
func TestConnectionCap(t *testing.T) {
	k := testKeys(defaultMaxConns + 3)
	w := newWorld(t)
	bobLn := listen(t, "127.0.0.1:0")
	alice := w.newNode(k[0], "alice", nil, bobLn.Addr().String())
	alice.start()
	addr := alice.sw.Listener.Addr().String()
	stranger := func(i int) *node {
		return fromAddr(w.newNode(k[i+2], fmt.Sprintf("stranger%d", i), nil, addr), fmt.Sprintf("127.0.2.%d", i+1)).start()
	}
	for i := range defaultMaxConns {
		stranger(i)
	}
	w.waitFor("alice full of strangers", func() bool { return len(alice.active) == defaultMaxConns })

	one := stranger(defaultMaxConns)
	w.waitFor("alice refuses one more stranger", func() bool { return w.logged("too many peers connected") })
	bob := w.newNode(k[1], "bob", bobLn).start()
	w.waitFor("bob, named, connects", func() bool { return same(alice, bob) })
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := alice.active[id(one.sw.Key)]; c != nil {
		t.Errorf("alice serves stranger %d past the cap of %d", defaultMaxConns, defaultMaxConns)
	}
	if n := len(alice.active); n != defaultMaxConns+1 {
		t.Errorf("alice serves %d peers, want %d strangers and bob", n, defaultMaxConns+1)
	}
}
