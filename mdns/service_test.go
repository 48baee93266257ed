package mdns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// The DNS-SD tests run in protocol time (testing/synctest) with the
// RFC's own intervals: delays are checked exactly, and waiting an hour
// costs nothing.

var aliceService = Service{Instance: "Alice", Type: "_scuttle._tcp", Host: "alice", Port: 4242, TXT: []string{"id=abc", "v=2"}}

const (
	ptrAlice = "_scuttle._tcp.local. PTR Alice._scuttle._tcp.local. 4500"
	enumSD   = "_services._dns-sd._udp.local. PTR _scuttle._tcp.local. 4500"
	srvAlice = "alice._scuttle._tcp.local. SRV alice.local.:4242 120 flush"
	txtAlice = `alice._scuttle._tcp.local. TXT ["id=abc" "v=2"] 4500 flush`
	a4Alice  = "alice.local. 10.0.0.1 120 flush"
	a6Alice  = "alice.local. fe80::1 120 flush"
)

// serviceHost starts host n on segment 0 named name, with service s
// registered, and returns once its announcements and their rate-limit
// period are over.
func serviceHost(t *testing.T, h *hub, n byte, s Service) *Conn {
	t.Helper()
	c := h.host(iface("lan0", 0, n)).conn(t, rfcTiming)
	register(t, c, s.Host)
	if err := c.RegisterService(t.Context(), s); err != nil {
		t.Fatalf("RegisterService(%+v): %v", s, err)
	}
	time.Sleep(2 * rfcTiming.announceGap)
	synctest.Wait()
	return c
}

func TestServiceAnswers(t *testing.T) {
	q := func(name string, typ dnsmessage.Type, qu bool) []outQuestion {
		return []outQuestion{{name: mustName(name), qtype: typ, unicast: qu}}
	}
	ptrKnown := func(ttl uint32) []outRecord {
		return []outRecord{{rtype: dnsmessage.TypePTR, name: mustName("_scuttle._tcp.local."), target: mustName("alice._scuttle._tcp.local."), ttl: ttl}}
	}
	tests := []struct {
		name        string
		port        uint16
		qs          []outQuestion
		known       []outRecord
		answers     []string // nil: no reply
		additionals []string
		unicast     bool
		delayed     bool // after 20–120 ms (shared records, §6), else at once
	}{
		{name: "PTR of the type", qs: q("_scuttle._tcp.local.", dnsmessage.TypePTR, false),
			answers: []string{ptrAlice}, additionals: []string{srvAlice, txtAlice, a4Alice, a6Alice}, delayed: true},
		{name: "PTR case-insensitive", qs: q("_SCUTTLE._TCP.local.", dnsmessage.TypePTR, false),
			answers: []string{ptrAlice}, additionals: []string{srvAlice, txtAlice, a4Alice, a6Alice}, delayed: true},
		{name: "enumeration", qs: q("_services._dns-sd._udp.local.", dnsmessage.TypePTR, false),
			answers: []string{enumSD}, delayed: true},
		{name: "SRV", qs: q("alice._scuttle._tcp.local.", dnsmessage.TypeSRV, false),
			answers: []string{srvAlice}, additionals: []string{a4Alice, a6Alice}},
		{name: "TXT", qs: q("ALICE._scuttle._tcp.local.", dnsmessage.TypeTXT, false), answers: []string{txtAlice}},
		{name: "ANY of the instance", qs: q("alice._scuttle._tcp.local.", dnsmessage.TypeALL, false),
			answers: []string{srvAlice, txtAlice}, additionals: []string{a4Alice, a6Alice}},
		{name: "QU PTR", qs: q("_scuttle._tcp.local.", dnsmessage.TypePTR, true),
			answers: []string{ptrAlice}, additionals: []string{srvAlice, txtAlice, a4Alice, a6Alice}, unicast: true},
		{name: "legacy SRV", port: 40000, qs: q("alice._scuttle._tcp.local.", dnsmessage.TypeSRV, false),
			answers:     []string{"alice._scuttle._tcp.local. SRV alice.local.:4242 10"},
			additionals: []string{"alice.local. 10.0.0.1 10", "alice.local. fe80::1 10"}, unicast: true},
		{name: "known PTR suppressed", qs: q("_scuttle._tcp.local.", dnsmessage.TypePTR, false), known: ptrKnown(2250)},
		{name: "known PTR under half its TTL answered", qs: q("_scuttle._tcp.local.", dnsmessage.TypePTR, false), known: ptrKnown(2249),
			answers: []string{ptrAlice}, additionals: []string{srvAlice, txtAlice, a4Alice, a6Alice}, delayed: true},
		{name: "other type", qs: q("_http._tcp.local.", dnsmessage.TypePTR, false)},
		{name: "other instance", qs: q("bob._scuttle._tcp.local.", dnsmessage.TypeSRV, false)},
		{name: "A of the type name", qs: q("_scuttle._tcp.local.", dnsmessage.TypeA, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &hub{}
				serviceHost(t, h, 1, aliceService)
				port := tt.port
				if port == 0 {
					port = Port
				}
				qh := h.host(iface("q0", 0, 9))
				cl := qh.client(t, false, port)
				group := qh.client(t, false, Port)
				sent := time.Now()
				cl.send(query(t, dnsmessage.Header{ID: 7}, tt.qs, tt.known), groupV4)
				from := group
				if tt.unicast {
					from = cl
				}
				_, m, ok := from.recvResponse(time.Second)
				took := time.Since(sent)
				if tt.answers == nil {
					if ok {
						t.Fatalf("got a reply %q, want none", recs(m.answers))
					}
					return
				}
				if !ok {
					t.Fatalf("no reply in a second, want %q", tt.answers)
				}
				if got := recs(m.answers); !slices.Equal(got, tt.answers) {
					t.Errorf("answers %q, want %q", got, tt.answers)
				}
				if got := recs(m.additionals); !slices.Equal(got, tt.additionals) {
					t.Errorf("additionals %q, want %q", got, tt.additionals)
				}
				if tt.delayed && (took < 20*time.Millisecond || took > 120*time.Millisecond) || !tt.delayed && took != 0 {
					t.Errorf("reply after %v, want delayed %v (20–120 ms)", took, tt.delayed)
				}
				if wantID := uint16(0); tt.port != 0 && m.header.ID != 7 || tt.port == 0 && m.header.ID != wantID {
					t.Errorf("reply ID %d", m.header.ID)
				}
				if !m.header.Authoritative {
					t.Error("reply without the AA bit")
				}
				// One reply only.
				if _, m, ok := from.recvResponse(2 * time.Second); ok {
					t.Errorf("a second reply %q", recs(m.answers))
				}
			})
		})
	}
}

