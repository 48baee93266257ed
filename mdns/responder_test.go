package mdns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"scuttle/topology/testkit"
)

func register(t *testing.T, c *Conn, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.Register(ctx, name); err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
}

// recs formats records as "name addr ttl flush" lines, sorted.
func recs(rs []record) []string {
	var out []string
	for _, r := range rs {
		f := ""
		if r.flush {
			f = " flush"
		}
		switch r.rtype {
		case dnsmessage.TypePTR:
			out = append(out, fmt.Sprintf("%s PTR %s %d%s", r.name, r.target, r.ttl, f))
		case dnsmessage.TypeSRV:
			out = append(out, fmt.Sprintf("%s SRV %s:%d %d%s", r.name, r.target, r.port, r.ttl, f))
		case dnsmessage.TypeTXT:
			out = append(out, fmt.Sprintf("%s TXT %q %d%s", r.name, r.txt, r.ttl, f))
		default:
			out = append(out, fmt.Sprintf("%s %s %d%s", r.name, r.addr, r.ttl, f))
		}
	}
	slices.Sort(out)
	return out
}

func TestProbeAndAnnounce(t *testing.T) {
	testkit.CheckLeaks(t)
	h := &hub{}
	a := h.host(iface("lan0", 0, 1)).conn(t, testTiming)
	start := time.Now()
	register(t, a, "alice")
	waitAnnounced(t, h, 2*2)
	isAnnounce := func(p hubPacket, m message) bool { return m.header.Response && p.dst.Addr().Is4() }
	probes := h.packets(func(p hubPacket, m message) bool { return !m.header.Response && p.dst.Addr().Is4() })
	if len(probes) != 3 {
		t.Fatalf("%d IPv4 probes, want 3", len(probes))
	}
	for i, p := range probes {
		m, _ := parseMessage(p.data)
		wantQ := []question{{name: "alice.local.", qtype: dnsmessage.TypeALL, class: dnsmessage.ClassINET}}
		if !slices.Equal(m.questions, wantQ) || p.dst != groupV4 {
			t.Errorf("probe %d: questions %+v to %v, want %+v to %v", i, m.questions, p.dst, wantQ, groupV4)
		}
		if got, want := recs(m.authorities), []string{"alice.local. 10.0.0.1 120", "alice.local. fe80::1 120"}; !slices.Equal(got, want) {
			t.Errorf("probe %d authority %q, want %q", i, got, want)
		}
		if i > 0 {
			if gap := p.at.Sub(probes[i-1].at); gap < testTiming.probeInterval {
				t.Errorf("probe %d %v after the previous, want at least %v", i, gap, testTiming.probeInterval)
			}
		}
	}
	anns := h.packets(isAnnounce)
	if len(anns) != 2 {
		t.Fatalf("%d IPv4 announcements, want 2", len(anns))
	}
	if first := anns[0].at.Sub(probes[2].at); first < testTiming.probeInterval {
		t.Errorf("announced %v after the last probe, want at least %v", first, testTiming.probeInterval)
	}
	if gap := anns[1].at.Sub(anns[0].at); gap < testTiming.announceGap {
		t.Errorf("announcements %v apart, want at least %v", gap, testTiming.announceGap)
	}
	for i, p := range anns {
		m, _ := parseMessage(p.data)
		if got, want := recs(m.answers), []string{"alice.local. 10.0.0.1 120 flush", "alice.local. fe80::1 120 flush"}; !slices.Equal(got, want) || len(m.questions) != 0 || !m.header.Authoritative {
			t.Errorf("announcement %d: answers %q, %d questions, AA %v; want %q, none, true", i, got, len(m.questions), m.header.Authoritative, want)
		}
	}
	t.Logf("registered in %v", anns[0].at.Sub(start))
}

