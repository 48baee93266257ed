package mdns

import (
	"net/netip"
	"slices"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file answers queries for the host names the Conn owns (§6):
// which names a query asks about, what the querier already knows (§7.1),
// and how the answer goes: unicast (§5.4, §5.5), legacy unicast (§6.7)
// or multicast at most once a second (§6).

// hit is one registered name a query asks about.
type hit struct {
	r             *registration
	wantA, wantAA bool // answer A, AAAA records (else they go in additionals, §6.2)
	unicast       bool // every question for the name has the QU bit (§5.4)
	probe         bool // the query is another host's probe for the name (§8.1)
}

// handleQuery handles a query m from another socket (own unset) or
// ours: another host's probes go to the tie-breaks of §8.2
// (conflict.go), the questions for our services to answerServices
// (serviceanswer.go), and those for our established names are answered
// here.
func (c *Conn) handleQuery(pc packetConn, m message, src netip.AddrPort, dst netip.Addr, ifindex int, own bool) {
	legacy := src.Port() != Port
	if !own && !legacy {
		c.checkProbes(m, ifindex)
		c.checkServiceProbes(m)
		c.noteDuplicates(pc, m, ifindex) // dupquestion.go
	}
	if !own {
		c.answerServices(pc, m, src, dst, ifindex) // serviceanswer.go
	}
	hits := c.match(m)
	if len(hits) == 0 {
		return
	}
	// §5.5: a query sent to our unicast address is answered by unicast.
	direct := dst.IsValid() && !dst.IsMulticast()
	v4, v6 := c.addrs(ifindex)
	for _, h := range hits {
		var ans, add []netip.Addr
		if h.wantA {
			ans = append(ans, v4...)
		} else {
			add = append(add, v4...)
		}
		if h.wantAA {
			ans = append(ans, v6...)
		} else {
			add = append(add, v6...)
		}
		// §7.1: leave out what the querier already knows with at least
		// half our TTL left.
		ans = suppressKnown(ans, m.answers, h.r.fq)
		add = suppressKnown(add, m.answers, h.r.fq)
		if len(ans) == 0 {
			continue
		}
		switch {
		case legacy:
			c.replyLegacy(pc, m, h, ans, add, src, ifindex)
		case h.unicast || direct:
			// §5.4: a QU question gets a unicast answer; it is multicast
			// too when the record was not multicast for a quarter of
			// its TTL (to refresh every cache) and when the querier is
			// a prober (§8.1) or on this host, because a unicast to
			// port 5353 reaches just one of the sockets sharing it.
			c.reply(pc, h.r, ans, add, src, ifindex)
			if c.isLocal(src.Addr()) {
				// Same host: multicast it, at most ten times a second
				// rather than once, so local lookups stay fast.
				c.multicastAnswer(pc, h, ans, add, ifindex, c.timing.rateLimit/10)
				continue
			}
			if !h.probe && c.multicastWithin(h.r.fq, ifindex, pc, defaultTTL*time.Second/4) {
				continue
			}
			c.multicastAnswer(pc, h, ans, add, ifindex, c.timing.rateLimit)
		default:
			c.multicastAnswer(pc, h, ans, add, ifindex, c.timing.rateLimit)
		}
	}
}

// match returns the established names that m's questions ask about with
// a type we answer (A, AAAA, ANY) and class IN or ANY.
func (c *Conn) match(m message) []hit {
	var hits []hit
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range m.questions {
		r := c.names[q.name]
		if r == nil || !r.established {
			continue
		}
		if q.class != dnsmessage.ClassINET && q.class != dnsmessage.ClassANY {
			continue
		}
		if q.qtype != dnsmessage.TypeA && q.qtype != dnsmessage.TypeAAAA && q.qtype != dnsmessage.TypeALL {
			continue
		}
		i := slices.IndexFunc(hits, func(h hit) bool { return h.r == r })
		if i < 0 {
			hits = append(hits, hit{r: r, unicast: true})
			i = len(hits) - 1
		}
		h := &hits[i]
		h.wantA = h.wantA || q.qtype != dnsmessage.TypeAAAA
		h.wantAA = h.wantAA || q.qtype != dnsmessage.TypeA
		h.unicast = h.unicast && q.unicast
		h.probe = h.probe || slices.ContainsFunc(m.authorities, func(a record) bool { return a.name == r.fq })
	}
	return hits
}

func suppressKnown(addrs []netip.Addr, known []record, fq string) []netip.Addr {
	return slices.DeleteFunc(addrs, func(a netip.Addr) bool {
		return slices.ContainsFunc(known, func(k record) bool {
			return k.name == fq && k.addr.WithZone("") == a && k.ttl >= defaultTTL/2
		})
	})
}

// reply unicasts an answer to a QU question to src (§5.4, §6).
func (c *Conn) reply(pc packetConn, r *registration, ans, add []netip.Addr, src netip.AddrPort, ifindex int) {
	b, err := buildMessage(nil, dnsmessage.Header{Response: true, Authoritative: true}, nil,
		addrRecords(r.name, ans, defaultTTL, true), nil, addrRecords(r.name, add, defaultTTL, true))
	if err != nil {
		c.log.Debug("mdns: build reply", "err", err)
		return
	}
	c.send(pc, b, src, ifindex)
}

// replyLegacy answers a query from a port other than 5353, a one-shot
// resolver such as dig or drill (§6.7): unicast to its address and port,
// its ID and questions repeated, TTL at most 10, no cache-flush bit.
func (c *Conn) replyLegacy(pc packetConn, m message, h hit, ans, add []netip.Addr, src netip.AddrPort, ifindex int) {
	b, err := buildMessage(nil, dnsmessage.Header{ID: m.header.ID, Response: true, Authoritative: true}, echoQuestions(m),
		addrRecords(h.r.name, ans, legacyTTL, false), nil, addrRecords(h.r.name, add, legacyTTL, false))
	if err != nil {
		c.log.Debug("mdns: build legacy reply", "err", err)
		return
	}
	c.send(pc, b, src, ifindex)
}

// echoQuestions returns m's questions, to repeat in a legacy unicast
// reply (§6.7).
func echoQuestions(m message) []outQuestion {
	var qs []outQuestion
	for _, q := range m.questions {
		if n, err := dnsmessage.NewName(q.name); err == nil {
			qs = append(qs, outQuestion{name: n, qtype: q.qtype})
		}
	}
	return qs
}

// multicastWithin reports whether fq was multicast on ifindex in pc's
// family within d.
func (c *Conn) multicastWithin(fq string, ifindex int, pc packetConn, d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	last, ok := c.lastMcast[mcastKey{fq, ifindex, pc.group().Addr().Is6()}]
	return ok && time.Since(last) < d
}

// multicastAnswer multicasts an answer on ifindex, at most once per limit
// (a second, §6) per name, interface and family; an answer held back by
// that limit is sent when the period is over, once. Answers to probes
// are not held back (§6, §8.1).
func (c *Conn) multicastAnswer(pc packetConn, h hit, ans, add []netip.Addr, ifindex int, limit time.Duration) {
	key := mcastKey{h.r.fq, ifindex, pc.group().Addr().Is6()}
	send := func() {
		b, err := buildMessage(nil, dnsmessage.Header{Response: true, Authoritative: true}, nil,
			addrRecords(h.r.name, ans, defaultTTL, true), nil, addrRecords(h.r.name, add, defaultTTL, true))
		if err != nil {
			c.log.Debug("mdns: build answer", "err", err)
			return
		}
		c.send(pc, b, pc.group(), ifindex)
	}
	c.multicastPaced(key, func(since time.Duration, ok bool) time.Duration {
		if !ok || h.probe {
			return 0
		}
		return limit - since
	}, send)
}

// multicastPaced calls send now if wait, asked under c.mu with the time
// since key's last multicast (ok false: none yet), is not positive; else
// it sends once wait has passed, unless a send for key is pending
// already. Either way the send is key's last multicast from then on.
func (c *Conn) multicastPaced(key mcastKey, wait func(since time.Duration, ok bool) time.Duration, send func()) {
	now := time.Now()
	c.mu.Lock()
	last, ok := c.lastMcast[key]
	d := wait(now.Sub(last), ok)
	if d <= 0 {
		c.lastMcast[key] = now
		c.mu.Unlock()
		send()
		return
	}
	if !c.pending[key] {
		c.pending[key] = c.goAfter(d, func() {
			c.mu.Lock()
			delete(c.pending, key)
			c.lastMcast[key] = time.Now()
			c.mu.Unlock()
			send()
		})
	}
	c.mu.Unlock()
}