func TestServiceProbeAndAnnounce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		c := h.host(iface("lan0", 0, 1)).conn(t, rfcTiming)
		register(t, c, "alice")
		time.Sleep(2 * time.Second)
		h.reset()
		start := time.Now()
		if err := c.RegisterService(t.Context(), aliceService); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 750*time.Millisecond || d > time.Second {
			t.Errorf("RegisterService took %v, want 750 ms to 1 s (§8.1)", d)
		}
		time.Sleep(2 * time.Second)
		v4 := func(p hubPacket, m message) bool { return p.dst == groupV4 }
		var probes, anns []message
		for _, p := range h.packets(v4) {
			m, _ := parseMessage(p.data)
			if m.header.Response {
				anns = append(anns, m)
			} else {
				probes = append(probes, m)
			}
		}
		if len(probes) != 3 || len(anns) != 2 {
			t.Fatalf("%d probes and %d announcements over IPv4, want 3 and 2", len(probes), len(anns))
		}
		for i, m := range probes {
			wantQ := []question{{name: "alice._scuttle._tcp.local.", qtype: dnsmessage.TypeALL, class: dnsmessage.ClassINET}}
			if !slices.Equal(m.questions, wantQ) {
				t.Errorf("probe %d asks %+v, want %+v", i, m.questions, wantQ)
			}
			want := []string{"alice._scuttle._tcp.local. SRV alice.local.:4242 120", `alice._scuttle._tcp.local. TXT ["id=abc" "v=2"] 4500`}
			if got := recs(m.authorities); !slices.Equal(got, want) {
				t.Errorf("probe %d authorities %q, want %q", i, got, want)
			}
		}
		for i, m := range anns {
			if got, want := recs(m.answers), []string{ptrAlice, enumSD, srvAlice, txtAlice}; !slices.Equal(got, want) {
				t.Errorf("announcement %d: %q, want %q", i, got, want)
			}
			if got, want := recs(m.additionals), []string{a4Alice, a6Alice}; !slices.Equal(got, want) {
				t.Errorf("announcement %d additionals: %q, want %q", i, got, want)
			}
		}
	})
}

