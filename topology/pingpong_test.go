package topology

import (
	"context"
	"crypto/ed25519"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestNoPingPong: two swarms that each name the other twice (four dial
// loops for one pair, all dialling at once) end with one connection that
// stays: no dial loop replaces another's connection, for a minute of
// (fake) time. A new connection replaces an established one only if the
// peer no longer holds the established one; a dial loop whose peer is
// connected waits for that connection to end.
func TestNoPingPong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := testKeys(2)
		pa, pb := newPipeListener(), newPipeListener()
		var mu sync.Mutex
		events := map[string][]Event{}
		dials := 0
		mk := func(key ed25519.PrivateKey, name string, ln *pipeListener, to *pipeListener) *Swarm {
			return &Swarm{
				Key: key, Name: name, Listener: ln,
				Peers: []string{"peer.example:1", "peer.example:2"},
				Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
					mu.Lock()
					dials++
					mu.Unlock()
					return to.Dial(ctx, network, addr)
				},
				Events:     func(e Event) { mu.Lock(); events[name] = append(events[name], e); mu.Unlock() },
				minBackoff: 10 * time.Millisecond,
				maxBackoff: 200 * time.Millisecond,
			}
		}
		a, b := mk(k[0], "alice", pa, pb), mk(k[1], "bob", pb, pa)
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for _, s := range []*Swarm{a, b} {
			wg.Go(func() {
				if err := s.Run(ctx); err != nil {
					t.Errorf("%s: Run: %v", s.Name, err)
				}
			})
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		mu.Lock()
		for _, name := range []string{"alice", "bob"} {
			if es := events[name]; len(es) != 2 || es[1].Kind != Connected {
				t.Errorf("%s's events after a minute: %v, want Listening and one Connected", name, es)
			}
		}
		if dials != 4 {
			t.Errorf("%d dials in a minute, want 4 (one per dial loop)", dials)
		}
		mu.Unlock()
		cancel()
		wg.Wait()
	})
}
