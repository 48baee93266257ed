package mdns

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// A Conn is one mDNS endpoint: a responder for the names registered on
// it and a resolver with a cache, over one socket per address family
// shared with the other responders of the host. Its methods are safe for
// concurrent use.
type Conn struct {
	log     *slog.Logger
	conns   []packetConn
	ifnames map[int]string                          // the chosen interfaces, by index
	addrsOf func(ifindex int) ([]netip.Addr, error) // an interface's addresses
	hostOf  func() ([]netip.Addr, error)            // every address of the host
	timing  timing
	seed    maphash.Seed

	closing chan struct{} // closed when Close starts
	once    sync.Once
	wg      sync.WaitGroup // read loops, announcers, deferred answers

	mu         sync.Mutex
	closed     bool // set under mu before wg.Wait: no more wg.Add
	names      map[string]*registration
	services   map[string]*serviceReg // by lower-case instance FQDN (service.go)
	cache      cache
	svcCache   svcCache                 // DNS-SD records seen (svccache.go)
	dups       map[questionKey]dupEntry // questions asked by others and us (dupquestion.go)
	dupsPruned time.Time                // when dups was last walked for entries of no more use
	sent       sentSet
	lastMcast  map[mcastKey]time.Time
	pending    map[mcastKey]bool // a deferred multicast answer is scheduled
	timers     map[*time.Timer]bool
	addrCache  map[int]addrCacheEntry   // by ifindex; 0 is the whole host
	stats      map[statsKey]*IfaceStats // stats.go
}

// timing holds every interval the Conn waits or remembers for; tests
// may shorten them, and the protocol-time tests run the RFC's own under
// testing/synctest.
type timing struct {
	probeWait      time.Duration // random delay before the first probe: up to this (§8.1)
	probeInterval  time.Duration // between probes (§8.1)
	announceGap    time.Duration // between the two announcements (§8.3)
	rateLimit      time.Duration // one multicast of a record per interface per this (§6)
	tieBreakWait   time.Duration // wait after losing a tie-break (§8.2)
	goodbyeWait    time.Duration // bound on sending goodbyes in Close
	flushGrace     time.Duration // a record's life after a goodbye or a cache-flush (§10.1, §10.2)
	settleTime     time.Duration // LookupHost's wait for the other family (resolver.go)
	sentMemory     time.Duration // how long a packet sent is known when it comes back
	addrCacheTTL   time.Duration // how long the interfaces' addresses are reused
	sharedDelayMin time.Duration // the random delay of an answer with shared records (§6):
	sharedDelayMax time.Duration // 20 to 120 ms
}

var rfcTiming = timing{
	probeWait:      250 * time.Millisecond,
	probeInterval:  250 * time.Millisecond,
	announceGap:    time.Second,
	rateLimit:      time.Second,
	tieBreakWait:   time.Second,
	goodbyeWait:    time.Second,
	flushGrace:     time.Second,
	settleTime:     50 * time.Millisecond,
	sentMemory:     5 * time.Second,
	addrCacheTTL:   time.Second,
	sharedDelayMin: 20 * time.Millisecond,
	sharedDelayMax: 120 * time.Millisecond,
}

type mcastKey struct {
	name    string
	ifindex int
	v6      bool
}

type addrCacheEntry struct {
	addrs []netip.Addr
	at    time.Time
}

// Listen opens the mDNS sockets on the interfaces cfg chooses. ctx
// bounds only the opening; the Conn runs until Close.
func Listen(ctx context.Context, cfg Config) (*Conn, error) {
	log := cfg.logger()
	ifaces, err := chooseInterfaces(cfg.Interfaces)
	if err != nil {
		return nil, err
	}
	// IPv6 may be disabled; IPv4 alone is enough.
	conns, errs := openSockets(ctx, ifaces, log)
	if len(conns) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoInterface, errors.Join(errs...))
	}
	for _, err := range errs {
		log.Debug("mdns: socket not opened", "err", err)
	}
	names := make(map[int]string)
	for _, ifi := range ifaces {
		names[ifi.Index] = ifi.Name
	}
	c := newConn(log, conns, names, interfaceAddrs, hostAddrs, rfcTiming)
	log.Debug("mdns: listening", "ifaces", ifaceList(ifaces), "sockets", len(conns))
	return c, nil
}