func TestServiceConflict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		serviceHost(t, h, 1, aliceService)
		b := h.host(iface("lan0", 0, 2)).conn(t, rfcTiming)
		register(t, b, "alice2")
		s := aliceService
		s.Instance, s.Host = "ALICE", "alice2"
		err := b.RegisterService(t.Context(), s)
		var ce *ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) {
			t.Fatalf("RegisterService of a taken instance = %v, want a *ConflictError", err)
		}
		if ce.Name != "alice._scuttle._tcp.local" || ce.Iface != "lan0" || (ce.Host != netip.MustParseAddr("10.0.0.1") && ce.Host != netip.MustParseAddr("fe80::1")) {
			t.Errorf("conflict %+v, want alice._scuttle._tcp.local by host 1 on lan0", ce)
		}
		// Another instance is fine.
		s.Instance = "alice2"
		if err := b.RegisterService(t.Context(), s); err != nil {
			t.Errorf("RegisterService(alice2): %v", err)
		}
	})
}

// TestServiceSimultaneousProbe: two hosts probe for one instance at
// once; the tie-break of §8.2 over the SRV and TXT records gives it to
// exactly one.
func TestServiceSimultaneousProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		var conns []*Conn
		for i, host := range []string{"alice", "alice2"} {
			c := h.host(iface("lan0", 0, byte(i+1))).conn(t, rfcTiming)
			register(t, c, host)
			conns = append(conns, c)
		}
		errs := make(chan error, 2)
		for i, c := range conns {
			s := aliceService
			s.Host = []string{"alice", "alice2"}[i]
			go func() { errs <- c.RegisterService(t.Context(), s) }()
		}
		e1, e2 := <-errs, <-errs
		if (e1 == nil) == (e2 == nil) || !errors.Is(cmpOr(e1, e2), ErrConflict) {
			t.Fatalf("RegisterService on both hosts at once: %v and %v, want one ErrConflict", e1, e2)
		}
	})
}

func TestRegisterServiceErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		c := serviceHost(t, h, 1, aliceService)
		with := func(f func(*Service)) Service {
			s := aliceService
			s.Instance = "other"
			f(&s)
			return s
		}
		tests := []struct {
			name string
			s    Service
			want string
		}{
			{"type without protocol", with(func(s *Service) { s.Type = "_scuttle" }), `mdns: bad name: service type "_scuttle": want "_name._tcp" or "_name._udp"`},
			{"type without underscore", with(func(s *Service) { s.Type = "scuttle._tcp" }), `mdns: bad name: service type "scuttle._tcp": the name after the underscore must be 1 to 15 octets (RFC 6763 §7)`},
			{"type too long", with(func(s *Service) { s.Type = "_abcdefghijklmnop._tcp" }), `mdns: bad name: service type "_abcdefghijklmnop._tcp": the name after the underscore must be 1 to 15 octets (RFC 6763 §7)`},
			{"instance with a dot", with(func(s *Service) { s.Instance = "a.b" }), `mdns: bad name: instance "a.b": '.' at offset 1: an instance name has no dots, control characters or backslashes`},
			{"empty instance", with(func(s *Service) { s.Instance = "" }), `mdns: bad name: instance "": empty`},
			{"bad host", with(func(s *Service) { s.Host = "b.c" }), `mdns: bad name "b.c": '.' at offset 1: a name is one DNS label, with no dots, spaces, control characters or backslashes`},
			{"TXT string too long", with(func(s *Service) { s.TXT = []string{strings.Repeat("x", 256)} }), `mdns: TXT string of 256 octets, the limit is 255: "xxxxxxxxxxxxxxxxxxxx"…`},
			{"already registered", aliceService, "mdns: service alice._scuttle._tcp.local is already registered on this connection"},
		}
		for _, tt := range tests {
			if err := c.RegisterService(t.Context(), tt.s); err == nil || err.Error() != tt.want {
				t.Errorf("%s: RegisterService = %v, want %q", tt.name, err, tt.want)
			}
		}
		c.Close()
		if err := c.RegisterService(t.Context(), with(func(*Service) {})); !errors.Is(err, ErrClosed) {
			t.Errorf("RegisterService after Close = %v, want ErrClosed", err)
		}
	})
}

