package topology

import (
	"context"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// forgedResolver answers every name with one address, as a stranger's
// forged mDNS A record does.
type forgedResolver struct{ addr string }

func (r forgedResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	return []string{r.addr}, nil
}

// TestNoScuttleBackoff: bob.local resolves (a forged A record) to a
// host where no scuttle listens. The dial loop backs off past its
// usual 5 s cap, and the swarm reports it once, as an Unreachable event
// naming the target and the address. On the code before, the chat
// dialled 10 times in 20 s, silently.
func TestNoScuttleBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			mu     sync.Mutex
			dials  int
			events []Event
		)
		ln := newPipeListener()
		sw := &Swarm{
			Key: testKeys(1)[0], Name: "alice", Listener: ln, Peers: []string{"bob"},
			Resolver: forgedResolver{"10.0.0.9"},
			Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				mu.Lock()
				dials++
				mu.Unlock()
				return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
			},
			Events: func(e Event) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			},
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- sw.Run(ctx) }()
		time.Sleep(20 * time.Second) // fake time: the bubble's clock
		synctest.Wait()
		mu.Lock()
		n := dials
		var unreachable []string
		for _, e := range events {
			if e.Kind != Listening && e.Kind != Connected && e.Kind != Disconnected {
				unreachable = append(unreachable, e.String())
			}
		}
		mu.Unlock()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if n > 4 {
			t.Errorf("%d dials in 20 s of a name that resolves to no scuttle, want at most 4", n)
		}
		want := fmt.Sprintf("unreachable: no scuttle answers at 10.0.0.9:%d, where peer bob resolved", HashToPort("bob"))
		if len(unreachable) != 1 || unreachable[0] != want {
			t.Errorf("events other than connections: %q, want one: %q", unreachable, want)
		}
	})
}

// TestRedial: a dial loop waiting out a long backoff dials at once when
// Redial names its entry of Peers, and only then; Redial of a name that
// is no entry of Peers does nothing.
func TestRedial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		dials := 0
		count := func() int {
			synctest.Wait()
			mu.Lock()
			defer mu.Unlock()
			return dials
		}
		sw := &Swarm{
			Key: testKeys(1)[0], Name: "alice", Listener: newPipeListener(), Peers: []string{"bob"},
			Resolver: forgedResolver{"10.0.0.9"},
			Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				mu.Lock()
				dials++
				mu.Unlock()
				return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
			},
			minBackoff: time.Hour, maxBackoff: time.Hour,
		}
		sw.Redial("bob") // before Run: nothing
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- sw.Run(ctx) }()
		if n := count(); n != 1 {
			t.Fatalf("%d dials at the start, want 1", n)
		}
		sw.Redial("carol")
		if n := count(); n != 1 {
			t.Errorf("%d dials after Redial of no entry of Peers, want 1", n)
		}
		for want := 2; want <= 3; want++ {
			sw.Redial("bob")
			if n := count(); n != want {
				t.Errorf("%d dials after Redial(bob), want %d", n, want)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}
