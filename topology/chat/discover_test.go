package chat

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/mdns"
	"scuttle/topology"
)

// floodBrowser reports made-up instances, then the real ones, as a
// browse on a LAN where a stranger answers with 400 instances would.
type floodBrowser struct{ entries []mdns.ServiceEntry }

func (b floodBrowser) Browse(ctx context.Context, typ string, found func(mdns.ServiceEntry)) error {
	for _, e := range b.entries {
		found(e)
	}
	<-ctx.Done()
	return ctx.Err()
}

func keyID(seed byte) (ed25519.PublicKey, applog.ID) {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	k := ed25519.NewKeyFromSeed(s)
	pub := k.Public().(ed25519.PublicKey)
	return pub, applog.IDOf(pub)
}

// TestDiscoverFlood: 400 made-up instances from one address, sorted
// before the real peer, fill 8 places, not the 256; the real bob is
// dialled, and proven by his key; the made-up ones where no scuttle
// answers are dropped and replaced, 8 at a time. One info line says the
// table is full. (Before, the first 256 took every place: bob was never
// dialled, and nothing was said.)
func TestDiscoverFlood(t *testing.T) {
	spoofer, real := netip.MustParseAddr("10.0.0.66"), netip.MustParseAddr("10.0.0.2")
	var entries []mdns.ServiceEntry
	for i := range 400 {
		_, id := keyID(byte(i%250 + 1))
		entries = append(entries, mdns.ServiceEntry{Instance: fmt.Sprintf("aa%03d", i), TXT: []string{"id=" + string(id)}, Source: spoofer})
	}
	bobKey, bobID := keyID(0)
	entries = append(entries, mdns.ServiceEntry{Instance: "bob", TXT: []string{"id=" + string(bobID)}, Source: real})

	added := make(chan string, 1024)
	removed := make(chan string, 1024)
	var lines []string
	dialled := make(chan topology.Event)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Discoverer(floodBrowser{entries}, "carol", nil, nil, nil)(ctx, Discovering{
			Add:     func(p string) error { added <- p; return nil },
			Remove:  func(p string) { removed <- p },
			Info:    func(l string) { lines = append(lines, l) },
			Dialled: dialled,
		})
	}()
	recv := func(ch chan string) string {
		t.Helper()
		select {
		case p := <-ch:
			return p
		case <-time.After(10 * time.Second):
			t.Fatal("nothing within 10 s")
			return ""
		}
	}
	var first []string
	for range 9 {
		first = append(first, recv(added))
	}
	if first[8] != "bob" {
		t.Fatalf("added %q, want 8 made-up instances and bob", first)
	}
	dialled <- topology.Event{Kind: topology.Connected, Dialed: true, Target: "bob", Peer: topology.Peer{Key: bobKey}}
	// Each made-up one is unreachable: dropped, and another takes its place.
	for _, p := range first[:8] {
		dialled <- topology.Event{Kind: topology.Unreachable, Target: p}
		if r := recv(removed); r != p {
			t.Fatalf("removed %q, want %q", r, p)
		}
		if n := recv(added); n == "bob" || n[:2] != "aa" {
			t.Fatalf("added %q after dropping %q", n, p)
		}
	}
	cancel()
	<-done
	select {
	case r := <-removed:
		t.Errorf("removed %q, want bob kept", r)
	default:
	}
	want := "--discover found more chats than it dials at once (256, of which at most 8 unproven per address): the others wait for a place"
	if len(lines) != 1 || lines[0] != want {
		t.Errorf("info lines %q, want one: %q", lines, want)
	}
}
