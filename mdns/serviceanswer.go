package mdns

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file answers queries for the services the Conn owns (RFC 6763
// §4, §9, §12): which services a query asks about, the records and
// additional records of each answer less those the querier knows
// (§7.1), and how they go: legacy unicast (§6.7), unicast (§5.4, §5.5)
// or multicast, shared records after a random delay (§6).

// serviceAnswer is what one query asks of one registered service.
type serviceAnswer struct {
	r         *serviceReg
	enum, ptr bool // answer the enumeration PTR, the type's PTR
	srv, txt  bool // answer the SRV, the TXT record
	unicast   bool // every question for it has the QU bit (§5.4)
	probe     bool // another host probes for the instance name (§8.1)
}

// answerServices answers the questions of m that ask about our
// established services (RFC 6763 §4, §9, §12). Answers holding only
// shared records (PTR) are multicast after a random 20–120 ms (§6), so
// the answers of several hosts do not collide; SRV and TXT records are
// unique and answered at once.
func (c *Conn) answerServices(pc packetConn, m message, src netip.AddrPort, dst netip.Addr, ifindex int) {
	if len(m.questions) == 0 {
		return
	}
	hits := c.matchServices(m)
	direct := dst.IsValid() && !dst.IsMulticast()
	for _, h := range hits {
		c.answerService(pc, m, h, src, direct, ifindex)
	}
}

// matchServices returns what m's questions of class IN or ANY ask of
// each established service: the enumeration PTR (once per type), the
// type's PTR, the instance's SRV and TXT records.
func (c *Conn) matchServices(m message) []*serviceAnswer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.services) == 0 {
		return nil
	}
	var hits []*serviceAnswer
	get := func(r *serviceReg) *serviceAnswer {
		for _, h := range hits {
			if h.r == r {
				return h
			}
		}
		h := &serviceAnswer{r: r, unicast: true}
		hits = append(hits, h)
		return h
	}
	enumTypes := map[string]bool{}
	for _, q := range m.questions {
		if q.class != dnsmessage.ClassINET && q.class != dnsmessage.ClassANY {
			continue
		}
		for _, r := range c.services {
			if !r.established {
				continue
			}
			var h *serviceAnswer
			switch {
			case q.name == servicesName && (q.qtype == dnsmessage.TypePTR || q.qtype == dnsmessage.TypeALL):
				if enumTypes[r.typeFQ] {
					continue // one PTR per type
				}
				enumTypes[r.typeFQ] = true
				h = get(r)
				h.enum = true
			case q.name == r.typeFQ && (q.qtype == dnsmessage.TypePTR || q.qtype == dnsmessage.TypeALL):
				h = get(r)
				h.ptr = true
			case q.name == r.fq && (q.qtype == dnsmessage.TypeSRV || q.qtype == dnsmessage.TypeTXT || q.qtype == dnsmessage.TypeALL):
				h = get(r)
				h.srv = h.srv || q.qtype != dnsmessage.TypeTXT
				h.txt = h.txt || q.qtype != dnsmessage.TypeSRV
				h.probe = h.probe || slices.ContainsFunc(m.authorities, func(a record) bool { return a.name == r.fq })
			default:
				continue
			}
			h.unicast = h.unicast && q.unicast
		}
	}
	return hits
}

// answerService sends the answer to h, a query m from src on ifindex
// (direct if it was sent to our unicast address), unless the querier
// knows every record already.
func (c *Conn) answerService(pc packetConn, m message, h *serviceAnswer, src netip.AddrPort, direct bool, ifindex int) {
	ans, add := c.serviceRecords(h, ifindex, pc, m.answers)
	if len(ans) == 0 {
		return
	}
	shared := !h.srv && !h.txt
	key := mcastKey{h.r.fq, ifindex, pc.group().Addr().Is6()}
	if shared {
		key.name = h.r.typeFQ
	}
	switch {
	case src.Port() != Port:
		// §6.7: to the querier's port, its ID and questions
		// repeated, TTL at most 10, no cache-flush bit.
		for _, rs := range [][]outRecord{ans, add} {
			for i := range rs {
				rs[i].ttl, rs[i].flush = min(rs[i].ttl, legacyTTL), false
			}
		}
		c.sendBuilt(pc, dnsmessage.Header{ID: m.header.ID, Response: true, Authoritative: true}, echoQuestions(m), ans, add, src, ifindex)
	case h.unicast || direct:
		// §5.4, §5.5: unicast; a querier on this host is also
		// answered by multicast, as for host names, because a
		// unicast to port 5353 reaches one of the sockets sharing
		// it; and so is a prober (§8.1), so every cache hears.
		c.sendBuilt(pc, dnsmessage.Header{Response: true, Authoritative: true}, nil, ans, add, src, ifindex)
		switch {
		case c.isLocal(src.Addr()):
			c.multicastService(pc, key, ans, add, ifindex, shared, h.probe, c.timing.rateLimit/10)
		case h.probe:
			c.multicastService(pc, key, ans, add, ifindex, shared, true, c.timing.rateLimit)
		}
	default:
		c.multicastService(pc, key, ans, add, ifindex, shared, h.probe, c.timing.rateLimit)
	}
}

