package mdns

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// hub is an in-memory network of hosts for unit tests: each host has
// interfaces on numbered segments, and packetConns that deliver
// multicast to every socket of the same family and port on the segment
// (the sender's too: multicast loopback) and unicast to the first socket
// bound to the destination address and port, as the kernel does with
// SO_REUSEPORT. Every packet sent is logged.
type hub struct {
	mu      sync.Mutex
	conns   []*hubConn
	log     []hubPacket
	changed chan struct{} // closed and replaced when a packet is logged
}

// waitFor waits until at least n logged packets satisfy keep, at most d.
func (h *hub) waitFor(n int, keep func(hubPacket, message) bool, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		if h.changed == nil {
			h.changed = make(chan struct{})
		}
		ch := h.changed
		h.mu.Unlock()
		if len(h.packets(keep)) >= n {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

type hubHost struct {
	hub    *hub
	ifaces map[int]hubIface // by index
}

type hubIface struct {
	name    string
	segment int
	addrs   []netip.Addr
}

type hubPacket struct {
	data    []byte
	src     netip.AddrPort
	dst     netip.AddrPort
	segment int
	at      time.Time
}

type hubConn struct {
	host *hubHost
	v6   bool
	port uint16
	in   chan hubDelivery
	done chan struct{}
	once sync.Once
}

type hubDelivery struct {
	data    []byte
	src     netip.AddrPort
	dst     netip.Addr
	ifindex int
}

// host adds a host with the given interfaces, indexed from 1.
func (h *hub) host(ifaces ...hubIface) *hubHost {
	hh := &hubHost{hub: h, ifaces: make(map[int]hubIface)}
	for i, ifc := range ifaces {
		hh.ifaces[i+1] = ifc
	}
	return hh
}

// iface returns an interface on segment with one IPv4 and one link-local
// IPv6 address derived from n.
func iface(name string, segment int, n byte) hubIface {
	return hubIface{name: name, segment: segment, addrs: []netip.Addr{
		netip.AddrFrom4([4]byte{10, 0, byte(segment), n}),
		netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 13: byte(segment), 15: n}),
	}}
}

func (hh *hubHost) open(v6 bool, port uint16) *hubConn {
	c := &hubConn{host: hh, v6: v6, port: port, in: make(chan hubDelivery, 1024), done: make(chan struct{})}
	hh.hub.mu.Lock()
	hh.hub.conns = append(hh.hub.conns, c)
	hh.hub.mu.Unlock()
	return c
}

func (hh *hubHost) addrsOf(ifindex int) ([]netip.Addr, error) {
	return hh.ifaces[ifindex].addrs, nil
}

func (hh *hubHost) hostAddrs() ([]netip.Addr, error) {
	var out []netip.Addr
	for _, ifc := range hh.ifaces {
		out = append(out, ifc.addrs...)
	}
	return out, nil
}

func (hh *hubHost) ifnames() map[int]string {
	m := make(map[int]string)
	for i, ifc := range hh.ifaces {
		m[i] = ifc.name
	}
	return m
}

// testTiming shortens the waits of probing and announcing for the tests
// that run in real time; the protocol-time tests use rfcTiming under
// testing/synctest.
var testTiming = timing{
	probeWait:      20 * time.Millisecond,
	probeInterval:  20 * time.Millisecond,
	announceGap:    100 * time.Millisecond,
	rateLimit:      300 * time.Millisecond,
	tieBreakWait:   50 * time.Millisecond,
	goodbyeWait:    time.Second,
	flushGrace:     time.Second,
	settleTime:     50 * time.Millisecond,
	sentMemory:     5 * time.Second,
	addrCacheTTL:   time.Second,
	sharedDelayMin: 20 * time.Millisecond,
	sharedDelayMax: 120 * time.Millisecond,
}

// conn opens a Conn on the host with both families, closed when the test
// ends.
func (hh *hubHost) conn(t testing.TB, tm timing) *Conn {
	c := newConn(testLogger(t), []packetConn{hh.open(false, Port), hh.open(true, Port)}, hh.ifnames(), hh.addrsOf, hh.hostAddrs, tm)
	t.Cleanup(func() { c.Close() })
	return c
}

func (c *hubConn) group() netip.AddrPort {
	if c.v6 {
		return groupV6
	}
	return groupV4
}

