//go:build !windows

package mdns

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// This file opens one UDP socket per address family, bound to the
// wildcard address and port 5353 with SO_REUSEADDR and SO_REUSEPORT,
// joined to the mDNS group on each chosen interface, that learns each
// datagram's interface and destination from control messages
// (IP_PKTINFO on Linux and macOS, IP_RECVIF and IP_RECVDSTADDR on the
// BSDs, IPV6_PKTINFO everywhere).

// openSockets opens the IPv4 and the IPv6 socket; it returns those it
// could open and why the others failed.
func openSockets(ctx context.Context, ifaces []net.Interface, log *slog.Logger) ([]packetConn, []error) {
	var conns []packetConn
	var errs []error
	for _, open := range []func(context.Context, []net.Interface, *slog.Logger) (packetConn, error){openIPv4, openIPv6} {
		pc, err := open(ctx, ifaces, log)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		conns = append(conns, pc)
	}
	return conns, errs
}

// listenReuse binds network ("udp4" or "udp6") on the wildcard address
// and port with SO_REUSEADDR and SO_REUSEPORT set before bind.
func listenReuse(ctx context.Context, network string, port int) (net.PacketConn, error) {
	return listenWith(ctx, network, port, reuseControl)
}

// joinGroup joins group on each of ifaces it can and returns the first
// one joined; it fails if it could join none. ipv4.PacketConn and
// ipv6.PacketConn both provide JoinGroup.
func joinGroup(pc interface {
	JoinGroup(*net.Interface, net.Addr) error
}, ifaces []net.Interface, group netip.AddrPort, log *slog.Logger) (*net.Interface, error) {
	addr := &net.UDPAddr{IP: net.IP(group.Addr().AsSlice())}
	var joined *net.Interface
	for i := range ifaces {
		if err := pc.JoinGroup(&ifaces[i], addr); err != nil {
			log.Debug("mdns: cannot join group", "group", group.Addr(), "iface", ifaces[i].Name, "err", err)
			continue
		}
		if joined == nil {
			joined = &ifaces[i]
		}
	}
	if joined == nil {
		return nil, fmt.Errorf("mdns: joined %v on none of %d interfaces", group.Addr(), len(ifaces))
	}
	return joined, nil
}

// ipv4WriteIfIndex says whether x/net/ipv4 sends the interface of a
// write's control message (IP_PKTINFO). Elsewhere (the BSDs) it drops
// it, and ipv4Conn chooses the interface of each multicast with
// IP_MULTICAST_IF instead.
const ipv4WriteIfIndex = runtime.GOOS == "linux" || runtime.GOOS == "darwin" || runtime.GOOS == "ios"

// ipv4Conn is a packetConn over an IPv4 socket.
type ipv4Conn struct {
	pc *ipv4.PacketConn

	// pin: choose each multicast's interface with IP_MULTICAST_IF, under
	// mu, rather than in the control message (see ipv4WriteIfIndex).
	pin    bool
	ifaces map[int]*net.Interface // the chosen interfaces, by index
	mu     sync.Mutex
	cur    int // the interface IP_MULTICAST_IF names
}

func (c *ipv4Conn) readFrom(b []byte) (int, netip.AddrPort, netip.Addr, int, error) {
	n, cm, src, err := c.pc.ReadFrom(b)
	if err != nil {
		return 0, netip.AddrPort{}, netip.Addr{}, 0, err
	}
	var dst netip.Addr
	ifindex := 0
	if cm != nil {
		ifindex = cm.IfIndex
		dst, _ = netip.AddrFromSlice(cm.Dst)
		dst = dst.Unmap()
	}
	return n, udpAddrPort(src), dst, ifindex, nil
}