// TestProbeTimingRFC checks the RFC's intervals in protocol time: after
// a random wait of up to 250 ms, three probes 250 ms apart and 250 ms
// after the last, so Register takes 750 ms to 1 s; the announcements
// follow at once and one second later.
func TestProbeTimingRFC(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		a := h.host(iface("lan0", 0, 1)).conn(t, rfcTiming)
		start := time.Now()
		register(t, a, "alice")
		took := time.Since(start)
		if took < 750*time.Millisecond || took > time.Second {
			t.Errorf("Register took %v, want 750 ms to 1 s", took)
		}
		time.Sleep(2 * time.Second)
		var at []time.Duration
		for _, p := range h.packets(func(p hubPacket, m message) bool { return p.dst == groupV4 }) {
			at = append(at, p.at.Sub(start))
		}
		first := took - 750*time.Millisecond // the random wait
		want := []time.Duration{first, first + 250*time.Millisecond, first + 500*time.Millisecond, took, took + time.Second}
		if !slices.Equal(at, want) {
			t.Errorf("probes and announcements at %v, want %v", at, want)
		}
	})
}

func TestConflict(t *testing.T) {
	testkit.CheckLeaks(t)
	h := &hub{}
	a := h.host(iface("lan0", 0, 1)).conn(t, testTiming)
	b := h.host(iface("lan0", 0, 2)).conn(t, testTiming)
	register(t, a, "alice")
	for _, name := range []string{"alice", "ALICE.local", "Alice.Local."} {
		err := b.Register(t.Context(), name)
		var ce *ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) {
			t.Fatalf("Register(%q) on a second host = %v, want a *ConflictError", name, err)
		}
		if ce.Name != "alice.local" || ce.Iface != "lan0" || (ce.Host != netip.MustParseAddr("10.0.0.1") && ce.Host != netip.MustParseAddr("fe80::1")) {
			t.Errorf("conflict %+v, want alice.local, host 10.0.0.1 or fe80::1, lan0", ce)
		}
		if want := "mdns: alice.local is taken: host " + ce.Host.String() + " answered on lan0"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	}
	// The loser can take another name, and the winner still answers.
	register(t, b, "bob")
	if got, err := b.LookupHost(t.Context(), "alice"); err != nil || !slices.Contains(got, "10.0.0.1") {
		t.Errorf("LookupHost(alice) = %v, %v; want 10.0.0.1", got, err)
	}
}

