package mdns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"scuttle/topology/testkit"
)

func TestLookupHost(t *testing.T) {
	testkit.CheckLeaks(t)
	h := &hub{}
	a := h.host(iface("lan0", 0, 1), iface("lan1", 1, 1)).conn(t, testTiming)
	b := h.host(iface("lan0", 1, 2)).conn(t, testTiming)
	register(t, a, "alice")
	tests := []struct {
		name string
		host string
		want []string
	}{
		{"short name", "alice", []string{"10.0.1.1", "fe80::1:1%lan0"}},
		{"fqdn", "Alice.local.", []string{"10.0.1.1", "fe80::1:1%lan0"}},
		{"IPv4 literal", "192.0.2.7", []string{"192.0.2.7"}},
		{"IPv6 literal", "fe80::7%lan0", []string{"fe80::7%lan0"}},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		got, err := b.LookupHost(ctx, tt.host)
		cancel()
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: LookupHost(%q) = %v, %v; want %v", tt.name, tt.host, got, err, tt.want)
		}
	}
	// Its own name, from the Conn that registered it.
	if got, err := a.LookupHost(t.Context(), "alice"); err != nil || len(got) != 4 {
		t.Errorf("own LookupHost = %v, %v; want its 4 addresses", got, err)
	}
	if _, err := b.LookupHost(t.Context(), "a.b"); !errors.Is(err, ErrBadName) {
		t.Errorf("LookupHost(a.b) = %v, want ErrBadName", err)
	}
}

// TestLookupRetries: with nobody answering, queries go out at 0, 1 and
// 3 s (intervals 1 s, 2 s), the first with the QU bit; then ctx ends and
// the error says no answer. In protocol time (synctest), so exactly.
func TestLookupRetries(t *testing.T) {
	synctest.Test(t, testLookupRetries)
}

func testLookupRetries(t *testing.T) {
	h := &hub{}
	c := h.host(iface("lan0", 0, 1)).conn(t, rfcTiming)
	ctx, cancel := context.WithTimeout(t.Context(), 3500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.LookupHost(ctx, "nobody")
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound || !de.IsTimeout || !errors.Is(err, ErrNoAnswer) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LookupHost = %v, want a not-found, timeout *net.DNSError wrapping ErrNoAnswer", err)
	}
	if want := "lookup nobody.local: no answer"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	qs := h.packets(func(p hubPacket, m message) bool { return !m.header.Response && p.dst == groupV4 })
	var at []time.Duration
	for _, p := range qs {
		at = append(at, p.at.Sub(start))
	}
	want := []time.Duration{0, time.Second, 3 * time.Second}
	if len(at) != len(want) {
		t.Fatalf("queries at %v, want %v", at, want)
	}
	if !slices.Equal(at, want) {
		t.Errorf("queries at %v, want %v", at, want)
	}
	for i, p := range qs {
		m, _ := parseMessage(p.data)
		wantQ := []question{
			{name: "nobody.local.", qtype: dnsmessage.TypeA, class: dnsmessage.ClassINET, unicast: i == 0},
			{name: "nobody.local.", qtype: dnsmessage.TypeAAAA, class: dnsmessage.ClassINET, unicast: i == 0},
		}
		if !slices.Equal(m.questions, wantQ) {
			t.Errorf("query %d: %+v, want %+v", i, m.questions, wantQ)
		}
	}
}

// respond sends a response with the given answers from src.
func respond(t *testing.T, cl *client, recs []outRecord) {
	t.Helper()
	b, err := buildMessage(nil, dnsmessage.Header{Response: true, Authoritative: true}, nil, recs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl.send(b, groupV4)
}

// cached returns what c's cache holds for fq.
func cached(c *Conn, fq string) []string {
	c.mu.Lock()
	as := c.cache.lookup(fq, time.Now())
	c.mu.Unlock()
	var out []string
	for _, a := range as {
		out = append(out, a.addr.String())
	}
	slices.Sort(out)
	return out
}

// waitCached waits until c's cache for fq is want, woken by each change
// of the cache, at most within.
func waitCached(t *testing.T, c *Conn, fq string, want []string, within time.Duration) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		changed := c.cache.changed
		c.mu.Unlock()
		got := cached(c, fq)
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("cache for %s holds %q, want %q", fq, got, want)
		}
	}
}

