package mdns

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file is the DNS-SD querier (RFC 6763 §4): Browse, which queries
// for a service type's PTR records continuously (RFC 6762 §5.2) and
// resolves each instance's SRV, TXT and address records, and
// LookupService, a one-shot query for one instance. The records come
// from svcCache, filled by handleResponse with the PTR, SRV and TXT
// records of the types someone is browsing or looking up, and from the
// address cache.

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
}

// Name returns the instance's FQDN without the final dot:
// "alice._scuttle._tcp.local".
func (e ServiceEntry) Name() string { return e.Instance + "." + e.Type + ".local" }

// maxBrowseInterval caps the doubling interval between a browser's PTR
// queries (RFC 6762 §5.2: at least doubling, capped at 60 minutes); new
// instances announce themselves in between (§8.3).
const maxBrowseInterval = time.Hour

// maxServiceEntries bounds each map of the svcCache.
const maxServiceEntries = 1024

// svcCache holds the DNS-SD records of the service types being browsed
// or looked up (RFC 6762 §10), so unrelated services of a busy network
// cost nothing. It is not safe for concurrent use; Conn guards it with
// its mutex.
type svcCache struct {
	wanted map[string]int       // type FQDN → browses and lookups wanting it
	ptrs   map[ptrKey]svcRecord // a type's instances
	srvs   map[string]svcRecord // by lower-case instance FQDN
	txts   map[string]svcRecord
}

type ptrKey struct{ typeFQ, instFQ string }

type svcRecord struct {
	added, expires time.Time
	owner          string // the record's name, as spelled
	target         string // PTR: the instance, SRV: the host, as spelled
	port           uint16
	txt            []string
}

// refreshAt is when a querier interested in the record asks for it again
// (RFC 6762 §5.2: at 80% of its TTL).
func (r svcRecord) refreshAt() time.Time {
	return r.added.Add(r.expires.Sub(r.added) * 4 / 5)
}

func newSvcCache() svcCache {
	return svcCache{
		wanted: make(map[string]int),
		ptrs:   make(map[ptrKey]svcRecord),
		srvs:   make(map[string]svcRecord),
		txts:   make(map[string]svcRecord),
	}
}

// want adds d to the interest in typeFQ; at zero the type's records are
// dropped.
func (s *svcCache) want(typeFQ string, d int) {
	s.wanted[typeFQ] += d
	if s.wanted[typeFQ] > 0 {
		return
	}
	delete(s.wanted, typeFQ)
	for k := range s.ptrs {
		if k.typeFQ == typeFQ {
			delete(s.ptrs, k)
		}
	}
	for _, m := range []map[string]svcRecord{s.srvs, s.txts} {
		for k := range m {
			if typeOf(k) == typeFQ {
				delete(m, k)
			}
		}
	}
}

// typeOf returns the type FQDN of an instance FQDN: what follows its
// first label (an instance label holds no dot: dnsmessage refuses one).
func typeOf(instFQ string) string {
	_, t, _ := strings.Cut(instFQ, ".")
	return t
}

// update takes the PTR, SRV and TXT records of one response received
// at now. A goodbye (TTL 0, §10.1) leaves a record grace more. It
// reports whether anything changed.
func (s *svcCache) update(recs []record, now time.Time, grace time.Duration) bool {
	if len(s.wanted) == 0 {
		return false
	}
	changed := false
	put := func(m map[string]svcRecord, k string, r record, v svcRecord) {
		old, ok := m[k]
		if r.ttl == 0 {
			if ok && old.expires.After(now.Add(grace)) {
				old.expires = now.Add(grace)
				m[k] = old
				changed = true
			}
			return
		}
		if !ok && len(m) >= maxServiceEntries {
			evict(m, now)
		}
		m[k] = v
		changed = true
	}
	for _, r := range recs {
		v := svcRecord{added: now, expires: now.Add(time.Duration(r.ttl) * time.Second), owner: r.owner, target: r.target, port: r.port, txt: r.txt}
		switch r.rtype {
		case dnsmessage.TypePTR:
			inst := lowerASCII(r.target)
			if s.wanted[r.name] == 0 || typeOf(inst) != r.name {
				continue
			}
			k := ptrKey{r.name, inst}
			old, ok := s.ptrs[k]
			if r.ttl == 0 {
				if ok && old.expires.After(now.Add(grace)) {
					old.expires = now.Add(grace)
					s.ptrs[k] = old
					changed = true
				}
				continue
			}
			if !ok && len(s.ptrs) >= maxServiceEntries {
				evict(s.ptrs, now)
			}
			s.ptrs[k] = v
			changed = true
		case dnsmessage.TypeSRV:
			if s.wanted[typeOf(r.name)] > 0 {
				put(s.srvs, r.name, r, v)
			}
		case dnsmessage.TypeTXT:
			if s.wanted[typeOf(r.name)] > 0 {
				put(s.txts, r.name, r, v)
			}
		}
	}
	return changed
}

