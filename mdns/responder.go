package mdns

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file is the responder: claiming a name (probing §8.1, tie-break
// §8.2, announcing §8.3), answering queries for it (§6), defending it
// (§9) and saying goodbye (§10.1).

// registration is a name registered on the Conn. Its fields other than
// the channels are guarded by Conn.mu.
type registration struct {
	fq          string          // lower-case FQDN, the key of Conn.names
	name        dnsmessage.Name // as the user wrote it, for the wire
	established bool            // probing succeeded; the responder answers
	probed      chan struct{}   // closed when probing ended, either way (nil in some tests)
	conflict    chan *ConflictError
	lost        chan struct{} // lost a tie-break (§8.2)
}

// maxTieBreaks is how many tie-breaks Register loses before giving up.
const maxTieBreaks = 3

// Register claims NAME.local: it probes for it (three queries 250 ms
// apart, RFC 6762 §8.1) and, if no other host answers, announces it
// (§8.3) and returns. From then until Close the Conn answers queries for
// the name with the addresses of the interface each query arrived on.
//
// name is "alice", "alice.local" or "alice.local.". If another host
// answers during probing, Register returns a *ConflictError (matching
// ErrConflict) naming it: the name is the user's identity, so it is not
// renamed. ctx bounds the probing only.
func (c *Conn) Register(ctx context.Context, name string) error {
	r, err := c.addName(name)
	if err != nil {
		return err
	}
	return c.claim(ctx, r)
}

// addName puts name in c.names, not yet established.
func (c *Conn) addName(name string) (*registration, error) {
	fq, err := fqdn(name)
	if err != nil {
		return nil, err
	}
	// Keep the user's spelling on the wire; compare lower-case.
	label := strings.TrimSuffix(name, ".")
	if len(label) > len(".local") && strings.EqualFold(label[len(label)-len(".local"):], ".local") {
		label = label[:len(label)-len(".local")]
	}
	wire, err := dnsmessage.NewName(label + localSuffix)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadName, name, err)
	}
	r := &registration{fq: fq, name: wire, probed: make(chan struct{}), conflict: make(chan *ConflictError, 1), lost: make(chan struct{}, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, ErrClosed
	case c.names[fq] != nil:
		return nil, fmt.Errorf("mdns: %s is already registered on this connection", display(fq))
	}
	c.names[fq] = r
	return r, nil
}

// claim probes for r, and announces it once it is ours (§8.1, §8.3).
func (c *Conn) claim(ctx context.Context, r *registration) error {
	fq := r.fq
	if err := c.probe(ctx, prober{r.fq, r.conflict, r.lost, func() { c.sendProbe(r) }}); err != nil {
		c.mu.Lock()
		delete(c.names, fq)
		c.mu.Unlock()
		close(r.probed)
		return err
	}
	c.mu.Lock()
	r.established = true
	c.mu.Unlock()
	close(r.probed)
	c.log.Debug("mdns: name claimed", "name", display(fq))
	c.announce(r, defaultTTL)
	c.mu.Lock()
	c.goAfter(c.timing.announceGap, func() { c.announce(r, defaultTTL) })
	c.mu.Unlock()
	return nil
}

// prober is what probe needs of a name being claimed, a host name or a
// service instance: its FQDN, the channels the read loop signals a
// conflict and a lost tie-break on, and how to send one probe.
type prober struct {
	fq       string
	conflict chan *ConflictError
	lost     chan struct{}
	send     func()
}

// probe runs §8.1 for r: after a random wait of up to 250 ms, three
// probes 250 ms apart; any answer for the name is a conflict. Losing a
// tie-break (§8.2) means waiting a second and starting again.
func (c *Conn) probe(ctx context.Context, r prober) error {
	for tries := 0; ; tries++ {
		wait := time.Duration(rand.Int64N(int64(c.timing.probeWait) + 1))
		lost := false
		for i := 0; i < 3 && !lost; i++ {
			if err := c.waitProbe(ctx, r, wait, &lost); err != nil {
				return err
			}
			if lost {
				break
			}
			r.send()
			wait = c.timing.probeInterval
		}
		if !lost {
			// The last probe's 250 ms.
			if err := c.waitProbe(ctx, r, wait, &lost); err != nil {
				return err
			}
			if !lost {
				return nil
			}
		}
		c.log.Debug("mdns: lost a probe tie-break", "name", display(r.fq), "try", tries+1)
		if tries+1 >= maxTieBreaks {
			return &ConflictError{Name: display(r.fq), TieBreak: true}
		}
		if err := c.waitProbe(ctx, r, c.timing.tieBreakWait, &lost); err != nil {
			return err
		}
	}
}