// TestServiceGoodbye: Close says goodbye to every record of the service,
// TTL 0, before the host name's.
func TestServiceGoodbye(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		c := serviceHost(t, h, 1, aliceService)
		h.reset()
		c.Close()
		var got [][]string
		for _, p := range h.packets(func(p hubPacket, m message) bool { return p.dst == groupV4 }) {
			m, _ := parseMessage(p.data)
			got = append(got, recs(m.answers))
		}
		want := [][]string{
			{"_scuttle._tcp.local. PTR Alice._scuttle._tcp.local. 0", "_services._dns-sd._udp.local. PTR _scuttle._tcp.local. 0",
				"alice._scuttle._tcp.local. SRV alice.local.:4242 0", `alice._scuttle._tcp.local. TXT ["id=abc" "v=2"] 0`},
			{"alice.local. 10.0.0.1 0", "alice.local. fe80::1 0"},
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("goodbyes over IPv4 %q, want %q", got, want)
		}
	})
}

// browser collects what Browse reports, with the time of each report.
type browser struct {
	events chan ServiceEntry
	done   chan error
	cancel context.CancelFunc
}

func browse(t *testing.T, c *Conn, typ string) *browser {
	ctx, cancel := context.WithCancel(t.Context())
	b := &browser{events: make(chan ServiceEntry, 64), done: make(chan error, 1), cancel: cancel}
	go func() { b.done <- c.Browse(ctx, typ, func(e ServiceEntry) { b.events <- e }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-b.done; !errors.Is(err, context.Canceled) {
			t.Errorf("Browse = %v, want context.Canceled", err)
		}
	})
	return b
}

// next returns the next report, failing the test if none comes within d.
func (b *browser) next(t *testing.T, d time.Duration) ServiceEntry {
	t.Helper()
	select {
	case e := <-b.events:
		return e
	case <-time.After(d):
		t.Fatalf("no report from Browse in %v", d)
		return ServiceEntry{}
	}
}

func (b *browser) none(t *testing.T) {
	t.Helper()
	synctest.Wait()
	select {
	case e := <-b.events:
		t.Errorf("unexpected report %+v", e)
	default:
	}
}

func sameEntries(a, b ServiceEntry) bool {
	return sameEntry(a, b) && a.Type == b.Type && a.Gone == b.Gone
}