// checkCached checks, once every goroutine of the synctest bubble is
// blocked (so every packet sent has been handled), that c's cache for fq
// is want.
func checkCached(t *testing.T, c *Conn, fq string, want []string) {
	t.Helper()
	synctest.Wait()
	if got := cached(c, fq); !slices.Equal(got, want) {
		t.Errorf("at %v the cache for %s holds %q, want %q", time.Now().Format(time.StampMilli), fq, got, want)
	}
}

// TestResolverCache runs in protocol time (synctest): the goodbye's and
// the cache-flush's one second are checked to the nanosecond, without
// sleeping.
func TestResolverCache(t *testing.T) {
	synctest.Test(t, testResolverCache)
}

func testResolverCache(t *testing.T) {
	grace := rfcTiming.flushGrace
	h := &hub{}
	c := h.host(iface("lan0", 0, 1)).conn(t, rfcTiming)
	other := h.host(iface("lan0", 0, 2))
	cl := other.client(t, false, Port)
	legacy := other.client(t, false, 40000)
	name := mustName("bob.local.")
	ip := netip.MustParseAddr
	r := func(a string, ttl uint32, flush bool) outRecord {
		return outRecord{name: name, addr: ip(a), ttl: ttl, flush: flush}
	}

	// §11: a response from a port other than 5353 is ignored.
	respond(t, legacy, []outRecord{r("10.0.0.66", 120, true)})
	respond(t, cl, []outRecord{r("10.0.0.2", 120, true)})
	checkCached(t, c, "bob.local.", []string{"10.0.0.2"})

	// A record without cache-flush adds to the set.
	respond(t, cl, []outRecord{r("10.0.0.3", 120, false)})
	checkCached(t, c, "bob.local.", []string{"10.0.0.2", "10.0.0.3"})

	// Goodbye: the record stays one second, then goes.
	respond(t, cl, []outRecord{r("10.0.0.3", 0, false)})
	time.Sleep(grace - time.Nanosecond)
	checkCached(t, c, "bob.local.", []string{"10.0.0.2", "10.0.0.3"})
	time.Sleep(time.Nanosecond)
	checkCached(t, c, "bob.local.", []string{"10.0.0.2"})

	// Cache-flush: bob moved; records received more than a second ago
	// (10.0.0.2, at 0) go a second later, the new one stays.
	time.Sleep(time.Nanosecond)
	respond(t, cl, []outRecord{r("10.0.0.4", 120, true)})
	checkCached(t, c, "bob.local.", []string{"10.0.0.2", "10.0.0.4"})
	time.Sleep(grace - time.Nanosecond)
	checkCached(t, c, "bob.local.", []string{"10.0.0.2", "10.0.0.4"})
	time.Sleep(time.Nanosecond)
	checkCached(t, c, "bob.local.", []string{"10.0.0.4"})

	// A record under a second old is not flushed; one older is.
	respond(t, cl, []outRecord{r("10.0.0.5", 120, false)})
	time.Sleep(grace / 2)
	respond(t, cl, []outRecord{r("10.0.0.6", 120, true)})
	time.Sleep(2 * grace)
	checkCached(t, c, "bob.local.", []string{"10.0.0.5", "10.0.0.6"})
}