// waitProbe waits d, returning early with a conflict, ctx's end or
// ErrClosed, or setting *lost when a tie-break is lost.
func (c *Conn) waitProbe(ctx context.Context, r prober, d time.Duration, lost *bool) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case e := <-r.conflict:
		return e
	case <-r.lost:
		*lost = true
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mdns: probing for %s: %w", display(r.fq), ctx.Err())
	case <-c.closing:
		return ErrClosed
	}
}

// sendProbe multicasts one probe for r on every interface: a question of
// type ANY for the name, with the records we intend to own in the
// authority section (§8.1, §8.2).
func (c *Conn) sendProbe(r *registration) {
	var buf []byte
	for _, pc := range c.conns {
		for ifindex := range c.ifnames {
			v4, v6 := c.addrs(ifindex)
			auth := addrRecords(r.name, append(v4, v6...), defaultTTL, false)
			q := []outQuestion{{name: r.name, qtype: dnsmessage.TypeALL}}
			b, err := buildMessage(buf, dnsmessage.Header{}, q, nil, auth, nil)
			if err != nil {
				c.log.Debug("mdns: build probe", "err", err)
				continue
			}
			c.send(pc, b, pc.group(), ifindex)
			buf = b
		}
	}
}

// announce multicasts r's address records on every interface with ttl:
// defaultTTL for announcements (§8.3), 0 for goodbyes (§10.1).
func (c *Conn) announce(r *registration, ttl uint32) {
	var buf []byte
	now := time.Now()
	for _, pc := range c.conns {
		for ifindex := range c.ifnames {
			v4, v6 := c.addrs(ifindex)
			ans := addrRecords(r.name, append(v4, v6...), ttl, ttl > 0)
			if len(ans) == 0 {
				continue
			}
			b, err := buildMessage(buf, dnsmessage.Header{Response: true, Authoritative: true}, nil, ans, nil, nil)
			if err != nil {
				c.log.Debug("mdns: build announcement", "err", err)
				continue
			}
			c.mu.Lock()
			c.lastMcast[mcastKey{r.fq, ifindex, pc.group().Addr().Is6()}] = now
			c.mu.Unlock()
			c.send(pc, b, pc.group(), ifindex)
			buf = b
		}
	}
}

// hit is one registered name a query asks about.
type hit struct {
	r             *registration
	wantA, wantAA bool // answer A, AAAA records (else they go in additionals, §6.2)
	unicast       bool // every question for the name has the QU bit (§5.4)
	probe         bool // the query is another host's probe for the name (§8.1)
}