func TestRegisterErrors(t *testing.T) {
	h := &hub{}
	a := h.host(iface("lan0", 0, 1)).conn(t, testTiming)
	register(t, a, "alice")
	tests := []struct {
		name string
		want error
		msg  string
	}{
		{"", ErrBadName, `mdns: bad name "": empty`},
		{"a.b", ErrBadName, `mdns: bad name "a.b": '.' at offset 1: a name is one DNS label, with no dots, spaces, control characters or backslashes`},
		{strings.Repeat("x", 64), ErrBadName, `mdns: bad name "` + strings.Repeat("x", 64) + `": label of 64 octets, the limit is 63`},
		{"ALICE", nil, "mdns: alice.local is already registered on this connection"},
	}
	for _, tt := range tests {
		err := a.Register(t.Context(), tt.name)
		if err == nil || err.Error() != tt.msg || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("Register(%q) = %v, want %q", tt.name, err, tt.msg)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.Register(ctx, "carol"); !errors.Is(err, context.Canceled) {
		t.Errorf("Register with a canceled context = %v, want context.Canceled", err)
	}
	a.Close()
	if err := a.Register(t.Context(), "dave"); !errors.Is(err, ErrClosed) {
		t.Errorf("Register after Close = %v, want ErrClosed", err)
	}
}

// TestSimultaneousProbe: two hosts probe for one name at once; the §8.2
// tie-break lets exactly one have it.
func TestSimultaneousProbe(t *testing.T) {
	h := &hub{}
	a := h.host(iface("lan0", 0, 1)).conn(t, testTiming)
	b := h.host(iface("lan0", 0, 2)).conn(t, testTiming)
	errs := make(chan error, 2)
	for _, c := range []*Conn{a, b} {
		go func() { errs <- c.Register(t.Context(), "alice") }()
	}
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("Register on both hosts at once: %v and %v, want exactly one error", e1, e2)
	}
	if err := cmpOr(e1, e2); !errors.Is(err, ErrConflict) {
		t.Errorf("loser's error %v, want ErrConflict", err)
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// answerCase is one query sent to a host named alice with interfaces on
// segments 0 (10.0.0.1, fe80::1) and 1 (10.0.1.1, fe80::1:1).
type answerCase struct {
	name    string
	segment int // where the querier is
	port    uint16
	id      uint16
	qs      []outQuestion
	known   []outRecord
	opcode  dnsmessage.OpCode
	rcode   dnsmessage.RCode
	// want: no reply if answers is nil
	answers     []string
	additionals []string
	unicast     bool // reply to the querier's address, else to the group
	echoQ       bool // questions and ID repeated (legacy)
}

func TestAnswers(t *testing.T) {
	q := func(name string, typ dnsmessage.Type, qu bool) []outQuestion {
		return []outQuestion{{name: mustName(name), qtype: typ, unicast: qu}}
	}
	a0, a1 := "alice.local. 10.0.0.1 120 flush", "alice.local. 10.0.1.1 120 flush"
	aaaa0, aaaa1 := "alice.local. fe80::1 120 flush", "alice.local. fe80::1:1 120 flush"
	tests := []answerCase{
		{name: "A on segment 0", qs: q("alice.local.", dnsmessage.TypeA, false), answers: []string{a0}, additionals: []string{aaaa0}},
		{name: "A on segment 1", segment: 1, qs: q("alice.local.", dnsmessage.TypeA, false), answers: []string{a1}, additionals: []string{aaaa1}},
		{name: "AAAA", segment: 1, qs: q("alice.local.", dnsmessage.TypeAAAA, false), answers: []string{aaaa1}, additionals: []string{a1}},
		{name: "ANY", qs: q("alice.local.", dnsmessage.TypeALL, false), answers: []string{a0, aaaa0}},
		{name: "case-insensitive", qs: q("AlIcE.LOCAL.", dnsmessage.TypeA, false), answers: []string{a0}, additionals: []string{aaaa0}},
		{name: "other name", qs: q("bob.local.", dnsmessage.TypeA, false)},
		{name: "other type", qs: q("alice.local.", dnsmessage.TypeTXT, false)},
		{name: "QU", qs: q("alice.local.", dnsmessage.TypeA, true), answers: []string{a0}, additionals: []string{aaaa0}, unicast: true},
		{name: "legacy", port: 40000, id: 0x1234, qs: q("alice.local.", dnsmessage.TypeA, false), unicast: true, echoQ: true,
			answers: []string{"alice.local. 10.0.0.1 10"}, additionals: []string{"alice.local. fe80::1 10"}},
		{name: "known answer suppressed", qs: q("alice.local.", dnsmessage.TypeA, false),
			known: []outRecord{{name: mustName("alice.local."), addr: netip.MustParseAddr("10.0.0.1"), ttl: 120}}},
		{name: "known answer with half TTL suppressed", qs: q("alice.local.", dnsmessage.TypeALL, false), answers: []string{aaaa0},
			known: []outRecord{{name: mustName("alice.local."), addr: netip.MustParseAddr("10.0.0.1"), ttl: 60}}},
		{name: "known answer under half TTL not suppressed", qs: q("alice.local.", dnsmessage.TypeA, false), answers: []string{a0}, additionals: []string{aaaa0},
			known: []outRecord{{name: mustName("alice.local."), addr: netip.MustParseAddr("10.0.0.1"), ttl: 59}}},
		{name: "OPCODE non-zero ignored", opcode: 2, qs: q("alice.local.", dnsmessage.TypeA, false)},
		{name: "RCODE non-zero ignored", rcode: dnsmessage.RCodeFormatError, qs: q("alice.local.", dnsmessage.TypeA, false)},
	}
	h := &hub{}
	tm := testTiming
	tm.rateLimit = 0 // each row's multicast answer is sent at once
	c := h.host(iface("lan0", 0, 1), iface("lan1", 1, 1)).conn(t, tm)
	register(t, c, "alice")
	waitAnnounced(t, h, 2*2*2) // two announcements, two interfaces, two families
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := tt.port
			if port == 0 {
				port = Port
			}
			qh := h.host(iface("q0", tt.segment, 9))
			cl := qh.client(t, false, port)
			defer cl.pc.close()
			// A listener on the group sees multicast replies.
			group := qh.client(t, false, Port)
			defer group.pc.close()
			msg := query(t, dnsmessage.Header{ID: tt.id, OpCode: tt.opcode, RCode: tt.rcode}, tt.qs, tt.known)
			cl.send(msg, groupV4)
			var got hubDelivery
			var m message
			var ok bool
			if tt.unicast {
				got, m, ok = cl.recvResponse(300 * time.Millisecond)
			} else {
				got, m, ok = group.recvResponse(300 * time.Millisecond)
			}
			if tt.answers == nil {
				if ok {
					t.Fatalf("got a reply %q to %v, want none", recs(m.answers), got.dst)
				}
				return
			}
			if !ok {
				t.Fatalf("no reply, want answers %q", tt.answers)
			}
			if g, w := recs(m.answers), tt.answers; !slices.Equal(g, w) {
				t.Errorf("answers %q, want %q", g, w)
			}
			if g, w := recs(m.additionals), tt.additionals; !slices.Equal(g, w) {
				t.Errorf("additionals %q, want %q", g, w)
			}
			if gotUni := !got.dst.IsMulticast(); gotUni != tt.unicast {
				t.Errorf("reply to %v, want unicast %v", got.dst, tt.unicast)
			}
			if tt.echoQ {
				wantQ := []question{{name: "alice.local.", qtype: dnsmessage.TypeA, class: dnsmessage.ClassINET}}
				if m.header.ID != tt.id || !slices.Equal(m.questions, wantQ) {
					t.Errorf("legacy reply ID %#x, questions %+v; want %#x, %+v", m.header.ID, m.questions, tt.id, wantQ)
				}
			} else if m.header.ID != 0 || len(m.questions) != 0 {
				t.Errorf("reply ID %#x with %d questions, want 0 and none", m.header.ID, len(m.questions))
			}
			if !m.header.Authoritative {
				t.Errorf("reply without the AA bit")
			}
		})
	}
}

