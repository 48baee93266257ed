package mdns

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// The duplicate question suppression tests (RFC 6762 §7.3) run in
// protocol time (testing/synctest) on the hub.

const scuttleFQ = "_scuttle._tcp.local."

func ptrKnown(inst string, ttl uint32) outRecord {
	return outRecord{rtype: dnsmessage.TypePTR, name: mustName(scuttleFQ), target: mustName(inst + "." + scuttleFQ), ttl: ttl}
}

// ptrQueries returns the families ("v4", "v6") of the logged QM or QU
// queries for the type's PTR records sent from addresses in from.
func ptrQueries(h *hub, from []netip.Addr, qu bool) []string {
	var out []string
	for _, p := range h.packets(func(p hubPacket, m message) bool {
		return !m.header.Response && len(m.questions) > 0 && m.questions[0].qtype == dnsmessage.TypePTR &&
			m.questions[0].name == scuttleFQ && m.questions[0].unicast == qu && slices.Contains(from, p.src.Addr())
	}) {
		if p.src.Addr().Is4() {
			out = append(out, "v4")
		} else {
			out = append(out, "v6")
		}
	}
	return out
}

// TestDuplicateQuestion: another host's query for the PTR records bob's
// browser is about to ask for, seen shortly before on one interface and
// family, makes bob leave its own out there, when it is a QM question
// and its known answers are records bob would list too (alice and
// carol, in its cache with more than half their TTL) or bob's own
// instance; not when they hold a record bob lacks or holds with less
// than half its TTL left (it wants that one answered), when the TC bit
// says more known answers follow, or when the question differs.
func TestDuplicateQuestion(t *testing.T) {
	tests := []struct {
		name   string
		qs     []outQuestion
		known  []outRecord
		tc     bool          // the TC bit (§7.2)
		v6     bool          // the duplicate comes over IPv6, else IPv4
		port   uint16        // its source port: 5353 unless set
		cut    bool          // its answer count claims one more record than it holds
		age    time.Duration // from the duplicate to bob's query
		window time.Duration // bob's window; a second unless set
		want   []string      // the families bob's query goes out on
	}{
		{name: "the same known answers", known: []outRecord{ptrKnown("alice", 4500), ptrKnown("carol", 4500)}, want: []string{"v6"}},
		{name: "fewer known answers", known: []outRecord{ptrKnown("carol", 4500)}, want: []string{"v6"}},
		{name: "no known answers", want: []string{"v6"}},
		{name: "bob's own instance among them", known: []outRecord{ptrKnown("alice", 4500), ptrKnown("Bob", 4500), ptrKnown("carol", 4500)}, want: []string{"v6"}},
		{name: "other case", qs: []outQuestion{{name: mustName("_SCUTTLE._TCP.local."), qtype: dnsmessage.TypePTR}},
			known: []outRecord{{rtype: dnsmessage.TypePTR, name: mustName("_SCUTTLE._TCP.local."), target: mustName("ALICE._scuttle._tcp.local."), ttl: 4500}}, want: []string{"v6"}},
		{name: "over IPv6", v6: true, known: []outRecord{ptrKnown("alice", 4500)}, want: []string{"v4"}},
		{name: "just within the window", age: 999 * time.Millisecond, want: []string{"v6"}},
		{name: "within a longer window", age: 4 * time.Second, window: 4 * time.Second, want: []string{"v6"}},
		{name: "a record bob lacks", known: []outRecord{ptrKnown("alice", 4500), ptrKnown("eve", 4500)}, want: []string{"v4", "v6"}},
		{name: "a record with less than half its TTL left at bob", known: []outRecord{ptrKnown("alice", 4500), ptrKnown("dave", 4500)}, want: []string{"v4", "v6"}},
		{name: "TC bit", tc: true, known: []outRecord{ptrKnown("alice", 4500)}, want: []string{"v4", "v6"}},
		{name: "known answers not all read", cut: true, known: []outRecord{ptrKnown("alice", 4500)}, want: []string{"v4", "v6"}},
		{name: "QU question", qs: []outQuestion{{name: mustName(scuttleFQ), qtype: dnsmessage.TypePTR, unicast: true}}, want: []string{"v4", "v6"}},
		{name: "another type", qs: []outQuestion{{name: mustName("_other._tcp.local."), qtype: dnsmessage.TypePTR}}, want: []string{"v4", "v6"}},
		{name: "ANY question", qs: []outQuestion{{name: mustName(scuttleFQ), qtype: dnsmessage.TypeALL}}, want: []string{"v4", "v6"}},
		{name: "legacy querier", port: 40000, want: []string{"v4", "v6"}},
		{name: "too long ago", age: 1001 * time.Millisecond, want: []string{"v4", "v6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &hub{}
				bob := serviceHost(t, h, 2, Service{Instance: "Bob", Type: "_scuttle._tcp", Host: "bob", Port: 5000})
				wantScuttle(t, bob)
				now := time.Now()
				bob.mu.Lock()
				for inst, added := range map[string]time.Time{"alice": now, "carol": now, "dave": now.Add(-3000 * time.Second)} {
					fq := inst + "." + scuttleFQ
					bob.svcCache.ptrs[ptrKey{scuttleFQ, fq}] = svcRecord{added: added, expires: added.Add(4500 * time.Second), owner: scuttleFQ, target: fq}
				}
				bob.mu.Unlock()

				qs := tt.qs
				if qs == nil {
					qs = []outQuestion{{name: mustName(scuttleFQ), qtype: dnsmessage.TypePTR}}
				}
				b := query(t, dnsmessage.Header{Truncated: tt.tc}, qs, tt.known)
				if tt.cut {
					b[7]++ // ANCOUNT
				}
				port := tt.port
				if port == 0 {
					port = Port
				}
				cl := h.host(iface("lan0", 0, 9)).client(t, tt.v6, port)
				dst := groupV4
				if tt.v6 {
					dst = groupV6
				}
				cl.send(b, dst)
				synctest.Wait()
				time.Sleep(tt.age)
				h.reset()
				window := tt.window
				if window == 0 {
					window = time.Second
				}
				bob.queryPTR(mustName(scuttleFQ), scuttleFQ, false, window)
				synctest.Wait()
				got := ptrQueries(h, []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fe80::2")}, false)
				if !slices.Equal(got, tt.want) {
					t.Errorf("bob's query went out on %v, want %v", got, tt.want)
				}
			})
		})
	}
}

