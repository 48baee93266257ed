package mdns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// This file holds what opening the real sockets needs on every OS:
// binding port 5353 shared with the other responders of the host
// (avahi-daemon, Bonjour, Windows' own, another scuttle), joining the
// group, reading the interfaces' addresses. networking_cmsg.go opens one
// socket per address family where control messages name each
// datagram's interface; networking_windows.go, where they do not, one
// socket per interface (ifacesocks.go).

func udpAddrPort(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

// listenWith binds network on the wildcard address and port, with the
// options control sets before bind.
func listenWith(ctx context.Context, network string, port int, control func(network, address string, c syscall.RawConn) error) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: control}
	addr := fmt.Sprintf("0.0.0.0:%d", port)
	if network == "udp6" {
		addr = fmt.Sprintf("[::]:%d", port)
	}
	return lc.ListenPacket(ctx, network, addr)
}

// interfaceAddrs returns the unicast addresses of interface index.
func interfaceAddrs(index int) ([]netip.Addr, error) {
	ifi, err := net.InterfaceByIndex(index)
	if err != nil {
		return nil, err
	}
	as, err := ifi.Addrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range as {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out, nil
}

// hostAddrs returns every unicast address of the host.
func hostAddrs() ([]netip.Addr, error) {
	as, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range as {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out, nil
}