func TestBrowse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		alice := serviceHost(t, h, 1, aliceService)
		bc := h.host(iface("lan0", 0, 2)).conn(t, rfcTiming)
		start := time.Now()
		b := browse(t, bc, "_scuttle._tcp")

		// alice, registered before: found by the first query, a QU
		// question answered by unicast at once.
		wantAlice := ServiceEntry{Instance: "Alice", Type: "_scuttle._tcp", Host: "alice.local", Port: 4242,
			TXT: []string{"id=abc", "v=2"}, Addrs: []string{"10.0.0.1", "fe80::1%lan0"}}
		if e := b.next(t, time.Second); !sameEntries(e, wantAlice) || time.Since(start) != 0 {
			t.Errorf("after %v: %+v, want %+v at once", time.Since(start), e, wantAlice)
		}

		// carol, registered later: found by her announcement.
		carolSvc := Service{Instance: "carol", Type: "_scuttle._tcp", Host: "carol", Port: 5000}
		carolAt := time.Now()
		carol := h.host(iface("lan0", 0, 3)).conn(t, rfcTiming)
		register(t, carol, "carol")
		if err := carol.RegisterService(t.Context(), carolSvc); err != nil {
			t.Fatal(err)
		}
		e := b.next(t, time.Second)
		wantCarol := ServiceEntry{Instance: "carol", Type: "_scuttle._tcp", Host: "carol.local", Port: 5000,
			TXT: []string{""}, Addrs: []string{"10.0.0.3", "fe80::3%lan0"}}
		if !sameEntries(e, wantCarol) {
			t.Errorf("%+v, want %+v", e, wantCarol)
		}
		t.Logf("carol found %v after she started", time.Since(carolAt))

		// Over two hours, nothing was lost: the SRV and address records
		// were asked for again at 80–82% of their TTL (§5.2).
		time.Sleep(2*time.Hour + 10*time.Minute)
		b.none(t)
		ptrQueries := h.packets(func(p hubPacket, m message) bool {
			return p.dst == groupV4 && !m.header.Response && len(m.questions) > 0 && m.questions[0].qtype == dnsmessage.TypePTR
		})
		// Doubling intervals from 1 s (§5.2), and out of that series a
		// query when the PTR records reach 80% of their TTL of 4500 s
		// plus up to 2% (§5.2): between 3600 s and 3692 s (carol's
		// came 1.8 s after alice's), then as long after they were
		// refreshed.
		series := []int{0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 2047, 4095, 7695}
		var at, got []time.Duration
		var refreshes []int // indexes in ptrQueries
		for i, p := range ptrQueries {
			d := p.at.Sub(start)
			at = append(at, d)
			if d == d.Truncate(time.Second) && slices.Contains(series, int(d/time.Second)) {
				got = append(got, d)
			} else {
				refreshes = append(refreshes, i)
			}
		}
		var want []time.Duration
		for _, s := range series {
			want = append(want, time.Duration(s)*time.Second)
		}
		if !slices.Equal(got, want) {
			t.Errorf("PTR queries of the series at %v, want %v (all: %v)", got, want, at)
		}
		if len(refreshes) != 2 {
			t.Fatalf("PTR queries at %v: %d out of the series, want 2", at, len(refreshes))
		}
		r1, r2 := at[refreshes[0]], at[refreshes[1]]
		if r1 < 3600*time.Second || r1 > 3692*time.Second || r2-r1 < 3600*time.Second || r2-r1 > 3692*time.Second {
			t.Errorf("PTR refresh queries at %v and %v, want the first at 3600–3692 s, the second 3600–3692 s later", r1, r2)
		}
		// The query at 2047 s lists alice and carol as known answers
		// (§7.1); the refresh query none, as they have less than half
		// their TTL left then, so they answer and are refreshed; the
		// one at 4095 s lists them again.
		for _, k := range []struct {
			at    time.Duration
			known int
		}{{2047 * time.Second, 2}, {r1, 0}, {4095 * time.Second, 2}} {
			i := slices.Index(at, k.at)
			if i < 0 {
				t.Errorf("no PTR query at %v", k.at)
				continue
			}
			m, _ := parseMessage(ptrQueries[i].data)
			if len(m.answers) != k.known {
				t.Errorf("the PTR query at %v lists %d known answers %q, want %d", k.at, len(m.answers), recs(m.answers), k.known)
			}
		}

		// alice leaves: reported gone one second after her goodbye.
		closed := time.Now()
		alice.Close()
		e = b.next(t, 2*time.Second)
		if wantGone := wantAlice; !e.Gone || e.Instance != "Alice" || time.Since(closed) != rfcTiming.flushGrace {
			wantGone.Gone = true
			t.Errorf("after %v: %+v, want %+v after %v", time.Since(closed), e, wantGone, rfcTiming.flushGrace)
		}
		b.none(t)
	})
}

func TestLookupService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		alice := serviceHost(t, h, 1, aliceService)
		bc := h.host(iface("lan0", 0, 2)).conn(t, rfcTiming)
		ctx, cancel := context.WithTimeout(t.Context(), 3500*time.Millisecond)
		defer cancel()
		want := ServiceEntry{Instance: "Alice", Type: "_scuttle._tcp", Host: "alice.local", Port: 4242,
			TXT: []string{"id=abc", "v=2"}, Addrs: []string{"10.0.0.1", "fe80::1%lan0"}}
		for _, name := range []string{"alice", "ALICE"} {
			got, err := bc.LookupService(ctx, name, "_scuttle._tcp")
			if err != nil || !sameEntries(got, want) {
				t.Errorf("LookupService(%s) = %+v, %v; want %+v", name, got, err, want)
			}
		}
		// Its own service, from the Conn that registered it.
		if got, err := alice.LookupService(ctx, "alice", "_scuttle._tcp.local."); err != nil || got.Port != 4242 || len(got.Addrs) != 2 {
			t.Errorf("own LookupService = %+v, %v; want port 4242 and two addresses", got, err)
		}
		start := time.Now()
		_, err := bc.LookupService(ctx, "nobody", "_scuttle._tcp")
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsNotFound || !errors.Is(err, ErrNoAnswer) || de.Name != "nobody._scuttle._tcp.local" {
			t.Errorf("LookupService(nobody) = %v, want a not-found *net.DNSError", err)
		}
		if d := time.Since(start); d != 3500*time.Millisecond {
			t.Errorf("LookupService(nobody) gave up after %v, want at the deadline", d)
		}
	})
}

