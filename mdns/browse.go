package mdns

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file is the DNS-SD querier (RFC 6763 §4): Browse, which queries
// for a service type's PTR records continuously (RFC 6762 §5.2) and
// resolves each instance's SRV, TXT and address records, and
// LookupService, a one-shot query for one instance. The records come
// from svcCache (svccache.go) and from the address cache.

// A ServiceEntry is a service instance found by Browse or LookupService.
type ServiceEntry struct {
	Instance string   // the instance label as its responder spells it: "alice"
	Type     string   // the service type: "_scuttle._tcp"
	Host     string   // the SRV record's target, without the final dot: "alice.local"
	Port     uint16   // the SRV record's port
	TXT      []string // the TXT record's strings; nil if none was received
	// Addrs are Host's addresses, formatted as LookupHost does: IPv4
	// first, link-local IPv6 with the zone of the interface they were
	// seen on.
	Addrs []string
	// Gone is set when Browse reports that the instance left: a goodbye
	// (TTL 0) or its records expired.
	Gone bool
	// Source is the address the SRV record came from: the responder,
	// as far as the packet tells (a stranger on the LAN can send from
	// several addresses, each costing it one; a host's IPv4 and IPv6
	// addresses are two). A change of Source alone is not reported.
	// Browse takes at most 64 instances from one source.
	Source netip.Addr
}

// Name returns the instance's FQDN without the final dot:
// "alice._scuttle._tcp.local".
func (e ServiceEntry) Name() string { return e.Instance + "." + e.Type + ".local" }

// maxBrowseInterval caps the doubling interval between a browser's PTR
// queries (RFC 6762 §5.2: at least doubling, capped at 60 minutes); new
// instances announce themselves in between (§8.3).
const maxBrowseInterval = time.Hour

// entry is the ServiceEntry of a resolved instance.
func (c *Conn) entry(in svcInstance, typ string) ServiceEntry {
	e := ServiceEntry{
		Instance: in.label,
		Type:     typ,
		Host:     display(in.srv.target),
		Port:     in.srv.port,
		Addrs:    c.format(slices.Clone(in.addrs)),
		Source:   in.srv.src,
	}
	if in.hasTXT {
		e.TXT = slices.Clone(in.txt.txt)
	}
	return e
}

func sameEntry(a, b ServiceEntry) bool {
	return a.Instance == b.Instance && a.Host == b.Host && a.Port == b.Port &&
		slices.Equal(a.TXT, b.TXT) && slices.Equal(a.Addrs, b.Addrs)
}

// backoff spaces the queries for one instance's records: 1 s, 2 s, 4 s…
// up to a minute, starting over once they are fresh.
type backoff struct {
	next time.Time
	gap  time.Duration
}

func (b *backoff) due(now time.Time) bool { return !now.Before(b.next) }

func (b *backoff) asked(now time.Time) {
	b.gap = min(max(2*b.gap, time.Second), maxQueryInterval)
	b.next = now.Add(b.gap)
}

// Browse finds the instances of service type typ ("_scuttle._tcp") on
// every interface and calls found, on the goroutine that called Browse,
// for each instance that appears (once its SRV record and host address
// are known), each change of its port, TXT record or addresses, and
// with Gone set when it leaves. It runs until ctx ends or the Conn is
// closed, returning ctx's error or ErrClosed.
//
// It queries for the type's PTR records at once with the QU bit, then
// after 1 s, 2 s, 4 s… up to an hour, listing the instances it knows as
// known answers (RFC 6762 §5.2, §7.1); new instances announce
// themselves meanwhile. It asks for an instance's SRV, TXT and address
// records when they are missing or reach 80% of their TTL (plus a
// random part of 2%, so that hosts do not all ask at once). A question
// another host has just asked, drawing the same answers, is left out
// and counted as asked (§7.3). Services registered on this Conn are not
// reported.
func (c *Conn) Browse(ctx context.Context, typ string, found func(ServiceEntry)) error {
	typeFQ, wire, err := serviceType(typ)
	if err != nil {
		return err
	}
	unwant, err := c.wantType(typeFQ)
	if err != nil {
		return err
	}
	defer unwant()
	b := &browseState{
		c:        c,
		typeFQ:   typeFQ,
		wire:     wire,
		typ:      strings.TrimSuffix(display(wire.String()), ".local"),
		found:    found,
		reported: make(map[string]ServiceEntry),
		asking:   make(map[string]*backoff),
		interval: time.Second,
		nextPTR:  time.Now(),
		first:    true,
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := time.Now()
		c.mu.Lock()
		insts := c.instances(typeFQ, now)
		changed := c.cache.changed
		c.mu.Unlock()
		timer.Reset(max(time.Until(b.step(insts, now)), 0))
		select {
		case <-changed:
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.closing:
			return ErrClosed
		}
	}
}

