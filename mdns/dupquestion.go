package mdns

import (
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file is duplicate question suppression (RFC 6762 §7.3). When
// another host multicasts a question that this Conn is about to ask, on
// the same interface and family, and that query's known answers hold no
// record of the question that this Conn would not list itself, the
// answers it draws are all those ours would draw, multicast where we
// hear them too; so this Conn leaves the question out of its own query
// there and counts it as asked (the browser's doubling interval moves on
// as if it had gone). In a room of chats started together their
// browsers' schedules (§5.2) line up, and one of them asks in each round
// instead of every one.
//
// A browser's known answers list the other instances, never its own,
// which is not in its cache: so a query counts as a duplicate when each
// of its known answers of the question is in this Conn's cache with
// more than half its TTL left (what it would list, §7.1) or is a service
// registered on this Conn (an answer it would never need).

// maxDupQuestions bounds the questions remembered: one entry per
// question, interface and family that another host asked or that this
// Conn sent with suppression allowed.
const maxDupQuestions = 1024

// questionKey names one question on one interface and family.
type questionKey struct {
	name    string // lower-case FQDN
	qtype   dnsmessage.Type
	ifindex int
	v6      bool
}

// dupEntry is what the Conn knows of one question on one interface and
// family.
type dupEntry struct {
	// seen is when another host last asked it in a query that draws
	// every answer ours would.
	seen time.Time
	// sent is when this Conn last sent it, or first left it out if it
	// had not sent it before: a question is not left out once
	// maxBrowseInterval has passed since.
	sent time.Time
}

// dupWindow is how long before a query another host's duplicate of one
// of its questions counts, given the gap since the querier last asked
// (sent or left out): half of it, and at least a second. Within that
// the answers the duplicate drew are as fresh as ours would be.
func dupWindow(gap time.Duration) time.Duration { return max(gap/2, time.Second) }

// noteDuplicates records the questions of m, another host's query that
// arrived on ifindex in pc's family, that this Conn may ask and whose
// answers m draws as ours would: QM questions of class IN (a QU
// question asks for unicast answers, which we would not hear), for a
// type being browsed, an instance of it in the cache or the host of one,
// in a query without the TC bit (§7.2: more known answers follow in
// other packets) whose every known answer was read, none of them a
// record of the question that this Conn would not list (§7.1).
func (c *Conn) noteDuplicates(pc packetConn, m message, ifindex int) {
	if m.header.Truncated || !m.allAnswers || len(m.questions) == 0 {
		return
	}
	now := time.Now()
	v6 := pc.group().Addr().Is6()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.svcCache.wanted) == 0 {
		return
	}
	var hosts map[string]bool // the SRV targets, built for the first address question
	for _, q := range m.questions {
		if q.unicast || q.class != dnsmessage.ClassINET {
			continue
		}
		asks := false
		switch q.qtype {
		case dnsmessage.TypePTR:
			asks = c.svcCache.wanted[q.name] > 0
		case dnsmessage.TypeSRV, dnsmessage.TypeTXT:
			_, asks = c.svcCache.ptrs[ptrKey{typeOf(q.name), q.name}]
		case dnsmessage.TypeA, dnsmessage.TypeAAAA:
			if hosts == nil {
				hosts = make(map[string]bool)
				for _, r := range c.svcCache.srvs {
					hosts[lowerASCII(r.target)] = true
				}
			}
			asks = hosts[q.name]
		}
		if !asks || !c.wouldList(q, m.answers, now) {
			continue
		}
		k := questionKey{q.name, q.qtype, ifindex, v6}
		e := c.dups[k]
		e.seen = now
		c.putDup(k, e, now)
	}
}

// wouldList reports whether every record of known that answers q is
// one this Conn would list as a known answer to q itself, or would
// never need: for a PTR question, an instance it holds with more than
// half its TTL left (§7.1) or one registered on it; for the questions
// of an instance's records, none (queryInstance lists no known
// answers). The caller holds c.mu.
func (c *Conn) wouldList(q question, known []record, now time.Time) bool {
	for _, k := range known {
		if k.name != q.name || k.rtype != q.qtype {
			continue
		}
		if q.qtype != dnsmessage.TypePTR {
			return false
		}
		inst := lowerASCII(k.target)
		if s := c.services[inst]; s != nil && s.established && s.typeFQ == q.name {
			continue
		}
		if r, ok := c.svcCache.ptrs[ptrKey{q.name, inst}]; !ok || !r.halfLeft(now) {
			return false
		}
	}
	return true
}

// putDup stores e as k's entry. When the map is full it first drops the
// entries of no more use, neither seen nor sent within
// maxBrowseInterval, looking at most once a second (a flood of new
// questions costs one walk of the map a second, not one each); if
// none is dropped, e is not stored, and k's question is sent as if
// suppression did not exist. The caller holds c.mu.
func (c *Conn) putDup(k questionKey, e dupEntry, now time.Time) {
	if _, ok := c.dups[k]; !ok && len(c.dups) >= maxDupQuestions {
		if now.Sub(c.dupsPruned) < time.Second {
			return
		}
		c.dupsPruned = now
		for k, old := range c.dups {
			if now.Sub(old.seen) >= maxBrowseInterval && now.Sub(old.sent) >= maxBrowseInterval {
				delete(c.dups, k)
			}
		}
		if len(c.dups) >= maxDupQuestions {
			return
		}
	}
	c.dups[k] = e
}

// unsuppressed returns the questions of qs to send on ifindex in the
// family v6 at now: all but the QM questions that another host asked
// there within window (§7.3), unless this Conn has not sent such a
// question there for maxBrowseInterval, which it then sends whatever
// others ask. Each question returned is recorded as sent, each left out
// as counted as sent.
func (c *Conn) unsuppressed(qs []outQuestion, ifindex int, v6 bool, now time.Time, window time.Duration) []outQuestion {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []outQuestion
	for _, q := range qs {
		if q.unicast {
			out = append(out, q)
			continue
		}
		k := questionKey{lowerASCII(q.name.String()), q.qtype, ifindex, v6}
		e, ok := c.dups[k]
		if ok && !e.seen.IsZero() && now.Sub(e.seen) <= window &&
			(e.sent.IsZero() || now.Sub(e.sent) < maxBrowseInterval) {
			if e.sent.IsZero() {
				e.sent = now
				c.dups[k] = e
			}
			continue
		}
		e.sent = now
		c.putDup(k, e, now)
		out = append(out, q)
	}
	return out
}

// knownFor returns the records of known that answer one of qs.
func knownFor(qs []outQuestion, known []outRecord) []outRecord {
	var out []outRecord
	for _, r := range known {
		for _, q := range qs {
			if r.typ() == q.qtype && strings.EqualFold(r.name.String(), q.name.String()) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
