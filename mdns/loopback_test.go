package mdns

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"scuttle/topology/testkit"
)

// These tests use real sockets on the loopback interface "lo" of the
// root namespace: nothing is sent on any other interface.

func listenLo(t *testing.T) *Conn {
	t.Helper()
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skipf("no interface lo: %v", err)
	}
	c, err := Listen(t.Context(), Config{Interfaces: []string{"lo"}, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Listen on lo: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLoopbackRegisterLookup(t *testing.T) {
	testkit.CheckLeaks(t)
	a := listenLo(t)
	b := listenLo(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	name := uniqueName(t, "lo")
	if err := a.Register(ctx, name); err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	start := time.Now()
	got, err := b.LookupHost(ctx, name+".local")
	if err != nil {
		t.Fatalf("LookupHost: %v", err)
	}
	t.Logf("resolved %s in %v: %v", name, time.Since(start), got)
	if !slices.Contains(got, "127.0.0.1") {
		t.Errorf("LookupHost(%q) = %v, want it to contain 127.0.0.1", name, got)
	}
	// A second Conn claiming the name conflicts, naming the first.
	c := listenLo(t)
	err = c.Register(ctx, name)
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) {
		t.Fatalf("second Register(%q) = %v, want a *ConflictError", name, err)
	}
	// The source address the kernel picks for multicast out of lo is
	// any address of the host, so only its presence is checked.
	if !ce.Host.IsValid() || ce.Iface != "lo" {
		t.Errorf("conflict names host %v on %q, want an address on lo", ce.Host, ce.Iface)
	}
}

// TestLoopbackColdLookups: lookups by fresh Conns on the same host as
// the responder, right after its announcements (so the one-second
// multicast limit is in force), answer within a few milliseconds: a
// unicast answer to port 5353 reaches only one of the sockets sharing
// it, so a local querier is also answered by multicast.
func TestLoopbackColdLookups(t *testing.T) {
	testkit.CheckLeaks(t)
	a := listenLo(t)
	name := uniqueName(t, "lo")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := a.Register(ctx, name); err != nil {
		t.Fatal(err)
	}
	var worst time.Duration
	for range 5 {
		b := listenLo(t)
		start := time.Now()
		got, err := b.LookupHost(ctx, name)
		d := time.Since(start)
		b.Close()
		if err != nil || !slices.Contains(got, "127.0.0.1") {
			t.Fatalf("LookupHost = %v, %v; want 127.0.0.1", got, err)
		}
		worst = max(worst, d)
	}
	if worst > 500*time.Millisecond {
		t.Errorf("slowest of 5 cold local lookups took %v, want under 500 ms", worst)
	}
	t.Logf("slowest of 5 cold local lookups: %v", worst)
}