// A browseState is the state of one Browse call between its wake-ups.
type browseState struct {
	c      *Conn
	typeFQ string          // lower-case type FQDN: "_scuttle._tcp.local."
	wire   dnsmessage.Name // the type as the caller spelled it, for the wire
	typ    string          // the type for ServiceEntry.Type: "_scuttle._tcp"
	found  func(ServiceEntry)

	reported map[string]ServiceEntry // by instance FQDN: reported and not gone
	asking   map[string]*backoff     // by instance FQDN: the queries for its records
	// interval is the gap after the next PTR query of the doubling
	// series, due at nextPTR; lastPTR is when one was last sent, in the
	// series or not; first is set until the first has gone.
	interval         time.Duration
	nextPTR, lastPTR time.Time
	first            bool
}

// step handles the live instances insts at now: it asks for their
// records, reports what changed, and queries for the type's PTR
// records when due. It returns when to wake up next, at the latest.
func (b *browseState) step(insts []svcInstance, now time.Time) time.Time {
	wake := b.nextPTR
	refreshPTR := false
	seen := make(map[string]bool)
	for _, in := range insts {
		at, refresh := b.resolve(in, now)
		wake = minTime(wake, at)
		refreshPTR = refreshPTR || refresh
		if in.hasSRV && len(in.addrs) > 0 {
			seen[in.fq] = true
			b.report(in)
		}
	}
	for fq, e := range b.reported {
		if !seen[fq] {
			delete(b.reported, fq)
			e.Gone = true
			b.found(e)
		}
	}
	for fq := range b.asking {
		if !slices.ContainsFunc(insts, func(in svcInstance) bool { return in.fq == fq }) {
			delete(b.asking, fq)
		}
	}
	switch {
	case !now.Before(b.nextPTR):
		// Sent, or left out because another host asked the same
		// (dupquestion.go): either way the series moves on.
		b.c.queryPTR(b.wire, b.typeFQ, b.first, dupWindow(now.Sub(b.lastPTR)))
		b.first, b.lastPTR = false, now
		b.nextPTR = now.Add(b.interval)
		b.interval = min(2*b.interval, maxBrowseInterval)
		wake = minTime(wake, b.nextPTR)
	case refreshPTR && now.Sub(b.lastPTR) >= time.Second:
		// A PTR record at 80% of its TTL (plus up to 2%): ask
		// again, out of the doubling series. The known answers
		// leave out every record that old (§7.1), so one query
		// refreshes all of them, and others falling due within a
		// second wait.
		b.c.queryPTR(b.wire, b.typeFQ, false, dupWindow(now.Sub(b.lastPTR)))
		b.lastPTR = now
	}
	return wake
}

// resolve asks for in's SRV, TXT and address records when they are
// missing or due for a refresh and its backoff allows. It returns when
// in next needs looking at, and whether its PTR record is due for a
// refresh too.
func (b *browseState) resolve(in svcInstance, now time.Time) (wake time.Time, refreshPTR bool) {
	bo := b.asking[in.fq]
	if bo == nil {
		bo = &backoff{}
		b.asking[in.fq] = bo
	}
	fresh := in.hasSRV && len(in.addrs) > 0 && now.Before(in.refresh)
	if fresh {
		*bo = backoff{} // the next refresh starts at 1 s
	} else if bo.due(now) {
		b.c.queryInstance(in, false, dupWindow(bo.gap))
		refreshPTR = !now.Before(in.ptr.refreshAt())
		bo.asked(now)
	}
	if fresh {
		return minTime(in.expires, in.refresh), refreshPTR
	}
	return minTime(in.expires, bo.next), refreshPTR
}

// report calls found with in's entry if it is new or changed.
func (b *browseState) report(in svcInstance) {
	e := b.c.entry(in, b.typ)
	if old, ok := b.reported[in.fq]; !ok || !sameEntry(old, e) {
		b.reported[in.fq] = e
		b.found(e)
	}
}

// queryPTR multicasts a question for typ's PTR records on every
// interface and family, with the instances known for at least half
// their TTL as known answers (§7.1); a QM question is left out where
// another host asked it within window (§7.3, dupquestion.go).
func (c *Conn) queryPTR(typ dnsmessage.Name, typeFQ string, unicast bool, window time.Duration) {
	now := time.Now()
	var known []outRecord
	c.mu.Lock()
	for k, r := range c.svcCache.ptrs {
		if k.typeFQ != typeFQ || len(known) == maxPerSection || !r.halfLeft(now) {
			continue
		}
		left := r.expires.Sub(now)
		n, err := dnsmessage.NewName(r.target)
		if err != nil {
			continue
		}
		known = append(known, outRecord{rtype: dnsmessage.TypePTR, name: typ, target: n, ttl: uint32(left / time.Second)})
	}
	c.mu.Unlock()
	qs := []outQuestion{{name: typ, qtype: dnsmessage.TypePTR, unicast: unicast}}
	c.multicastQuery(qs, known, nil, window)
}