// TestRateLimit: multicast answers for a name go out at most once per
// rate-limit period per interface and family; one held back is sent
// when the period ends, however many queries came in it.
func TestRateLimit(t *testing.T) {
	synctest.Test(t, testRateLimit)
}

func testRateLimit(t *testing.T) {
	h := &hub{}
	c := h.host(iface("lan0", 0, 1)).conn(t, testTiming)
	register(t, c, "alice")
	waitAnnounced(t, h, 2*2)
	// Let the last announcement's period pass.
	time.Sleep(testTiming.rateLimit)
	qh := h.host(iface("q0", 0, 9))
	cl := qh.client(t, false, Port)
	msg := query(t, dnsmessage.Header{}, []outQuestion{{name: mustName("alice.local."), qtype: dnsmessage.TypeA}}, nil)
	h.reset()
	start := time.Now()
	for range 10 {
		cl.send(msg, groupV4)
	}
	var at []time.Duration
	for {
		_, _, ok := cl.recvResponse(2 * testTiming.rateLimit)
		if !ok {
			break
		}
		at = append(at, time.Since(start))
	}
	if len(at) != 2 {
		t.Fatalf("%d multicast answers to 10 queries at once, at %v; want 2", len(at), at)
	}
	if at[0] != 0 || at[1] != testTiming.rateLimit {
		t.Errorf("answers at %v, want one at once and one after %v", at, testTiming.rateLimit)
	}
}