// TestServiceCacheBounded: a flood of instances of a browsed type
// leaves the cache at its cap.
func TestServiceCacheBounded(t *testing.T) {
	s := newSvcCache()
	s.want("_scuttle._tcp.local.", 1)
	now := time.Unix(1000, 0)
	for i := range maxServiceEntries + 100 {
		inst := strings.Repeat("x", i%50+1) + string(rune('a'+i%26)) + "-" + time.Duration(i).String() + "._scuttle._tcp.local."
		s.update([]record{
			{rtype: dnsmessage.TypePTR, name: "_scuttle._tcp.local.", target: inst, ttl: 4500},
			{rtype: dnsmessage.TypeSRV, name: inst, target: "h.local.", port: 1, ttl: 120},
			{rtype: dnsmessage.TypeTXT, name: inst, txt: []string{"x"}, ttl: 4500},
			// Not browsed: not kept.
			{rtype: dnsmessage.TypePTR, name: "_http._tcp.local.", target: "p._http._tcp.local.", ttl: 4500},
		}, netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), now, time.Second)
	}
	if len(s.ptrs) > maxServiceEntries || len(s.srvs) > maxServiceEntries || len(s.txts) > maxServiceEntries {
		t.Errorf("cache holds %d PTR, %d SRV, %d TXT records, want at most %d each", len(s.ptrs), len(s.srvs), len(s.txts), maxServiceEntries)
	}
	for k := range s.ptrs {
		if k.typeFQ != "_scuttle._tcp.local." {
			t.Fatalf("cache holds a PTR of %s, which nobody browses", k.typeFQ)
		}
	}
	s.want("_scuttle._tcp.local.", -1)
	if len(s.ptrs)+len(s.srvs)+len(s.txts) != 0 {
		t.Errorf("records left after the last browser stopped")
	}
}

// TestStats: a Conn counts what it sent to the group, what it heard of
// its own, and the other hosts it heard.
func TestStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		a := h.host(iface("lan0", 0, 1)).conn(t, rfcTiming)
		serviceHost(t, h, 2, aliceService)
		register(t, a, "bob")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		st := a.Stats()
		if len(st) != 2 || st[0].Iface != "lan0" || st[0].IPv6 || !st[1].IPv6 {
			t.Fatalf("Stats = %+v, want lan0 IPv4 then IPv6", st)
		}
		// bob: three probes and two announcements per family.
		for _, s := range st {
			other := netip.MustParseAddr("10.0.0.2")
			if s.IPv6 {
				other = netip.MustParseAddr("fe80::2")
			}
			if s.Sent != 5 || s.Own != 5 || s.Local != 0 || s.Other == 0 || !slices.Equal(s.OtherHosts, []netip.Addr{other}) {
				t.Errorf("%+v, want 5 sent, 5 own, none local, some from %v", s, other)
			}
		}
	})
}

