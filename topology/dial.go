package topology

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"scuttle/mdns"
)

// A target is one entry of Swarm.Peers, redialled by its own dialLoop.
type target struct {
	spec    string        // as given
	name    string        // NAME form: dial name.local on the name's port
	addr    string        // HOST:PORT form
	lastKey string        // string(key) of the peer found there last; only dialLoop touches it
	named   bool          // an entry of Swarm.Peers (not AddPeer's): the user named it
	wake    chan struct{} // Redial's: ends a backoff early (capacity 1)
}

// parsePeer parses NAME or HOST:PORT.
func parsePeer(p string) (*target, error) {
	if p == "" {
		return nil, errors.New("topology: empty peer")
	}
	if strings.Contains(p, ":") {
		host, port, err := net.SplitHostPort(p)
		if err != nil {
			return nil, fmt.Errorf("topology: peer %q: want NAME or HOST:PORT: %w", p, err)
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 || host == "" {
			return nil, fmt.Errorf("topology: peer %q: want HOST:PORT with a host and a port in 1-65535", p)
		}
		return &target{spec: p, addr: p, wake: make(chan struct{}, 1)}, nil
	}
	if err := mdns.CheckName(p); err != nil {
		return nil, fmt.Errorf("topology: peer %q: want NAME or HOST:PORT: %w", p, err)
	}
	return &target{spec: p, name: p, wake: make(chan struct{}, 1)}, nil
}

// Redial makes the dial loop of p, an entry of Peers, dial at once if it
// is waiting out a backoff: for a peer that has just shown up (the chat:
// a peer connected and gave a NAME of Peers, which only the dial of that
// NAME proves). It does nothing if p is no entry of Peers, if the loop
// is dialling or connected, or before Run and after it.
func (s *Swarm) Redial(p string) {
	s.mu.Lock()
	t := s.peers[p]
	s.mu.Unlock()
	if t != nil {
		select {
		case t.wake <- struct{}{}:
		default: // woken already
		}
	}
}

// maxFails caps the failure count of a dial loop: enough doublings of
// the minimum backoff to reach any sensible maximum.
const maxFails = 16

// noScuttleSlowdown is how many times the longest backoff a dial loop
// waits, at most, between dials of a NAME that resolves to an address
// where no scuttle answers (a minute by default): the name may be a
// forged or stale mDNS record, and a host that runs no scuttle should
// not be dialled every 5 s for the whole run.
const noScuttleSlowdown = 12

// A noScuttleError is the failure of a dial of a NAME peer whose name
// resolved, but where no scuttle answers at addr: every TCP dial failed,
// or the TLS handshake failed before the peer proved any key.
type noScuttleError struct {
	addr string // the (last) address dialled
	err  error
}

func (e *noScuttleError) Error() string {
	return fmt.Sprintf("topology: no scuttle answers at %s: %v", e.addr, e.err)
}

func (e *noScuttleError) Unwrap() error { return e.err }

// A hostPort is an address dialled, as an Event's Addr.
type hostPort string

func (a hostPort) Network() string { return "tcp" }
func (a hostPort) String() string  { return string(a) }

// unreachable follows the dials of one target that found no scuttle at
// the address its name resolved to.
type unreachable struct {
	slow int  // such dials in a row
	told bool // the Unreachable event was sent (once per target)
}

// note records the outcome of a dial of t and reports whether it found
// no scuttle; the first time, it tells of it with an Unreachable event.
func (u *unreachable) note(s *Swarm, t *target, out outcome) bool {
	var none *noScuttleError
	if !errors.As(out.err, &none) {
		u.slow = 0
		return false
	}
	u.slow = min(u.slow+1, maxFails)
	s.log.Debug("topology: no scuttle at the peer's address", "peer", t.spec, "err", out.err)
	if !u.told {
		u.told = true
		s.emit(Event{Kind: Unreachable, Addr: hostPort(none.addr), Target: t.spec, Err: none.err})
	}
	return true
}

// dialLoop keeps one connection to t until ctx ends: it dials, serves the
// connection, and dials again when it ends. Failures back off
// exponentially with jitter; a connection to the same peer that is up
// already (inbound, or from another target) is waited for instead. A
// NAME that resolves to no scuttle (noScuttleError) is redialled ever
// more slowly, up to noScuttleSlowdown times the longest backoff apart,
// and reported once by an Unreachable event.
func (s *Swarm) dialLoop(ctx context.Context, t *target) {
	fails := -1 // no wait before the first dial
	var none unreachable
	for {
		wait := s.backoff(fails)
		if none.slow > 0 {
			wait = max(wait, s.slowBackoff(none.slow))
		}
		if fails >= 0 && !sleep(ctx, wait, t.wake) {
			return
		}
		if pc := s.connectedTo(t); pc != nil {
			select {
			case <-pc.done:
			case <-ctx.Done():
				return
			}
			fails = 0
			continue
		}
		select {
		case <-t.wake: // a Redial while this loop was not waiting
		default:
		}
		start := time.Now()
		out := s.dialOnce(ctx, t)
		if ctx.Err() != nil {
			return
		}
		if out.peer.Key != nil {
			t.lastKey = string(out.peer.Key)
			s.foundAt(t)
		}
		switch {
		case none.note(s, t, out):
			fails = min(max(fails, 0)+1, maxFails)
		case errors.Is(out.err, errSelf):
			s.log.Warn("topology: peer is this swarm itself; not redialling it", "peer", t.spec)
			return
		case errors.Is(out.err, errDuplicate):
			// Connected already; the next round waits for that
			// connection to end.
			if out.existing != nil {
				select {
				case <-out.existing.done:
				case <-ctx.Done():
					return
				}
			}
			fails = 0
		case out.served:
			s.log.Debug("topology: connection ended; redialling", "peer", t.spec, "err", out.err)
			// A connection that ends quickly counts as a failure, so
			// that a peer that accepts and drops is not hammered.
			if time.Since(start) >= s.maxBack() {
				fails = 0
			} else {
				fails = min(max(fails, 0)+1, maxFails)
			}
		case errors.Is(out.err, errVersion) || errors.Is(out.err, errProtocol):
			// Not a transient failure: say so once, keep trying (the
			// peer may be upgraded), at the slowest pace.
			if fails < maxFails {
				s.log.Warn("topology: peer speaks another protocol; retrying slowly", "peer", t.spec, "err", out.err)
			}
			fails = maxFails
		case errors.Is(out.err, errUnauthorized) || errors.Is(out.err, errRefusedByPeer) || errors.Is(out.err, errFull):
			s.log.Info("topology: connection refused", "peer", t.spec, "name", out.peer.Name, "key", keyString(out.peer.Key), "err", out.err)
			fails = min(max(fails, 0)+1, maxFails)
		default:
			s.log.Debug("topology: dial failed", "peer", t.spec, "err", out.err)
			fails = min(max(fails, 0)+1, maxFails)
		}
	}
}

// connectedTo returns the live connection to the peer found at t last
// time, if any. A name a connected peer claims is not taken as a sign
// that t is connected: it is only a claim, and would let any peer stop
// the dialling of another.
func (s *Swarm) connectedTo(t *target) *peerConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pc := s.conns[t.lastKey]; pc != nil && !pc.ending {
		return pc
	}
	return nil
}

