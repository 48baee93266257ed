package mdns

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file is the cache of DNS-SD records (RFC 6762 §10) that Browse
// and LookupService read: the PTR, SRV and TXT records of the service
// types someone is browsing or looking up, filled by handleResponse,
// with what it knows of each instance put together with the address
// cache's records of its host.

// maxServiceEntries bounds each map of the svcCache.
const maxServiceEntries = 1024

// maxInstancesPerSource bounds the instances (PTR records) the cache
// takes from one source address: a host flooding made-up instances
// fills at most this share of the cache, not the whole of it.
const maxInstancesPerSource = 64

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
	src            netip.Addr // who sent it
	// jitter is a random part of 2% of the TTL, added to the refresh
	// point (refreshJitter).
	jitter time.Duration
}

// refreshAt is when a querier interested in the record asks for it again
// (RFC 6762 §5.2: at 80% of its TTL, plus its jitter).
func (r svcRecord) refreshAt() time.Time {
	return r.added.Add(r.expires.Sub(r.added)*4/5 + r.jitter)
}

// refreshJitter returns a random duration of up to 2% of ttl, which
// RFC 6762 §5.2 adds to a record's refresh point: the hosts that cached
// it from one multicast answer then do not all ask for it at the same
// moment, and the first to ask draws an answer, multicast, that
// refreshes the others' copies (and their questions in between are
// left out as duplicates, §7.3).
func refreshJitter(ttl time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(ttl/50) + 1))
}

// halfLeft reports whether r has more than half its TTL left at now, so
// that a querier lists it as a known answer (RFC 6762 §7.1).
func (r svcRecord) halfLeft(now time.Time) bool {
	left := r.expires.Sub(now)
	return left > 0 && left >= r.expires.Sub(r.added)/2
}

// wantType records in the cache that a caller (Browse, LookupService)
// wants the records of typeFQ, and returns the func that ends that
// interest, after which they are dropped if no one else wants them. It
// returns ErrClosed if the Conn is closed.
func (c *Conn) wantType(typeFQ string) (unwant func(), err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	c.svcCache.want(typeFQ, 1)
	return func() {
		c.mu.Lock()
		c.svcCache.want(typeFQ, -1)
		c.mu.Unlock()
	}, nil
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
// from src at now. A goodbye (TTL 0, §10.1) leaves a record grace more.
// A new instance from a source that has maxInstancesPerSource in the
// cache already is left out. It reports whether anything changed.
func (s *svcCache) update(recs []record, src netip.Addr, now time.Time, grace time.Duration) bool {
	if len(s.wanted) == 0 {
		return false
	}
	changed := false
	for _, r := range recs {
		ttl := time.Duration(r.ttl) * time.Second
		v := svcRecord{added: now, expires: now.Add(ttl), owner: r.owner, target: r.target, port: r.port, txt: r.txt, src: src, jitter: refreshJitter(ttl)}
		switch r.rtype {
		case dnsmessage.TypePTR:
			inst := lowerASCII(r.target)
			if s.wanted[r.name] == 0 || typeOf(inst) != r.name {
				continue
			}
			if _, ok := s.ptrs[ptrKey{r.name, inst}]; !ok && r.ttl > 0 && s.fromSource(src) >= maxInstancesPerSource {
				continue
			}
			changed = put(s.ptrs, ptrKey{r.name, inst}, r.ttl, v, now, grace) || changed
		case dnsmessage.TypeSRV:
			if s.wanted[typeOf(r.name)] > 0 {
				changed = put(s.srvs, r.name, r.ttl, v, now, grace) || changed
			}
		case dnsmessage.TypeTXT:
			if s.wanted[typeOf(r.name)] > 0 {
				changed = put(s.txts, r.name, r.ttl, v, now, grace) || changed
			}
		}
	}
	return changed
}

// fromSource counts the instances (PTR records) src sent.
func (s *svcCache) fromSource(src netip.Addr) int {
	n := 0
	for _, r := range s.ptrs {
		if r.src == src {
			n++
		}
	}
	return n
}

// put stores v, a record received at now with ttl, as m[k], evicting
// one if m is full; a goodbye (ttl 0) instead shortens a record m holds
// to grace more. It reports whether m changed.
func put[K comparable](m map[K]svcRecord, k K, ttl uint32, v svcRecord, now time.Time, grace time.Duration) bool {
	old, ok := m[k]
	if ttl == 0 {
		if ok && old.expires.After(now.Add(grace)) {
			old.expires = now.Add(grace)
			m[k] = old
			return true
		}
		return false
	}
	if !ok && len(m) >= maxServiceEntries {
		evict(m, now)
	}
	m[k] = v
	return true
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
				in.refresh = minTime(in.refresh, e.refreshAt())
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