func (c *ipv4Conn) writeTo(b []byte, dst netip.AddrPort, ifindex int) error {
	if !c.pin || !dst.Addr().IsMulticast() {
		// The interface in the control message (IP_PKTINFO) chooses the
		// outgoing interface for multicast too, so one socket serves all.
		_, err := c.pc.WriteTo(b, &ipv4.ControlMessage{IfIndex: ifindex}, net.UDPAddrFromAddrPort(dst))
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != ifindex {
		ifi := c.ifaces[ifindex]
		if ifi == nil {
			return fmt.Errorf("mdns: udp4: interface %d is not one of the chosen", ifindex)
		}
		if err := c.pc.SetMulticastInterface(ifi); err != nil {
			return err
		}
		c.cur = ifindex
	}
	_, err := c.pc.WriteTo(b, nil, net.UDPAddrFromAddrPort(dst))
	return err
}

func (c *ipv4Conn) group() netip.AddrPort { return groupV4 }
func (c *ipv4Conn) close() error          { return c.pc.Close() }

// ipv6Conn is a packetConn over an IPv6 socket.
type ipv6Conn struct {
	pc *ipv6.PacketConn
}

func (c *ipv6Conn) readFrom(b []byte) (int, netip.AddrPort, netip.Addr, int, error) {
	n, cm, src, err := c.pc.ReadFrom(b)
	if err != nil {
		return 0, netip.AddrPort{}, netip.Addr{}, 0, err
	}
	var dst netip.Addr
	ifindex := 0
	if cm != nil {
		ifindex = cm.IfIndex
		dst, _ = netip.AddrFromSlice(cm.Dst)
	}
	return n, udpAddrPort(src), dst, ifindex, nil
}

func (c *ipv6Conn) writeTo(b []byte, dst netip.AddrPort, ifindex int) error {
	_, err := c.pc.WriteTo(b, &ipv6.ControlMessage{IfIndex: ifindex}, net.UDPAddrFromAddrPort(dst))
	return err
}

func (c *ipv6Conn) group() netip.AddrPort { return groupV6 }
func (c *ipv6Conn) close() error          { return c.pc.Close() }

// openIPv4 opens the IPv4 socket and joins 224.0.0.251 on each of ifaces
// it can; it fails if it could join none.
func openIPv4(ctx context.Context, ifaces []net.Interface, log *slog.Logger) (packetConn, error) {
	raw, err := listenReuse(ctx, "udp4", Port)
	if err != nil {
		return nil, fmt.Errorf("mdns: listen udp4 port %d: %w", Port, err)
	}
	pc := ipv4.NewPacketConn(raw)
	joined, err := joinGroup(pc, ifaces, groupV4, log)
	if err != nil {
		raw.Close()
		return nil, err
	}
	// RFC 6762 §11: IP TTL 255 on everything sent; loopback on so two
	// responders on one host hear each other; an explicit default
	// interface (each write also names its interface).
	for _, set := range []func() error{
		func() error { return pc.SetControlMessage(ipv4.FlagInterface|ipv4.FlagDst, true) },
		func() error { return pc.SetMulticastTTL(255) },
		func() error { return pc.SetTTL(255) },
		func() error { return pc.SetMulticastLoopback(true) },
		func() error { return pc.SetMulticastInterface(joined) },
	} {
		if err := set(); err != nil {
			raw.Close()
			return nil, fmt.Errorf("mdns: udp4 socket option: %w", err)
		}
	}
	return newIPv4Conn(pc, ifaces, joined, !ipv4WriteIfIndex), nil
}

// openIPv6 is openIPv4 for IPv6 and ff02::fb.
func openIPv6(ctx context.Context, ifaces []net.Interface, log *slog.Logger) (packetConn, error) {
	raw, err := listenReuse(ctx, "udp6", Port)
	if err != nil {
		return nil, fmt.Errorf("mdns: listen udp6 port %d: %w", Port, err)
	}
	pc := ipv6.NewPacketConn(raw)
	joined, err := joinGroup(pc, ifaces, groupV6, log)
	if err != nil {
		raw.Close()
		return nil, err
	}
	for _, set := range []func() error{
		func() error { return pc.SetControlMessage(ipv6.FlagInterface|ipv6.FlagDst, true) },
		func() error { return pc.SetMulticastHopLimit(255) },
		func() error { return pc.SetHopLimit(255) },
		func() error { return pc.SetMulticastLoopback(true) },
		func() error { return pc.SetMulticastInterface(joined) },
	} {
		if err := set(); err != nil {
			raw.Close()
			return nil, fmt.Errorf("mdns: udp6 socket option: %w", err)
		}
	}
	return &ipv6Conn{pc: pc}, nil
}

// newIPv4Conn wraps pc, whose multicast interface is joined, for the
// chosen ifaces; pin says
// whether writes choose the interface with IP_MULTICAST_IF.
func newIPv4Conn(pc *ipv4.PacketConn, ifaces []net.Interface, joined *net.Interface, pin bool) *ipv4Conn {
	c := &ipv4Conn{pc: pc, pin: pin, ifaces: make(map[int]*net.Interface), cur: joined.Index}
	for i := range ifaces {
		c.ifaces[ifaces[i].Index] = &ifaces[i]
	}
	return c
}