// queryInstance asks for an instance's SRV and TXT records and, once
// the SRV record names its host, the host's addresses; QM questions
// another host asked within window are left out (§7.3).
func (c *Conn) queryInstance(in svcInstance, unicast bool, window time.Duration) {
	n, err := dnsmessage.NewName(in.ptr.target)
	if err != nil {
		return
	}
	qs := []outQuestion{
		{name: n, qtype: dnsmessage.TypeSRV, unicast: unicast},
		{name: n, qtype: dnsmessage.TypeTXT, unicast: unicast},
	}
	if in.hasSRV {
		if h, err := dnsmessage.NewName(in.srv.target); err == nil {
			qs = append(qs, outQuestion{name: h, qtype: dnsmessage.TypeA, unicast: unicast}, outQuestion{name: h, qtype: dnsmessage.TypeAAAA, unicast: unicast})
		}
	}
	c.multicastQuery(qs, nil, nil, window)
}

// multicastQuery sends one query, of questions qs with known answers
// known (§7.1) and authority records auth (a probe's, §8.2), to the group
// on every interface and family. With a positive window, it leaves out
// on each interface and family the QM questions that another host asked
// there within window and their known answers (§7.3, dupquestion.go),
// and sends nothing there if none is left.
func (c *Conn) multicastQuery(qs []outQuestion, known, auth []outRecord, window time.Duration) {
	b, err := buildMessage(nil, dnsmessage.Header{}, qs, known, auth, nil)
	if err != nil {
		c.log.Debug("mdns: build query", "err", err)
		return
	}
	now := time.Now()
	for _, pc := range c.conns {
		v6 := pc.group().Addr().Is6()
		for ifindex := range c.ifnames {
			out := b
			if window > 0 {
				keep := c.unsuppressed(qs, ifindex, v6, now, window)
				if len(keep) == 0 {
					continue
				}
				if len(keep) < len(qs) {
					if out, err = buildMessage(nil, dnsmessage.Header{}, keep, knownFor(keep, known), auth, nil); err != nil {
						c.log.Debug("mdns: build query", "err", err)
						continue
					}
				}
			}
			c.send(pc, out, pc.group(), ifindex)
		}
	}
}

// LookupService returns the SRV, TXT and address records of one
// service instance, Instance.Type.local: the port to dial a peer at
// when its name is known. A service registered on this Conn is returned
// at once; one in the cache too. Otherwise it queries for the
// instance's SRV and TXT records and its host's addresses, first with
// the QU bit, again after 1 s, 2 s, 4 s… until the SRV record and an
// address are known or ctx ends; then the error is a *net.DNSError with
// IsNotFound set that wraps ErrNoAnswer and ctx's error, as LookupHost's.
func (c *Conn) LookupService(ctx context.Context, instance, typ string) (ServiceEntry, error) {
	typeFQ, wire, err := serviceType(typ)
	if err != nil {
		return ServiceEntry{}, err
	}
	typ = display(wire.String())
	typ = typ[:len(typ)-len(".local")]
	if err := checkInstance(instance); err != nil {
		return ServiceEntry{}, err
	}
	fq := lowerASCII(instance) + "." + typeFQ
	if e, ok := c.ownService(fq, typ); ok {
		return e, nil
	}
	name, err := dnsmessage.NewName(instance + "." + wire.String())
	if err != nil {
		return ServiceEntry{}, err
	}
	unwant, err := c.wantType(typeFQ)
	if err != nil {
		return ServiceEntry{}, err
	}
	defer unwant()
	in := svcInstance{fq: fq, ptr: svcRecord{target: name.String()}}
	var b backoff
	first := true
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := time.Now()
		c.mu.Lock()
		in.srv, in.hasSRV = live(c.svcCache.srvs, fq, now)
		in.txt, in.hasTXT = live(c.svcCache.txts, fq, now)
		in.addrs = nil
		if in.hasSRV {
			in.addrs = c.cache.lookup(lowerASCII(in.srv.target), now)
		}
		changed := c.cache.changed
		c.mu.Unlock()
		if in.hasSRV && len(in.addrs) > 0 {
			in.label, _, _ = strings.Cut(in.srv.owner, ".") // as its responder spells it
			return c.entry(in, typ), nil
		}
		if b.due(now) {
			c.queryInstance(in, first, dupWindow(b.gap))
			first = false
			b.asked(now)
		}
		timer.Reset(max(time.Until(b.next), 0))
		select {
		case <-changed:
		case <-timer.C:
		case <-ctx.Done():
			return ServiceEntry{}, noAnswer(fq, ctx.Err())
		case <-c.closing:
			return ServiceEntry{}, ErrClosed
		}
	}
}

// ownService returns the entry of a service registered on this Conn.
func (c *Conn) ownService(fq, typ string) (ServiceEntry, bool) {
	c.mu.Lock()
	r := c.services[fq]
	est := r != nil && r.established
	c.mu.Unlock()
	if !est {
		return ServiceEntry{}, false
	}
	label, _, _ := strings.Cut(r.instance.String(), ".")
	return ServiceEntry{
		Instance: label,
		Type:     typ,
		Host:     display(r.host.name.String()),
		Port:     r.port,
		TXT:      slices.Clone(r.txt),
		Addrs:    c.format(c.ownAddrs(r.host.fq)),
	}, true
}