// evict drops m's expired records, or if there are none the one
// expiring first.
func evict[K comparable](m map[K]svcRecord, now time.Time) {
	var first K
	var firstAt time.Time
	n := 0
	for k, r := range m {
		if !r.expires.After(now) {
			delete(m, k)
			n++
			continue
		}
		if firstAt.IsZero() || r.expires.Before(firstAt) {
			first, firstAt = k, r.expires
		}
	}
	if n == 0 && !firstAt.IsZero() {
		delete(m, first)
	}
}

// live returns m[k] if it has not expired at now.
func live[K comparable](m map[K]svcRecord, k K, now time.Time) (svcRecord, bool) {
	r, ok := m[k]
	if !ok {
		return r, false
	}
	if !r.expires.After(now) {
		delete(m, k)
		return r, false
	}
	return r, true
}

// svcInstance is what the cache knows of one instance of a type.
type svcInstance struct {
	fq             string // lower-case instance FQDN
	label          string // as spelled
	ptr            svcRecord
	srv            svcRecord
	txt            svcRecord
	hasSRV, hasTXT bool
	addrs          []cachedAddr
	// refresh is the earliest 80% point (§5.2) of its PTR, SRV and
	// address records, expires the earliest expiry of any of them.
	refresh, expires time.Time
}