// TestServiceWithHostProbing: the instance is probed for while the host
// name still is, so both are claimed in the time of one, whether
// RegisterService claims the host name itself or Register is probing
// for it; a host name that is taken fails the service too.
func TestServiceWithHostProbing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		serviceHost(t, h, 1, aliceService)
		c := h.host(iface("lan0", 0, 2)).conn(t, rfcTiming)
		other := h.host(iface("lan0", 0, 3)).conn(t, rfcTiming)

		// RegisterService alone.
		start := time.Now()
		if err := c.RegisterService(t.Context(), Service{Instance: "dave", Type: "_scuttle._tcp", Host: "dave", Port: 1}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("RegisterService claimed its host name and instance in %v, want under a second", d)
		}
		if got, err := other.LookupHost(t.Context(), "dave"); err != nil || !slices.Equal(got, []string{"10.0.0.2", "fe80::2%lan0"}) {
			t.Errorf("LookupHost(dave) = %v, %v", got, err)
		}
		if err := c.Register(t.Context(), "dave"); err == nil {
			t.Errorf("Register(dave) after RegisterService claimed it: no error")
		}
		var ce *ConflictError
		if err := c.RegisterService(t.Context(), Service{Instance: "eve", Type: "_scuttle._tcp", Host: "alice", Port: 1}); !errors.As(err, &ce) || ce.Name != "alice.local" {
			t.Errorf("RegisterService with the taken host alice = %v, want alice.local's conflict", err)
		}

		// Register still probing when RegisterService starts.
		start = time.Now()
		errs := make(chan error, 2)
		go func() { errs <- c.Register(t.Context(), "carol") }()
		synctest.Wait() // Register has taken the name and is probing
		s := Service{Instance: "carol", Type: "_scuttle._tcp", Host: "carol", Port: 1}
		go func() { errs <- c.RegisterService(t.Context(), s) }()
		if err := cmpOr(<-errs, <-errs); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("host name and service claimed in %v, want under a second", d)
		}

		// alice.local is taken by host 1: the service on it fails.
		go func() { errs <- c.Register(t.Context(), "alice") }()
		synctest.Wait()
		s = Service{Instance: "other", Type: "_scuttle._tcp", Host: "alice", Port: 1}
		go func() { errs <- c.RegisterService(t.Context(), s) }()
		e1, e2 := <-errs, <-errs
		want := "mdns: service host alice.local: its name was not claimed"
		if !errors.Is(cmpOr(e1, e2), ErrConflict) || (e1 == nil || e1.Error() != want) && (e2 == nil || e2.Error() != want) {
			t.Errorf("Register and RegisterService on a taken host name: %v, %v; want a conflict and %q", e1, e2, want)
		}
	})
}

// TestBrowseIdenticalQueries: every chat browses and answers, so the
// query of a host that starts browsing is often byte for byte one that
// the responder sent itself a moment ago. It is still answered: a packet
// is taken for one's own looped back only when it comes from an address
// of this host.
func TestBrowseIdenticalQueries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		alice := serviceHost(t, h, 1, aliceService)
		browse(t, alice, "_scuttle._tcp") // alice's own first query, QU, no known answers
		synctest.Wait()
		bc := h.host(iface("lan0", 0, 2)).conn(t, rfcTiming)
		start := time.Now()
		b := browse(t, bc, "_scuttle._tcp") // the same bytes, from another host
		if e := b.next(t, 10*time.Second); e.Instance != "Alice" || time.Since(start) != 0 {
			t.Errorf("after %v: %+v, want Alice at once", time.Since(start), e)
		}
	})
}

// TestSvcCachePerSource: one host flooding made-up instances fills at
// most maxInstancesPerSource of the cache; another host's instance is
// still taken, and the flooder's known instances are still refreshed.
func TestSvcCachePerSource(t *testing.T) {
	s := newSvcCache()
	s.want("_scuttle._tcp.local.", 1)
	now := time.Now()
	spoofer, real := netip.MustParseAddr("10.0.0.66"), netip.MustParseAddr("10.0.0.2")
	ptr := func(inst string) []record {
		return []record{{rtype: dnsmessage.TypePTR, name: "_scuttle._tcp.local.", target: inst + "._scuttle._tcp.local.", ttl: 4500}}
	}
	for i := range 400 {
		s.update(ptr(fmt.Sprintf("aa%03d", i)), spoofer, now, time.Second)
	}
	if !s.update(ptr("aa000"), spoofer, now.Add(time.Second), time.Second) {
		t.Error("a refresh of a flooder's known instance was not taken")
	}
	s.update(ptr("bob"), real, now, time.Second)
	if n := s.fromSource(spoofer); n != maxInstancesPerSource {
		t.Errorf("%d instances of one source cached, want %d", n, maxInstancesPerSource)
	}
	if _, ok := s.ptrs[ptrKey{"_scuttle._tcp.local.", "bob._scuttle._tcp.local."}]; !ok {
		t.Error("the real instance was not cached")
	}
}