// TestDuplicateQuestionOwn: bob's own query, heard back (multicast
// loopback), is no duplicate: asked again, it goes out again.
func TestDuplicateQuestionOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		bob := h.host(iface("lan0", 0, 2)).conn(t, rfcTiming)
		wantScuttle(t, bob)
		for range 2 {
			bob.queryPTR(mustName(scuttleFQ), scuttleFQ, false, time.Second)
			synctest.Wait()
		}
		got := ptrQueries(h, []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fe80::2")}, false)
		if want := []string{"v4", "v6", "v4", "v6"}; !slices.Equal(got, want) {
			t.Errorf("bob's two queries went out on %v, want %v", got, want)
		}
	})
}

// TestDuplicateQuestionBound: a stranger asking bob's question every
// 5 s (from 2.5 s on, over IPv4) makes bob's browser leave out its own
// there as long as bob sent it less than maxBrowseInterval before, and
// no longer: its IPv4 queries go at 0 s (QU), 1 s, 7 s, then at the
// first due time an hour after (4095 s) and at each due time after
// that, an hour apart; over IPv6, which the stranger does not use,
// every query of the doubling series goes.
func TestDuplicateQuestionBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hub{}
		bob := h.host(iface("lan0", 0, 2)).conn(t, rfcTiming)
		cl := h.host(iface("lan0", 0, 9)).client(t, false, Port)
		dup := query(t, dnsmessage.Header{}, []outQuestion{{name: mustName(scuttleFQ), qtype: dnsmessage.TypePTR}}, nil)
		const until = 11300 * time.Second
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		stranger := make(chan struct{})
		go func() {
			defer close(stranger)
			time.Sleep(2500 * time.Millisecond)
			for time.Since(start) < until {
				cl.send(dup, groupV4)
				time.Sleep(5 * time.Second)
			}
		}()
		b := make(chan error, 1)
		go func() { b <- bob.Browse(ctx, "_scuttle._tcp", func(ServiceEntry) {}) }()
		time.Sleep(until)
		cancel()
		<-b
		<-stranger
		at := map[string][]time.Duration{}
		for _, p := range h.packets(func(p hubPacket, m message) bool {
			return !m.header.Response && p.src.Port() == Port && (p.src.Addr() == netip.MustParseAddr("10.0.0.2") || p.src.Addr() == netip.MustParseAddr("fe80::2"))
		}) {
			fam := "v4"
			if p.src.Addr().Is6() {
				fam = "v6"
			}
			at[fam] = append(at[fam], p.at.Sub(start))
		}
		secs := func(s ...int) []time.Duration {
			var out []time.Duration
			for _, x := range s {
				out = append(out, time.Duration(x)*time.Second)
			}
			return out
		}
		if want := secs(0, 1, 7, 4095, 7695, 11295); !slices.Equal(at["v4"], want) {
			t.Errorf("IPv4 queries at %v, want %v", at["v4"], want)
		}
		if want := secs(0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 2047, 4095, 7695, 11295); !slices.Equal(at["v6"], want) {
			t.Errorf("IPv6 queries at %v, want %v", at["v6"], want)
		}
	})
}

