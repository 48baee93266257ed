package mdns

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file claims host names for the responder: probing (§8.1, with
// the tie-break of §8.2 in conflict.go), announcing (§8.3) and saying
// goodbye (§10.1). answer.go answers queries for them (§6); conflict.go
// defends them (§9).

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