func ifaceList(ifaces []net.Interface) []string {
	var s []string
	for _, ifi := range ifaces {
		s = append(s, ifi.Name)
	}
	return s
}

// newConn starts a Conn over ready sockets; the tests call it with the
// in-memory hub's.
func newConn(log *slog.Logger, conns []packetConn, ifnames map[int]string, addrsOf func(int) ([]netip.Addr, error), hostOf func() ([]netip.Addr, error), t timing) *Conn {
	c := &Conn{
		log:       log,
		conns:     conns,
		ifnames:   ifnames,
		addrsOf:   addrsOf,
		hostOf:    hostOf,
		timing:    t,
		seed:      maphash.MakeSeed(),
		closing:   make(chan struct{}),
		names:     make(map[string]*registration),
		services:  make(map[string]*serviceReg),
		cache:     newCache(t.flushGrace),
		svcCache:  newSvcCache(),
		dups:      make(map[questionKey]dupEntry),
		sent:      newSentSet(t.sentMemory),
		lastMcast: make(map[mcastKey]time.Time),
		pending:   make(map[mcastKey]bool),
		timers:    make(map[*time.Timer]bool),
		addrCache: make(map[int]addrCacheEntry),
		stats:     make(map[statsKey]*IfaceStats),
	}
	for _, pc := range conns {
		c.wg.Add(1)
		go c.readLoop(pc)
	}
	return c
}

// Close sends goodbyes for the registered names (RFC 6762 §10.1; bounded
// by a second), closes the sockets and waits for every goroutine of the
// Conn. It is safe to call more than once; later calls return nil.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.closing)
		c.mu.Lock()
		c.closed = true
		for t := range c.timers {
			if t.Stop() {
				c.wg.Done()
			}
			delete(c.timers, t)
		}
		var regs []*registration
		for _, r := range c.names {
			if r.established {
				regs = append(regs, r)
			}
		}
		var svcs []*serviceReg
		for _, s := range c.services {
			if s.established {
				svcs = append(svcs, s)
			}
		}
		c.mu.Unlock()
		deadline := time.Now().Add(c.timing.goodbyeWait)
		// Services first: their SRV records point at the host names.
		for _, s := range svcs {
			if time.Now().After(deadline) {
				break
			}
			c.announceService(s, true)
		}
		for _, r := range regs {
			if time.Now().After(deadline) {
				break
			}
			c.announce(r, 0)
		}
		var errs []error
		for _, pc := range c.conns {
			errs = append(errs, pc.close())
		}
		c.wg.Wait()
		err = errors.Join(errs...)
	})
	return err
}

func (c *Conn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// goAfter runs f after d on a goroutine Close waits for, unless Close
// has started; Close cancels it if it has not started yet. The caller
// holds c.mu. It reports whether f was scheduled.
func (c *Conn) goAfter(d time.Duration, f func()) bool {
	if c.closed {
		return false
	}
	c.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		defer c.wg.Done()
		c.mu.Lock()
		if !c.timers[t] { // Close stopped it as it fired
			c.mu.Unlock()
			return
		}
		delete(c.timers, t)
		c.mu.Unlock()
		if !c.isClosing() {
			f()
		}
	})
	c.timers[t] = true
	return true
}