// TestDuplicateQuestionRoom: eight chats that register their instances
// and start browsing 100 ms apart, as a room started together does.
// Each lists the others as known answers, the first's list is no more
// than what each other one knows plus its own instance, so from the
// second round on the first asks and the others leave their query out:
// one QM query per round and family (at 1, 3, 7, 15, 31 and 63 s)
// instead of eight. Each first query, with the QU bit, still goes.
// Then the instances' records are refreshed with one query each.
func TestDuplicateQuestionRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 8
		h := &hub{}
		var conns []*Conn
		var addrs []netip.Addr
		for i := range n {
			name := fmt.Sprintf("h%d", i)
			conns = append(conns, serviceHost(t, h, byte(i+1), Service{Instance: name, Type: "_scuttle._tcp", Host: name, Port: 5000}))
			addrs = append(addrs, netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 15: byte(i + 1)}))
		}
		h.reset()
		start := time.Now()
		found := make([]map[string]bool, n)
		for i, c := range conns {
			found[i] = map[string]bool{}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			t.Cleanup(func() { cancel(); <-done })
			go func() {
				defer close(done)
				c.Browse(ctx, "_scuttle._tcp", func(e ServiceEntry) { found[i][e.Instance] = true })
			}()
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(64*time.Second - time.Since(start))
		synctest.Wait()
		for i := range n {
			if len(found[i]) != n-1 {
				t.Errorf("h%d found %d instances, want %d", i, len(found[i]), n-1)
			}
		}
		if got, want := ptrQueries(h, addrs, true), slices.Repeat([]string{"v4", "v6"}, n); !slices.Equal(got, want) {
			t.Errorf("QU PTR queries: %v, want %v", got, want)
		}
		qm := ptrQueries(h, addrs, false)
		first := ptrQueries(h, addrs[:2], false)
		if want := slices.Repeat([]string{"v4", "v6"}, 6); !slices.Equal(qm, want) || !slices.Equal(first, want) {
			t.Errorf("QM PTR queries: %v, %d of them from h0; want %v, all from h0", qm, len(first), want)
		}

		// Every chat multicasts its records at once (as answers to a
		// query that knows none would), so each cache holds them from
		// the same moment. At 80–82% of their TTL of 120 s (§5.2),
		// each instance's SRV and address records are asked for by
		// the chat whose random part of 2% comes first; the answer,
		// multicast, refreshes them at the others, which then need not
		// ask: one query per instance and family, not seven.
		for _, c := range conns {
			c.mu.Lock()
			var regs []*serviceReg
			for _, r := range c.services {
				regs = append(regs, r)
			}
			c.mu.Unlock()
			for _, r := range regs {
				c.announceService(r, false)
			}
		}
		synctest.Wait()
		h.reset()
		time.Sleep(120 * time.Second)
		synctest.Wait()
		asked := map[string]int{}
		for _, p := range h.packets(func(p hubPacket, m message) bool {
			return !m.header.Response && len(m.questions) > 0 && m.questions[0].qtype == dnsmessage.TypeSRV
		}) {
			m, _ := parseMessage(p.data)
			asked[fmt.Sprintf("%s %v", m.questions[0].name, p.src.Addr().Is6())]++
		}
		if len(asked) != 2*n {
			t.Errorf("SRV queries for %d instances and families, want %d: %v", len(asked), 2*n, asked)
		}
		for k, c := range asked {
			if c != 1 {
				t.Errorf("%d SRV queries for %s, want 1", c, k)
			}
		}
	})
}

