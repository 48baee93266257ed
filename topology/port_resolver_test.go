package topology

import (
	"context"
	"errors"
	"net"
	"testing"
)

// portResolver is a fakeResolver that is a PortResolver too: it gives
// port for every name, or fails (a peer without an SRV record) when
// port is 0, after block is closed if it is set.
type portResolver struct {
	fakeResolver
	port  uint16
	block chan struct{}
}

func (r *portResolver) LookupPort(ctx context.Context, name string) (uint16, error) {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if r.port == 0 {
		return 0, errors.New("no SRV record")
	}
	return r.port, nil
}

// TestPortResolver: a NAME peer is dialled at the port a PortResolver
// gives; with none, or none within portWait, at the name's port.
func TestPortResolver(t *testing.T) {
	tests := []struct {
		name     string
		srvPort  bool // the resolver gives bob's real port
		slow     bool // ... but only after portWait
		namePort bool // the name's port (the test hook) is bob's real port
	}{
		{"SRV port", true, false, false},
		{"no SRV: the name's port", false, false, true},
		{"SRV too slow: the name's port", true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			lb := listen(t, "127.0.0.1:0")
			port := uint16(lb.Addr().(*net.TCPAddr).Port)
			res := &portResolver{fakeResolver: fakeResolver{w: w}}
			if tt.srvPort {
				res.port = port
			}
			if tt.slow {
				res.block = make(chan struct{})
				defer close(res.block)
			}
			k := testKeys(2)
			alice := w.newNode(k[0], "alice", nil, "bob")
			alice.sw.Resolver = res
			alice.sw.port = func(string) uint16 {
				if tt.namePort {
					return port
				}
				return 1 // nothing listens there
			}
			alice.start()
			bob := w.newNode(k[1], "bob", lb).start()
			w.waitFor("alice and bob linked", func() bool { return same(alice, bob) })
			alice.stop()
			bob.stop()
		})
	}
}

// TestAddRemovePeer: a peer added before Run is dialled once Run
// listens, one added to a running swarm too; once removed, its
// connection ends and it is not dialled again; adding after Run fails.
func TestAddRemovePeer(t *testing.T) {
	w := newWorld(t)
	dial := &countingDial{w: w}
	k := testKeys(3)
	bob := w.newNode(k[1], "bob", nil).start()
	carol := w.newNode(k[2], "carol", nil).start()
	alice := w.newNode(k[0], "alice", nil)
	alice.sw.Dial = dial.dial
	bobAddr, carolAddr := bob.sw.Listener.Addr().String(), carol.sw.Listener.Addr().String()
	if err := alice.sw.AddPeer(bobAddr); err != nil {
		t.Fatalf("AddPeer before Run: %v", err)
	}
	alice.start()
	w.waitFor("alice and bob linked", func() bool { return same(alice, bob) })
	for range 2 { // the second does nothing
		if err := alice.sw.AddPeer(carolAddr); err != nil {
			t.Fatalf("AddPeer(%s): %v", carolAddr, err)
		}
	}
	w.waitFor("alice and carol linked", func() bool { return same(alice, carol) })
	alice.sw.RemovePeer(carolAddr)
	w.waitFor("alice sees carol disconnected", func() bool { return len(alice.kinds(k[2])) == 2 })
	w.mu.Lock()
	calls := dial.calls
	w.mu.Unlock()
	if calls != 2 {
		t.Errorf("%d dials, want 2 (bob, carol)", calls)
	}
	if err := alice.sw.AddPeer("dave"); err == nil {
		t.Errorf("AddPeer of a NAME without a Resolver: no error")
	}
	alice.stop()
	if err := alice.sw.AddPeer(carolAddr); !errors.Is(err, ErrClosed) {
		t.Errorf("AddPeer after Run = %v, want ErrClosed", err)
	}
	bob.stop()
	carol.stop()
}