// readLoop reads one socket until it is closed.
func (c *Conn) readLoop(pc packetConn) {
	defer c.wg.Done()
	buf := make([]byte, maxPacket+1)
	for {
		n, src, dst, ifindex, err := pc.readFrom(buf)
		if err != nil {
			if c.isClosing() || errors.Is(err, net.ErrClosed) {
				return
			}
			c.log.Debug("mdns: read", "err", err)
			select {
			case <-c.closing:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		c.handlePacket(pc, buf[:n], src, dst, ifindex)
	}
}

// handlePacket processes one datagram that arrived on ifindex.
func (c *Conn) handlePacket(pc packetConn, b []byte, src netip.AddrPort, dst netip.Addr, ifindex int) {
	if _, ok := c.ifnames[ifindex]; !ok {
		return // another interface of the host (IP_MULTICAST_ALL)
	}
	if len(b) > maxPacket {
		return // §17: over 9000 octets
	}
	// Our own packet, looped back: its bytes were sent by us and it
	// comes from an address of this host. Both are needed: another
	// host's query is often byte for byte one of ours (every chat
	// browses the same type), and must be answered.
	own := c.isOwn(b) && c.isLocal(src.Addr())
	c.countReceived(pc, ifindex, src, own)
	m, err := parseMessage(b)
	if err != nil {
		return
	}
	// §18.3, §18.11: messages with a non-zero OPCODE or RCODE are
	// silently ignored.
	if m.header.OpCode != 0 || m.header.RCode != 0 {
		return
	}
	if m.header.Response {
		c.handleResponse(pc, m, src, ifindex, own)
		return
	}
	c.handleQuery(pc, m, src, dst, ifindex, own)
}

// send writes b to dst out of ifindex, remembering it when it will come
// back to port 5353 of this host (multicast loopback, or a unicast
// answer to a querier sharing our port) so it is not taken as another
// host's.
func (c *Conn) send(pc packetConn, b []byte, dst netip.AddrPort, ifindex int) {
	if dst.Port() == Port {
		h := maphash.Bytes(c.seed, b)
		c.mu.Lock()
		c.sent.add(h, time.Now())
		c.statsFor(pc, ifindex).Sent++
		c.mu.Unlock()
	}
	if err := pc.writeTo(b, dst, ifindex); err != nil && !c.isClosing() {
		c.log.Debug("mdns: write", "dst", dst, "iface", c.ifnames[ifindex], "err", err)
	}
}

func (c *Conn) isOwn(b []byte) bool {
	h := maphash.Bytes(c.seed, b)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent.has(h, time.Now())
}

// addrs returns the addresses of interface ifindex, split by family.
func (c *Conn) addrs(ifindex int) (v4, v6 []netip.Addr) {
	for _, a := range c.cachedAddrs(ifindex) {
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a.WithZone(""))
		}
	}
	return v4, v6
}

// cachedAddrs returns the addresses of interface ifindex, or of the
// whole host for 0, re-read at most once a second.
func (c *Conn) cachedAddrs(ifindex int) []netip.Addr {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.addrCache[ifindex]
	c.mu.Unlock()
	if ok && now.Sub(e.at) <= c.timing.addrCacheTTL {
		return e.addrs
	}
	var as []netip.Addr
	var err error
	if ifindex == 0 {
		as, err = c.hostOf()
	} else {
		as, err = c.addrsOf(ifindex)
	}
	if err != nil {
		c.log.Debug("mdns: interface addresses", "iface", c.ifnames[ifindex], "err", err)
	}
	c.mu.Lock()
	c.addrCache[ifindex] = addrCacheEntry{addrs: as, at: now}
	c.mu.Unlock()
	return as
}

// isLocal reports whether a is an address of this host, on any of its
// interfaces.
func (c *Conn) isLocal(a netip.Addr) bool {
	a = a.WithZone("")
	if a.IsLoopback() {
		return true
	}
	for _, x := range c.cachedAddrs(0) {
		if x.WithZone("") == a {
			return true
		}
	}
	return false
}

// sentSet remembers the hashes of the packets sent in the last
// memory (timing.sentMemory), at most maxSent of them.
type sentSet struct {
	at     map[uint64]time.Time
	ring   []sentItem
	next   int
	memory time.Duration
}

type sentItem struct {
	h  uint64
	at time.Time
}

const maxSent = 256

func newSentSet(memory time.Duration) sentSet {
	return sentSet{at: make(map[uint64]time.Time), ring: make([]sentItem, maxSent), memory: memory}
}

func (s *sentSet) add(h uint64, now time.Time) {
	if old := s.ring[s.next]; s.at[old.h] == old.at {
		delete(s.at, old.h) // unless sent again since
	}
	s.ring[s.next] = sentItem{h, now}
	s.next = (s.next + 1) % maxSent
	s.at[h] = now
}

func (s *sentSet) has(h uint64, now time.Time) bool {
	t, ok := s.at[h]
	return ok && now.Sub(t) < s.memory
}