// dialOnce resolves t, dials its addresses in turn until one answers, and
// runs the connection to its end.
func (s *Swarm) dialOnce(ctx context.Context, t *target) outcome {
	addrs := []string{t.addr}
	if t.name != "" {
		// The port lookup runs alongside the address lookup; cancel
		// ends it before wg.Wait waits for it.
		var wg sync.WaitGroup
		defer wg.Wait()
		lctx, cancel := context.WithTimeout(ctx, defaultDialTimeout)
		defer cancel()
		ports := make(chan uint16, 1)
		pr, hasPorts := s.Resolver.(PortResolver)
		if hasPorts {
			wg.Go(func() {
				p, err := pr.LookupPort(lctx, t.name)
				if err != nil {
					p = 0
				}
				ports <- p
			})
		}
		hosts, err := s.Resolver.LookupHost(lctx, t.name+".local")
		if err != nil {
			return outcome{err: fmt.Errorf("topology: resolve %s.local: %w", t.name, err)}
		}
		port := HashToPort(t.name)
		if s.port != nil {
			port = s.port(t.name)
		}
		if hasPorts {
			wait := time.NewTimer(portWait)
			select {
			case p := <-ports:
				if p != 0 {
					port = p
				}
			case <-wait.C:
				s.log.Debug("topology: no port for the peer; dialling its name's", "peer", t.name, "port", port)
			}
			wait.Stop()
		}
		cancel() // ends a port lookup still waiting
		addrs = addrs[:0]
		for _, h := range hosts {
			addrs = append(addrs, net.JoinHostPort(h, strconv.Itoa(int(port))))
		}
		if len(addrs) == 0 {
			return outcome{err: fmt.Errorf("topology: resolve %s.local: no addresses", t.name)}
		}
	}
	dial := s.Dial
	if dial == nil {
		dial = (&net.Dialer{KeepAliveConfig: keepAlive}).DialContext
	}
	var errs []error
	for _, a := range addrs {
		dctx, cancel := context.WithTimeout(ctx, defaultDialTimeout)
		nc, err := dial(dctx, "tcp", a)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("topology: dial %s (peer %q): %w", a, t.spec, err))
			continue
		}
		out := s.connect(ctx, nc, ConnInfo{Dialed: true, Target: t.spec}, t, nil)
		if t.name != "" && !out.served && out.peer.Key == nil && out.err != nil && !errors.Is(out.err, errVersion) {
			out.err = &noScuttleError{addr: a, err: out.err}
		}
		return out
	}
	err := errors.Join(errs...)
	if t.name != "" && len(addrs) > 0 {
		err = &noScuttleError{addr: addrs[len(addrs)-1], err: err}
	}
	return outcome{err: err}
}

// backoff is the wait before redial number fails+1: from minBackoff
// doubling to maxBackoff, each drawn uniformly from its upper half so that
// peers that failed together do not retry together.
func (s *Swarm) backoff(fails int) time.Duration {
	d := s.minBackoff
	if d <= 0 {
		d = defaultMinBackoff
	}
	for i := 0; i < fails && d < s.maxBack(); i++ {
		d *= 2
	}
	d = min(d, s.maxBack())
	return d/2 + rand.N(d/2+1)
}

// slowBackoff is the wait before the next dial of a NAME after slow
// dials in a row found no scuttle at its address: the longest backoff,
// doubling up to noScuttleSlowdown times it, each drawn from its upper
// half.
func (s *Swarm) slowBackoff(slow int) time.Duration {
	d := s.maxBack()
	for i := 1; i < slow && d < noScuttleSlowdown*s.maxBack(); i++ {
		d *= 2
	}
	d = min(d, noScuttleSlowdown*s.maxBack())
	return d/2 + rand.N(d/2+1)
}

func (s *Swarm) maxBack() time.Duration {
	if s.maxBackoff > 0 {
		return s.maxBackoff
	}
	return defaultMaxBackoff
}