func TestCacheUpdate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ip := netip.MustParseAddr
	rec := func(a string, ttl uint32, flush bool) record {
		return record{name: "bob.local.", addr: ip(a), ttl: ttl, flush: flush}
	}
	type step struct {
		at   time.Duration
		recs []record
	}
	tests := []struct {
		name  string
		steps []step
		at    time.Duration
		want  []string
	}{
		{"ttl expires", []step{{0, []record{rec("10.0.0.1", 10, false)}}}, 10 * time.Second, nil},
		{"ttl not yet", []step{{0, []record{rec("10.0.0.1", 10, false)}}}, 9 * time.Second, []string{"10.0.0.1"}},
		{"goodbye leaves one second", []step{{0, []record{rec("10.0.0.1", 120, false)}}, {5 * time.Second, []record{rec("10.0.0.1", 0, false)}}}, 5900 * time.Millisecond, []string{"10.0.0.1"}},
		{"goodbye then gone", []step{{0, []record{rec("10.0.0.1", 120, false)}}, {5 * time.Second, []record{rec("10.0.0.1", 0, false)}}}, 6 * time.Second, nil},
		{"flush replaces old", []step{{0, []record{rec("10.0.0.1", 120, false)}}, {5 * time.Second, []record{rec("10.0.0.2", 120, true)}}}, 6 * time.Second, []string{"10.0.0.2"}},
		{"flush keeps same-packet set", []step{{0, []record{rec("10.0.0.1", 120, true), rec("10.0.0.2", 120, true)}}}, time.Second, []string{"10.0.0.1", "10.0.0.2"}},
		{"flush keeps records under a second old", []step{{0, []record{rec("10.0.0.1", 120, true)}}, {500 * time.Millisecond, []record{rec("10.0.0.2", 120, true)}}}, 3 * time.Second, []string{"10.0.0.1", "10.0.0.2"}},
		{"flush spares the other family", []step{{0, []record{rec("fe80::1", 120, true)}}, {5 * time.Second, []record{rec("10.0.0.2", 120, true)}}}, 7 * time.Second, []string{"10.0.0.2", "fe80::1"}},
	}
	for _, tt := range tests {
		c := newCache(time.Second)
		for _, s := range tt.steps {
			c.update(s.recs, 1, t0.Add(s.at))
		}
		var got []string
		for _, a := range c.lookup("bob.local.", t0.Add(tt.at)) {
			got = append(got, a.addr.String())
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: cache holds %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCacheBounded(t *testing.T) {
	c := newCache(time.Second)
	now := time.Unix(1000, 0)
	for i := range maxCacheEntries + 100 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		c.update([]record{{name: "bob.local.", addr: a, ttl: uint32(100 + i)}}, 1, now)
	}
	if n := len(c.entries); n > maxCacheEntries {
		t.Errorf("cache holds %d entries, want at most %d", n, maxCacheEntries)
	}
}

func TestCloseUnblocksLookup(t *testing.T) {
	testkit.CheckLeaks(t)
	h := &hub{}
	c := h.host(iface("lan0", 0, 1)).conn(t, testTiming)
	errc := make(chan error, 1)
	go func() {
		_, err := c.LookupHost(context.Background(), "nobody")
		errc <- err
	}()
	// The first query is out once the hub logged it.
	if !h.waitFor(1, func(hubPacket, message) bool { return true }, maxWait) {
		t.Fatal("no query sent")
	}
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("LookupHost during Close = %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("LookupHost still blocked 2 s after Close")
	}
}

// TestLookupSettles: a responder that answers A and AAAA in two
// responses, as Avahi does over IPv4 and IPv6, gets both into the result
// when the second comes within settleTime (50 ms) of the first, and only
// the first family's when it comes later. In protocol time (synctest):
// the gaps are exact, so no row can flake on a loaded machine.
func TestLookupSettles(t *testing.T) {
	tests := []struct {
		gap  time.Duration
		want []string
	}{
		{10 * time.Millisecond, []string{"10.0.0.2", "fe80::2%lan0"}},
		{rfcTiming.settleTime - time.Nanosecond, []string{"10.0.0.2", "fe80::2%lan0"}},
		{rfcTiming.settleTime + time.Nanosecond, []string{"fe80::2%lan0"}},
	}
	for _, tt := range tests {
		t.Run(tt.gap.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &hub{}
				c := h.host(iface("lan0", 0, 1)).conn(t, rfcTiming)
				cl := h.host(iface("lan0", 0, 2)).client(t, false, Port)
				done := make(chan struct{})
				defer func() { <-done }()
				go func() {
					defer close(done)
					// Answer the first query in two responses gap
					// apart. (No t.Fatal off the test's goroutine:
					// errors show as a wrong lookup result below.)
					if !h.waitFor(1, func(p hubPacket, m message) bool { return !m.header.Response }, maxWait) {
						return
					}
					name := mustName("bob.local.")
					for i, a := range []string{"fe80::2", "10.0.0.2"} {
						if i > 0 {
							time.Sleep(tt.gap)
						}
						b, _ := buildMessage(nil, dnsmessage.Header{Response: true}, nil,
							[]outRecord{{name: name, addr: netip.MustParseAddr(a), ttl: 120, flush: true}}, nil, nil)
						cl.pc.writeTo(b, groupV4, 1)
					}
				}()
				got, err := c.LookupHost(t.Context(), "bob")
				if err != nil || !slices.Equal(got, tt.want) {
					t.Errorf("LookupHost = %v, %v; want %v", got, err, tt.want)
				}
			})
		})
	}
}
