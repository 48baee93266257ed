package mdns

import (
	"cmp"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file is the resolver: queries (§5.2 continuous querying, with the
// QU bit on the first, §5.4) and the intake of responses into the cache.

// maxQueryInterval caps the growing interval between queries (§5.2).
const maxQueryInterval = time.Minute

// LookupHost returns the addresses of host, "bob" or "bob.local", like
// net.Resolver.LookupHost: IPv4 addresses first, IPv6 link-local ones
// with the zone of the interface they were seen on ("fe80::1%lan0"). An
// IP address is returned as is.
//
// Answers from the cache are returned at once. Otherwise LookupHost
// queries on every interface, first with the QU bit (§5.4), again after
// 1 s, 2 s, 4 s… until an answer arrives or ctx ends; then the error is
// a *net.DNSError with IsNotFound set that wraps ErrNoAnswer and ctx's
// error.
func (c *Conn) LookupHost(ctx context.Context, host string) ([]string, error) {
	if isLiteral(host) {
		return []string{host}, nil
	}
	fq, err := fqdn(host)
	if err != nil {
		return nil, err
	}
	if own := c.ownAddrs(fq); len(own) > 0 {
		return c.format(own), nil
	}
	name, err := dnsmessage.NewName(fq)
	if err != nil {
		return nil, err
	}
	interval := time.Second
	first := true
	timer := time.NewTimer(0)
	defer timer.Stop()
	due := false
	for {
		c.mu.Lock()
		found := c.cache.lookup(fq, time.Now())
		changed := c.cache.changed
		c.mu.Unlock()
		if len(found) > 0 {
			return c.format(c.settle(ctx, fq, found)), nil
		}
		if first || due {
			c.query(name, first)
			first, due = false, false
			timer.Reset(interval)
			interval = min(2*interval, maxQueryInterval)
		}
		select {
		case <-changed:
		case <-timer.C:
			due = true
		case <-ctx.Done():
			return nil, noAnswer(fq, ctx.Err())
		case <-c.closing:
			return nil, ErrClosed
		}
	}
}

// noAnswer is the error of a lookup of fq that ctx ended, with ctxErr,
// before an answer came: a *net.DNSError with IsNotFound set, as
// net.LookupHost's, wrapping ErrNoAnswer and ctxErr.
func noAnswer(fq string, ctxErr error) *net.DNSError {
	return &net.DNSError{
		Err:        "no answer",
		Name:       display(fq),
		IsNotFound: true,
		IsTimeout:  errors.Is(ctxErr, context.DeadlineExceeded),
		UnwrapErr:  errors.Join(ErrNoAnswer, ctxErr),
	}
}

// settle returns found, or waits up to timing.settleTime (50 ms) for
// found to hold both families and returns the cache's addresses for fq
// then: after a first answer holding addresses of one family only,
// the other family's may follow. Avahi answers the query sent over IPv4
// with A records and the one sent over IPv6 with AAAA records, in two
// responses.
func (c *Conn) settle(ctx context.Context, fq string, found []cachedAddr) []cachedAddr {
	t := time.NewTimer(c.timing.settleTime)
	defer t.Stop()
	for {
		has4 := slices.ContainsFunc(found, func(a cachedAddr) bool { return a.addr.Is4() })
		has6 := slices.ContainsFunc(found, func(a cachedAddr) bool { return a.addr.Is6() })
		if has4 && has6 || len(c.conns) < 2 {
			return found
		}
		c.mu.Lock()
		changed := c.cache.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-t.C:
			return found
		case <-ctx.Done():
			return found
		case <-c.closing:
			return found
		}
		c.mu.Lock()
		if now := c.cache.lookup(fq, time.Now()); len(now) > 0 {
			found = now
		}
		c.mu.Unlock()
	}
}

// ownAddrs returns the addresses of fq if it is registered here.
func (c *Conn) ownAddrs(fq string) []cachedAddr {
	c.mu.Lock()
	r := c.names[fq]
	est := r != nil && r.established
	c.mu.Unlock()
	if !est {
		return nil
	}
	var out []cachedAddr
	for ifindex := range c.ifnames {
		v4, v6 := c.addrs(ifindex)
		for _, a := range append(v4, v6...) {
			out = append(out, cachedAddr{a, ifindex})
		}
	}
	return out
}

// format sorts addresses IPv4 first, drops duplicates and adds the zone
// to link-local IPv6 addresses.
func (c *Conn) format(as []cachedAddr) []string {
	slices.SortFunc(as, func(a, b cachedAddr) int {
		if a.addr.Is4() != b.addr.Is4() {
			if a.addr.Is4() {
				return -1
			}
			return 1
		}
		return cmp.Or(a.addr.Compare(b.addr), cmp.Compare(a.ifindex, b.ifindex))
	})
	var out []string
	var last netip.Addr
	for _, a := range as {
		if a.addr == last && !a.addr.Is6() {
			continue
		}
		last = a.addr
		s := a.addr.String()
		if a.addr.Is6() && (a.addr.IsLinkLocalUnicast() || a.addr.IsLinkLocalMulticast()) {
			s = a.addr.WithZone(c.ifnames[a.ifindex]).String()
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// query multicasts a question for name's A and AAAA records on every
// interface and family.
func (c *Conn) query(name dnsmessage.Name, unicast bool) {
	qs := []outQuestion{
		{name: name, qtype: dnsmessage.TypeA, unicast: unicast},
		{name: name, qtype: dnsmessage.TypeAAAA, unicast: unicast},
	}
	c.multicastQuery(qs, nil, nil, 0)
}

// handleResponse takes a response's address records into the cache and
// checks them against our names.
func (c *Conn) handleResponse(pc packetConn, m message, src netip.AddrPort, ifindex int, own bool) {
	// §11 (and §6.7): a response whose source port is not 5353 is not an
	// mDNS response. Our own, looped back, neither informs nor conflicts.
	if src.Port() != Port || own {
		return
	}
	recs := append(m.answers, m.additionals...)
	if len(recs) == 0 {
		return
	}
	c.checkConflicts(pc, recs, src, ifindex)
	c.checkServiceConflicts(pc, recs, src, ifindex) // conflict.go
	now := time.Now()
	c.mu.Lock()
	c.cache.update(recs, ifindex, now)
	if c.svcCache.update(recs, src.Addr().WithZone(""), now, c.timing.flushGrace) {
		c.cache.notify() // wake browsers (browse.go)
	}
	c.mu.Unlock()
}