// TestDuplicateInstanceQuestion: the questions of an instance's records
// (queryInstance) are weighed one by one. Another host asking for
// alice's SRV and TXT records over IPv4 leaves bob's IPv4 query with
// the address questions only; asking for those too leaves nothing to
// send there; a query holding a known answer to a question (bob lists
// none) does not count for that question.
func TestDuplicateInstanceQuestion(t *testing.T) {
	inst, host := "alice."+scuttleFQ, "alice.local."
	q := func(name string, typ dnsmessage.Type) outQuestion {
		return outQuestion{name: mustName(name), qtype: typ}
	}
	srv, txt := q(inst, dnsmessage.TypeSRV), q(inst, dnsmessage.TypeTXT)
	a, aaaa := q(host, dnsmessage.TypeA), q(host, dnsmessage.TypeAAAA)
	srvKnown := outRecord{rtype: dnsmessage.TypeSRV, name: mustName(inst), target: mustName(host), port: 4242, ttl: 120}
	tests := []struct {
		name   string
		qs     []outQuestion
		known  []outRecord
		v4, v6 string // bob's questions on each family, "" for no packet
	}{
		{name: "SRV and TXT", qs: []outQuestion{srv, txt}, v4: "A AAAA", v6: "SRV TXT A AAAA"},
		{name: "all four", qs: []outQuestion{srv, txt, a, aaaa}, v4: "", v6: "SRV TXT A AAAA"},
		{name: "TXT with a known SRV", qs: []outQuestion{srv, txt}, known: []outRecord{srvKnown}, v4: "SRV A AAAA", v6: "SRV TXT A AAAA"},
		{name: "another instance", qs: []outQuestion{q("carol."+scuttleFQ, dnsmessage.TypeSRV)}, v4: "SRV TXT A AAAA", v6: "SRV TXT A AAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &hub{}
				bob := h.host(iface("lan0", 0, 2)).conn(t, rfcTiming)
				wantScuttle(t, bob)
				now := time.Now()
				in := svcInstance{fq: inst, label: "alice", hasSRV: true,
					ptr: svcRecord{added: now, expires: now.Add(4500 * time.Second), owner: scuttleFQ, target: inst},
					srv: svcRecord{added: now, expires: now.Add(120 * time.Second), owner: inst, target: host, port: 4242}}
				bob.mu.Lock()
				bob.svcCache.ptrs[ptrKey{scuttleFQ, inst}] = in.ptr
				bob.svcCache.srvs[inst] = in.srv
				bob.mu.Unlock()

				cl := h.host(iface("lan0", 0, 9)).client(t, false, Port)
				cl.send(query(t, dnsmessage.Header{}, tt.qs, tt.known), groupV4)
				synctest.Wait()
				h.reset()
				bob.queryInstance(in, false, time.Second)
				synctest.Wait()
				got := map[bool]string{}
				for _, p := range h.packets(func(p hubPacket, m message) bool { return !m.header.Response }) {
					m, _ := parseMessage(p.data)
					var types []string
					for _, q := range m.questions {
						types = append(types, strings.TrimPrefix(q.qtype.String(), "Type"))
					}
					got[p.src.Addr().Is6()] = strings.Join(types, " ")
				}
				if got[false] != tt.v4 || got[true] != tt.v6 {
					t.Errorf("bob asked %q over IPv4 and %q over IPv6, want %q and %q", got[false], got[true], tt.v4, tt.v6)
				}
			})
		})
	}
}