func (c *hubConn) readFrom(b []byte) (int, netip.AddrPort, netip.Addr, int, error) {
	select {
	case d := <-c.in:
		return copy(b, d.data), d.src, d.dst, d.ifindex, nil
	case <-c.done:
		return 0, netip.AddrPort{}, netip.Addr{}, 0, net.ErrClosed
	}
}

func (c *hubConn) close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

func (c *hubConn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *hubConn) writeTo(b []byte, dst netip.AddrPort, ifindex int) error {
	if c.isClosed() {
		return net.ErrClosed
	}
	ifc, ok := c.host.ifaces[ifindex]
	if !ok {
		return &net.OpError{Op: "write", Err: net.UnknownNetworkError("no such interface")}
	}
	var src netip.Addr
	for _, a := range ifc.addrs {
		if a.Is6() == c.v6 {
			src = a
			break
		}
	}
	if !src.IsValid() {
		return &net.OpError{Op: "write", Err: net.UnknownNetworkError("no address")}
	}
	if dst.Addr().Is6() != c.v6 {
		return &net.OpError{Op: "write", Err: net.UnknownNetworkError("wrong family")}
	}
	data := append([]byte(nil), b...)
	h := c.host.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, hubPacket{data: data, src: netip.AddrPortFrom(src, c.port), dst: dst, segment: ifc.segment, at: time.Now()})
	if h.changed != nil {
		close(h.changed)
		h.changed = nil
	}
	from := netip.AddrPortFrom(src, c.port)
	for _, r := range h.conns {
		if r.v6 != c.v6 || r.port != dst.Port() || r.isClosed() {
			continue
		}
		for idx, rifc := range r.host.ifaces {
			if rifc.segment != ifc.segment {
				continue
			}
			if dst.Addr().IsMulticast() {
				r.deliver(hubDelivery{data, from, dst.Addr(), idx})
				continue
			}
			for _, a := range rifc.addrs {
				if a == dst.Addr().WithZone("") {
					r.deliver(hubDelivery{data, from, dst.Addr(), idx})
					return nil // one socket of those sharing the port
				}
			}
		}
	}
	return nil
}

func (c *hubConn) deliver(d hubDelivery) {
	select {
	case c.in <- d:
	default: // full: dropped, as UDP would
	}
}

// packets returns the logged packets for which keep is true.
func (h *hub) packets(keep func(hubPacket, message) bool) []hubPacket {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hubPacket
	for _, p := range h.log {
		m, err := parseMessage(p.data)
		if err == nil && keep(p, m) {
			out = append(out, p)
		}
	}
	return out
}

func (h *hub) reset() {
	h.mu.Lock()
	h.log = nil
	h.mu.Unlock()
}

// client is a raw socket on the hub for sending hand-made messages.
type client struct {
	t  testing.TB
	pc *hubConn
}

func (hh *hubHost) client(t testing.TB, v6 bool, port uint16) *client {
	return &client{t: t, pc: hh.open(v6, port)}
}

func (cl *client) send(b []byte, dst netip.AddrPort) {
	cl.t.Helper()
	if err := cl.pc.writeTo(b, dst, 1); err != nil {
		cl.t.Fatalf("client send: %v", err)
	}
}

// recv returns the next message to the client within d, or ok false.
func (cl *client) recv(d time.Duration) (hubDelivery, message, bool) {
	cl.t.Helper()
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case p := <-cl.pc.in:
			m, err := parseMessage(p.data)
			if err != nil {
				cl.t.Fatalf("client received unparsable message: %v", err)
			}
			return p, m, true
		case <-t.C:
			return hubDelivery{}, message{}, false
		}
	}
}

// recvResponse skips queries (our own looped back, probes) and returns
// the next response.
func (cl *client) recvResponse(d time.Duration) (hubDelivery, message, bool) {
	cl.t.Helper()
	deadline := time.Now().Add(d)
	for {
		p, m, ok := cl.recv(time.Until(deadline))
		if !ok || m.header.Response {
			return p, m, ok
		}
	}
}

func mustName(s string) dnsmessage.Name {
	return dnsmessage.MustNewName(s)
}

func query(t testing.TB, h dnsmessage.Header, qs []outQuestion, known []outRecord) []byte {
	t.Helper()
	b, err := buildMessage(nil, h, qs, known, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