// handleQuery answers the questions of m for our established names.
func (c *Conn) handleQuery(pc packetConn, m message, src netip.AddrPort, dst netip.Addr, ifindex int, own bool) {
	legacy := src.Port() != Port
	if !own && !legacy {
		c.checkProbes(m, ifindex, src)
		c.checkServiceProbes(m, ifindex)
	}
	if !own {
		c.answerServices(pc, m, src, dst, ifindex) // service.go
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
	var qs []outQuestion
	for _, q := range m.questions {
		if n, err := dnsmessage.NewName(q.name); err == nil {
			qs = append(qs, outQuestion{name: n, qtype: q.qtype})
		}
	}
	b, err := buildMessage(nil, dnsmessage.Header{ID: m.header.ID, Response: true, Authoritative: true}, qs,
		addrRecords(h.r.name, ans, legacyTTL, false), nil, addrRecords(h.r.name, add, legacyTTL, false))
	if err != nil {
		c.log.Debug("mdns: build legacy reply", "err", err)
		return
	}
	c.send(pc, b, src, ifindex)
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
	now := time.Now()
	c.mu.Lock()
	last, ok := c.lastMcast[key]
	wait := limit - now.Sub(last)
	if !ok || wait <= 0 || h.probe {
		c.lastMcast[key] = now
		c.mu.Unlock()
		send()
		return
	}
	if !c.pending[key] {
		c.pending[key] = c.goAfter(wait, func() {
			c.mu.Lock()
			delete(c.pending, key)
			c.lastMcast[key] = time.Now()
			c.mu.Unlock()
			send()
		})
	}
	c.mu.Unlock()
}

// checkProbes looks in m's authority section for another host probing
// for a name we are probing for, and runs the tie-break of §8.2: the
// host whose records sort later wins; the loser waits a second and
// probes again.
func (c *Conn) checkProbes(m message, ifindex int, src netip.AddrPort) {
	if len(m.authorities) == 0 {
		return
	}
	var probing []*registration
	c.mu.Lock()
	for _, a := range m.authorities {
		if r := c.names[a.name]; r != nil && !r.established && !slices.Contains(probing, r) {
			probing = append(probing, r)
		}
	}
	c.mu.Unlock()
	if len(probing) == 0 {
		return
	}
	v4, v6 := c.addrs(ifindex)
	ours := append(v4, v6...)
	for _, r := range probing {
		var theirs []netip.Addr
		for _, a := range m.authorities {
			if a.name == r.fq && a.isAddr() {
				theirs = append(theirs, a.addr)
			}
		}
		if compareRecords(ours, theirs) < 0 {
			select {
			case r.lost <- struct{}{}:
			default:
			}
		}
	}
}

// compareRecords orders two sets of address records as §8.2.1 does:
// each sorted by type then data, compared pairwise; the first difference
// decides, and a set that runs out first is the lesser.
func compareRecords(a, b []netip.Addr) int {
	key := func(x netip.Addr) []byte {
		// A (type 1) sorts before AAAA (type 28); then the RDATA.
		if x.Is4() {
			v := x.As4()
			return append([]byte{0, 1}, v[:]...)
		}
		v := x.As16()
		return append([]byte{0, 28}, v[:]...)
	}
	ka := make([][]byte, len(a))
	for i, x := range a {
		ka[i] = key(x)
	}
	kb := make([][]byte, len(b))
	for i, x := range b {
		kb[i] = key(x)
	}
	return compareKeys(ka, kb)
}

// compareKeys is the comparison of §8.2.1 over records already encoded
// as type then RDATA: sorted, compared pairwise, the shorter set lesser.
func compareKeys(ka, kb [][]byte) int {
	slices.SortFunc(ka, bytes.Compare)
	slices.SortFunc(kb, bytes.Compare)
	for i := 0; i < len(ka) && i < len(kb); i++ {
		if d := bytes.Compare(ka[i], kb[i]); d != 0 {
			return d
		}
	}
	return len(ka) - len(kb)
}

// checkConflicts looks at the records of a response from another host
// for names we own or probe for (§9). While probing, any answer is a
// conflict. Once established, an answer with other addresses than ours
// is logged and answered with our own records, so caches hold ours.
func (c *Conn) checkConflicts(pc packetConn, recs []record, src netip.AddrPort, ifindex int) {
	for _, rec := range recs {
		if rec.ttl == 0 || !rec.isAddr() {
			continue
		}
		c.mu.Lock()
		r := c.names[rec.name]
		est := r != nil && r.established
		c.mu.Unlock()
		if r == nil {
			continue
		}
		if !est {
			e := &ConflictError{Name: display(r.fq), Host: src.Addr().WithZone(""), Iface: c.ifnames[ifindex]}
			select {
			case r.conflict <- e:
			default:
			}
			continue
		}
		v4, v6 := c.addrs(ifindex)
		if slices.Contains(v4, rec.addr) || slices.Contains(v6, rec.addr) {
			continue // §9: identical data is no conflict
		}
		c.log.Warn("mdns: another host answers for our name", "name", display(r.fq), "host", src.Addr(), "addr", rec.addr, "iface", c.ifnames[ifindex])
		c.multicastAnswer(pc, hit{r: r}, append(v4, v6...), nil, ifindex, c.timing.rateLimit)
		return
	}
}