// serviceRecords returns the answer and additional records for h on
// ifindex, less those the querier already holds with at least half
// their TTL left (§7.1). The additionals follow RFC 6763 §12: a PTR
// brings the SRV, the TXT and the host's addresses; an SRV brings the
// addresses.
func (c *Conn) serviceRecords(h *serviceAnswer, ifindex int, pc packetConn, known []record) (ans, add []outRecord) {
	r := h.r
	if h.enum {
		ans = append(ans, r.enumRecord(serviceTTL))
	}
	if h.ptr {
		ans = append(ans, r.ptrRecord(serviceTTL))
	}
	if h.srv {
		ans = append(ans, r.srvRecord(defaultTTL, true))
	}
	if h.txt {
		ans = append(ans, r.txtRecord(serviceTTL, true))
	}
	ans = slices.DeleteFunc(ans, func(o outRecord) bool { return knownAnswer(o, known) })
	if len(ans) == 0 {
		return nil, nil
	}
	if h.ptr && !h.srv {
		add = append(add, r.srvRecord(defaultTTL, true))
	}
	if h.ptr && !h.txt {
		add = append(add, r.txtRecord(serviceTTL, true))
	}
	if h.ptr || h.srv {
		add = append(add, c.hostRecords(r.host, ifindex, pc)...)
	}
	return ans, add
}

// knownAnswer reports whether known holds o with at least half its TTL
// (§7.1).
func knownAnswer(o outRecord, known []record) bool {
	name := lowerASCII(o.name.String())
	return slices.ContainsFunc(known, func(k record) bool {
		if k.name != name || k.rtype != o.rtype || k.ttl < o.ttl/2 {
			return false
		}
		switch o.rtype {
		case dnsmessage.TypePTR:
			return strings.EqualFold(k.target, o.target.String())
		case dnsmessage.TypeSRV:
			return k.port == o.port && strings.EqualFold(k.target, o.target.String())
		case dnsmessage.TypeTXT:
			return slices.Equal(k.txt, o.txt) || len(o.txt) == 0 && slices.Equal(k.txt, []string{""})
		}
		return false
	})
}

func (c *Conn) sendBuilt(pc packetConn, h dnsmessage.Header, qs []outQuestion, ans, add []outRecord, dst netip.AddrPort, ifindex int) {
	b, err := buildMessage(nil, h, qs, ans, nil, add)
	if err != nil {
		c.log.Debug("mdns: build service answer", "err", err)
		return
	}
	c.send(pc, b, dst, ifindex)
}

// multicastService multicasts a service answer on ifindex: at most once
// per limit per key (the records' name, interface and family, §6), an
// answer held back by the limit being sent when it is over, once; an
// answer of shared records only after a random 20–120 ms more (§6).
// Answers to probes go at once (§8.1).
func (c *Conn) multicastService(pc packetConn, key mcastKey, ans, add []outRecord, ifindex int, shared, probe bool, limit time.Duration) {
	b, err := buildMessage(nil, dnsmessage.Header{Response: true, Authoritative: true}, nil, ans, nil, add)
	if err != nil {
		c.log.Debug("mdns: build service answer", "err", err)
		return
	}
	delay := time.Duration(0)
	if shared {
		lo, hi := c.timing.sharedDelayMin, c.timing.sharedDelayMax
		delay = lo + time.Duration(rand.Int64N(int64(hi-lo)+1))
	}
	c.multicastPaced(key, func(since time.Duration, ok bool) time.Duration {
		if ok && !probe {
			return max(delay, limit-since)
		}
		return delay
	}, func() { c.send(pc, b, pc.group(), ifindex) })
}
