package mdns

import (
	"net/netip"
	"time"
)

// This file is the resolver's cache of address records seen in
// responses (RFC 6762 §10): every A and AAAA record from port 5353 is
// kept until its TTL runs out, capped at maxCacheEntries.

const maxCacheEntries = 4096

type cacheKey struct {
	name string // lower-case FQDN
	addr netip.Addr
}

type cacheEntry struct {
	expires time.Time
	added   time.Time // when last received
	ifindex int       // where it arrived: the zone of a link-local address
	// jitter is a random part of 2% of the TTL, added to the refresh
	// point (svccache.go's refreshJitter).
	jitter time.Duration
}

// refreshAt is when a querier interested in the record asks for it
// again (RFC 6762 §5.2): at 80% of its TTL, plus its jitter.
func (e cacheEntry) refreshAt() time.Time {
	return e.added.Add(e.expires.Sub(e.added)*4/5 + e.jitter)
}

// cache is not safe for concurrent use; Conn guards it with its mutex.
type cache struct {
	entries map[cacheKey]cacheEntry
	// changed is closed, and replaced, whenever a record is added, so
	// lookups waiting for an answer wake up.
	changed chan struct{}
	// grace is how long a record lives after a goodbye (TTL 0, §10.1)
	// or a cache-flush of its name (§10.2): one second
	// (timing.c.grace).
	grace time.Duration
}

func newCache(grace time.Duration) cache {
	return cache{entries: make(map[cacheKey]cacheEntry), changed: make(chan struct{}), grace: grace}
}

// update applies the address records of one response that arrived on
// ifindex at now.
func (c *cache) update(recs []record, ifindex int, now time.Time) {
	// §10.2: a record with the cache-flush bit replaces the records of
	// the same name and type received more than a second ago.
	type nameType struct {
		name string
		v4   bool
	}
	var flush map[nameType]bool
	for _, r := range recs {
		if r.isAddr() && r.flush && r.ttl != 0 {
			if flush == nil {
				flush = make(map[nameType]bool)
			}
			flush[nameType{r.name, r.addr.Is4()}] = true
		}
	}
	if flush != nil {
		for k, e := range c.entries {
			if flush[nameType{k.name, k.addr.Is4()}] && now.Sub(e.added) > c.grace &&
				e.expires.After(now.Add(c.grace)) && !inRecords(recs, k) {
				e.expires = now.Add(c.grace)
				c.entries[k] = e
			}
		}
	}
	added := false
	for _, r := range recs {
		if !r.isAddr() {
			continue // DNS-SD records go to the svcCache
		}
		k := cacheKey{r.name, r.addr}
		if r.ttl == 0 {
			// §10.1: a goodbye; keep the record one more second.
			if e, ok := c.entries[k]; ok && e.expires.After(now.Add(c.grace)) {
				e.expires = now.Add(c.grace)
				c.entries[k] = e
			}
			continue
		}
		if _, ok := c.entries[k]; !ok && len(c.entries) >= maxCacheEntries {
			c.evict(now)
		}
		ttl := time.Duration(r.ttl) * time.Second
		c.entries[k] = cacheEntry{
			expires: now.Add(ttl),
			added:   now,
			ifindex: ifindex,
			jitter:  refreshJitter(ttl),
		}
		added = true
	}
	if added {
		c.notify()
	}
}

// notify wakes every lookup waiting on changed.
func (c *cache) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func inRecords(recs []record, k cacheKey) bool {
	for _, r := range recs {
		if r.name == k.name && r.addr == k.addr {
			return true
		}
	}
	return false
}

// evict drops the expired entries, or if there are none the one
// expiring first.
func (c *cache) evict(now time.Time) {
	var first cacheKey
	var firstAt time.Time
	n := 0
	for k, e := range c.entries {
		if !e.expires.After(now) {
			delete(c.entries, k)
			n++
			continue
		}
		if firstAt.IsZero() || e.expires.Before(firstAt) {
			first, firstAt = k, e.expires
		}
	}
	if n == 0 && !firstAt.IsZero() {
		delete(c.entries, first)
	}
}

// cachedAddr is an address of a name with the interface it was seen on.
type cachedAddr struct {
	addr    netip.Addr
	ifindex int
}

// lookup returns the unexpired addresses of name.
func (c *cache) lookup(name string, now time.Time) []cachedAddr {
	var out []cachedAddr
	for k, e := range c.entries {
		if k.name != name {
			continue
		}
		if !e.expires.After(now) {
			delete(c.entries, k)
			continue
		}
		out = append(out, cachedAddr{k.addr, e.ifindex})
	}
	return out
}