// TestOwnPacketsNoConflict: a response this Conn sent and hears back is
// not another host's answer; the same records from elsewhere are.
func TestOwnPacketsNoConflict(t *testing.T) {
	h := &hub{}
	hh := h.host(iface("lan0", 0, 1))
	c := hh.conn(t, testTiming)
	r := &registration{fq: "alice.local.", name: mustName("alice.local."), conflict: make(chan *ConflictError, 1), lost: make(chan struct{}, 1)}
	c.mu.Lock()
	c.names[r.fq] = r // probing
	c.mu.Unlock()
	resp := func(id uint16) []byte {
		b, err := buildMessage(nil, dnsmessage.Header{ID: id, Response: true}, nil,
			addrRecords(r.name, []netip.Addr{netip.MustParseAddr("10.0.0.1")}, 120, true), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pc := c.conns[0]
	src := netip.MustParseAddrPort("10.0.0.1:5353")
	c.send(pc, resp(0), groupV4, 1) // it is now ours
	c.handlePacket(pc, resp(0), src, groupV4.Addr(), 1)
	select {
	case e := <-r.conflict:
		t.Fatalf("own looped-back packet taken as a conflict: %v", e)
	default:
	}
	c.handlePacket(pc, resp(1), src, groupV4.Addr(), 1)
	select {
	case <-r.conflict:
	default:
		t.Fatalf("a response for the name from another host is no conflict")
	}
}

// TestGoodbye: Close sends the records with TTL 0, and a resolver's cache
// forgets them after one second (RFC 6762 §10.1). In protocol time.
func TestGoodbye(t *testing.T) {
	testkit.CheckLeaks(t)
	synctest.Test(t, testGoodbye)
}

func testGoodbye(t *testing.T) {
	h := &hub{}
	a := h.host(iface("lan0", 0, 1)).conn(t, rfcTiming)
	b := h.host(iface("lan0", 0, 2)).conn(t, rfcTiming)
	register(t, a, "alice")
	if got, err := b.LookupHost(t.Context(), "alice"); err != nil || len(got) != 2 {
		t.Fatalf("LookupHost = %v, %v; want two addresses", got, err)
	}
	// Let the answers still on their way (alice answers each family's
	// query) arrive before counting, so that only Close's packets count.
	synctest.Wait()
	h.reset()
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	byes := h.packets(func(p hubPacket, m message) bool { return m.header.Response })
	if len(byes) != 2 {
		t.Fatalf("%d goodbye packets, want 2 (IPv4, IPv6)", len(byes))
	}
	for _, p := range byes {
		m, _ := parseMessage(p.data)
		if got, want := recs(m.answers), []string{"alice.local. 10.0.0.1 0", "alice.local. fe80::1 0"}; !slices.Equal(got, want) {
			t.Errorf("goodbye %q, want %q", got, want)
		}
	}
	lookup := func() error {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := b.LookupHost(ctx, "alice")
		return err
	}
	if err := lookup(); err != nil {
		t.Errorf("lookup right after goodbye: %v, want the record for one more second", err)
	}
	time.Sleep(rfcTiming.flushGrace)
	if err := lookup(); !errors.Is(err, ErrNoAnswer) {
		t.Errorf("lookup a second after goodbye: %v, want ErrNoAnswer", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
}

func TestCompareRecords(t *testing.T) {
	ip := netip.MustParseAddr
	tests := []struct {
		name string
		a, b []netip.Addr
		want int
	}{
		{"equal", []netip.Addr{ip("10.0.0.1")}, []netip.Addr{ip("10.0.0.1")}, 0},
		{"rdata", []netip.Addr{ip("10.0.0.1")}, []netip.Addr{ip("10.0.0.2")}, -1},
		{"A before AAAA", []netip.Addr{ip("::1")}, []netip.Addr{ip("10.0.0.1")}, 1},
		{"order does not matter", []netip.Addr{ip("10.0.0.2"), ip("10.0.0.1")}, []netip.Addr{ip("10.0.0.1"), ip("10.0.0.2")}, 0},
		{"shorter is less", []netip.Addr{ip("10.0.0.1")}, []netip.Addr{ip("10.0.0.1"), ip("::1")}, -1},
	}
	for _, tt := range tests {
		got := compareRecords(tt.a, tt.b)
		if (got < 0) != (tt.want < 0) || (got > 0) != (tt.want > 0) {
			t.Errorf("%s: compareRecords = %d, want sign of %d", tt.name, got, tt.want)
		}
	}
}

// waitAnnounced waits until the hub has carried n responses.
func waitAnnounced(t *testing.T, h *hub, n int) {
	t.Helper()
	if !h.waitFor(n, func(p hubPacket, m message) bool { return m.header.Response }, 5*time.Second) {
		t.Fatalf("fewer than %d announcements in 5 s", n)
	}
}