// TestAllAnswers: a query's known answers count as complete only when
// every record its header counts was read.
func TestAllAnswers(t *testing.T) {
	for _, tt := range []struct {
		name string
		msg  []byte
		want bool
	}{
		{"no known answers", cat(hdr(0, 0, 1, 0, 0, 0), qPTR), true},
		{"one known answer", cat(hdr(0, 0, 1, 1, 0, 0), qPTR, rrPTR), true},
		{"one of two", cat(hdr(0, 0, 1, 2, 0, 0), qPTR, rrPTR), false},
		{"a record of a type not read", cat(hdr(0, 0, 1, 2, 0, 0), qPTR, rrPTR, scuttleType, u16(47), u16(1), u32(4500), u16(0)), false},
		{"a bad question", cat(hdr(0, 0, 1, 0, 0, 0), []byte{0xc0, 0xff}), false},
	} {
		m, err := parseMessage(tt.msg)
		if err != nil || m.allAnswers != tt.want {
			t.Errorf("%s: allAnswers %v, err %v; want %v", tt.name, m.allAnswers, err, tt.want)
		}
	}
}

// TestDupQuestionsBounded: the questions remembered for §7.3 stay at
// maxDupQuestions however many are asked; entries neither seen nor sent
// for maxBrowseInterval make room for new ones, the map being walked
// for them at most once a second.
func TestDupQuestionsBounded(t *testing.T) {
	c := &Conn{dups: make(map[questionKey]dupEntry)}
	key := func(i int) questionKey {
		return questionKey{name: fmt.Sprintf("h%d.local.", i), qtype: dnsmessage.TypeA, ifindex: 1}
	}
	now := time.Unix(1000, 0)
	for i := range 2 * maxDupQuestions {
		c.putDup(key(i), dupEntry{seen: now}, now)
	}
	if len(c.dups) != maxDupQuestions {
		t.Fatalf("%d questions remembered, want %d", len(c.dups), maxDupQuestions)
	}
	later := now.Add(maxBrowseInterval)
	c.dupsPruned = later.Add(-500 * time.Millisecond)
	c.putDup(key(-1), dupEntry{seen: later}, later)
	if _, ok := c.dups[key(-1)]; ok || len(c.dups) != maxDupQuestions {
		t.Errorf("half a second after a walk: %d remembered, the new one %v; want %d, not it", len(c.dups), ok, maxDupQuestions)
	}
	later = later.Add(500 * time.Millisecond)
	c.putDup(key(-1), dupEntry{seen: later}, later)
	if _, ok := c.dups[key(-1)]; !ok || len(c.dups) != 1 {
		t.Errorf("a second after a walk: %d remembered, the new one %v; want only it", len(c.dups), ok)
	}
}

// wantScuttle makes c a browser of _scuttle._tcp, as Browse does, until
// the test ends: its queries for the type are the ones suppressed.
func wantScuttle(t *testing.T, c *Conn) {
	t.Helper()
	unwant, err := c.wantType(scuttleFQ)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unwant)
}