// instances returns the live instances of typeFQ with what is known of
// each; the caller holds Conn.mu.
func (c *Conn) instances(typeFQ string, now time.Time) []svcInstance {
	var out []svcInstance
	for k := range c.svcCache.ptrs {
		if k.typeFQ != typeFQ {
			continue
		}
		ptr, ok := live(c.svcCache.ptrs, k, now)
		if !ok {
			continue
		}
		label, _, _ := strings.Cut(ptr.target, ".")
		in := svcInstance{fq: k.instFQ, label: label, ptr: ptr, expires: ptr.expires, refresh: ptr.refreshAt()}
		if in.srv, in.hasSRV = live(c.svcCache.srvs, k.instFQ, now); in.hasSRV {
			in.refresh, in.expires = minTime(in.refresh, in.srv.refreshAt()), minTime(in.expires, in.srv.expires)
			host := lowerASCII(in.srv.target)
			in.addrs = c.cache.lookup(host, now)
			for _, a := range in.addrs {
				e := c.cache.entries[cacheKey{host, a.addr}]
				in.refresh = minTime(in.refresh, e.added.Add(e.expires.Sub(e.added)*4/5))
				in.expires = minTime(in.expires, e.expires)
			}
		}
		if in.txt, in.hasTXT = live(c.svcCache.txts, k.instFQ, now); in.hasTXT {
			in.expires = minTime(in.expires, in.txt.expires)
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b svcInstance) int { return strings.Compare(a.fq, b.fq) })
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// entry is the ServiceEntry of a resolved instance.
func (c *Conn) entry(in svcInstance, typ string) ServiceEntry {
	e := ServiceEntry{
		Instance: in.label,
		Type:     typ,
		Host:     display(in.srv.target),
		Port:     in.srv.port,
		Addrs:    c.format(slices.Clone(in.addrs)),
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
// records when they are missing or reach 80% of their TTL. Services
// registered on this Conn are not reported.
func (c *Conn) Browse(ctx context.Context, typ string, found func(ServiceEntry)) error {
	typeFQ, wire, err := serviceType(typ)
	if err != nil {
		return err
	}
	typ = display(wire.String())
	typ = typ[:len(typ)-len(".local")]
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.svcCache.want(typeFQ, 1)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.svcCache.want(typeFQ, -1)
		c.mu.Unlock()
	}()

	reported := make(map[string]ServiceEntry)
	asking := make(map[string]*backoff)
	interval := time.Second
	nextPTR := time.Now()
	var lastPTR time.Time
	first := true
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := time.Now()
		c.mu.Lock()
		insts := c.instances(typeFQ, now)
		changed := c.cache.changed
		c.mu.Unlock()

		wake := nextPTR
		seen := make(map[string]bool)
		refreshPTR := false
		for _, in := range insts {
			b := asking[in.fq]
			if b == nil {
				b = &backoff{}
				asking[in.fq] = b
			}
			complete := in.hasSRV && len(in.addrs) > 0
			if complete && now.Before(in.refresh) {
				*b = backoff{} // fresh: the next refresh starts at 1 s
			} else if b.due(now) {
				c.queryInstance(in, false)
				refreshPTR = refreshPTR || !now.Before(in.ptr.refreshAt())
				b.asked(now)
			}
			wake = minTime(wake, in.expires)
			if complete && now.Before(in.refresh) {
				wake = minTime(wake, in.refresh)
			} else {
				wake = minTime(wake, b.next)
			}
			if !complete {
				continue
			}
			seen[in.fq] = true
			e := c.entry(in, typ)
			if old, ok := reported[in.fq]; !ok || !sameEntry(old, e) {
				reported[in.fq] = e
				found(e)
			}
		}
		for fq, e := range reported {
			if !seen[fq] {
				delete(reported, fq)
				e.Gone = true
				found(e)
			}
		}
		for fq := range asking {
			if !slices.ContainsFunc(insts, func(in svcInstance) bool { return in.fq == fq }) {
				delete(asking, fq)
			}
		}
		switch {
		case !now.Before(nextPTR):
			c.queryPTR(wire, typeFQ, first)
			first, lastPTR = false, now
			nextPTR = now.Add(interval)
			interval = min(2*interval, maxBrowseInterval)
			wake = minTime(wake, nextPTR)
		case refreshPTR && now.Sub(lastPTR) >= time.Second:
			// A PTR record at 80% of its TTL: ask again, out of the
			// doubling series. The known answers leave out every
			// record that old (§7.1), so one query refreshes all of
			// them, and others falling due within a second wait.
			c.queryPTR(wire, typeFQ, false)
			lastPTR = now
		}
		timer.Reset(max(time.Until(wake), 0))
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

// queryPTR multicasts a question for typ's PTR records on every
// interface and family, with the instances known for at least half
// their TTL as known answers (§7.1).
func (c *Conn) queryPTR(typ dnsmessage.Name, typeFQ string, unicast bool) {
	now := time.Now()
	var known []outRecord
	c.mu.Lock()
	for k, r := range c.svcCache.ptrs {
		if k.typeFQ != typeFQ || len(known) == maxPerSection {
			continue
		}
		left := r.expires.Sub(now)
		if left <= 0 || left < r.expires.Sub(r.added)/2 {
			continue
		}
		n, err := dnsmessage.NewName(r.target)
		if err != nil {
			continue
		}
		known = append(known, outRecord{rtype: dnsmessage.TypePTR, name: typ, target: n, ttl: uint32(left / time.Second)})
	}
	c.mu.Unlock()
	qs := []outQuestion{{name: typ, qtype: dnsmessage.TypePTR, unicast: unicast}}
	c.multicastQuery(qs, known)
}

// queryInstance asks for an instance's SRV and TXT records and, once
// the SRV record names its host, the host's addresses.
func (c *Conn) queryInstance(in svcInstance, unicast bool) {
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
	c.multicastQuery(qs, nil)
}

func (c *Conn) multicastQuery(qs []outQuestion, known []outRecord) {
	b, err := buildMessage(nil, dnsmessage.Header{}, qs, known, nil, nil)
	if err != nil {
		c.log.Debug("mdns: build query", "err", err)
		return
	}
	for _, pc := range c.conns {
		for ifindex := range c.ifnames {
			c.send(pc, b, pc.group(), ifindex)
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
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ServiceEntry{}, ErrClosed
	}
	c.svcCache.want(typeFQ, 1)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.svcCache.want(typeFQ, -1)
		c.mu.Unlock()
	}()
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
			c.queryInstance(in, first)
			first = false
			b.asked(now)
		}
		timer.Reset(max(time.Until(b.next), 0))
		select {
		case <-changed:
		case <-timer.C:
		case <-ctx.Done():
			return ServiceEntry{}, &net.DNSError{
				Err:        "no answer",
				Name:       display(fq),
				IsNotFound: true,
				IsTimeout:  errors.Is(ctx.Err(), context.DeadlineExceeded),
				UnwrapErr:  errors.Join(ErrNoAnswer, ctx.Err()),
			}
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
