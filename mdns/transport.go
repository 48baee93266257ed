package mdns

import "net/netip"

// packetConn is what a Conn needs of one UDP socket: read a datagram with
// the interface it arrived on, write one out of a given interface, close.
// The real implementation (networking.go) wraps an ipv4 or ipv6
// PacketConn bound to port 5353; tests use an in-memory hub, so no packet
// leaves the test.
type packetConn interface {
	// readFrom reads one datagram into b. ifindex is the interface it
	// arrived on and dst the address it was sent to (the multicast group
	// or this host's unicast address). It returns net.ErrClosed, possibly
	// wrapped, once close has been called.
	readFrom(b []byte) (n int, src netip.AddrPort, dst netip.Addr, ifindex int, err error)
	// writeTo sends b to dst out of interface ifindex.
	writeTo(b []byte, dst netip.AddrPort, ifindex int) error
	// group is the multicast group address of this socket's family:
	// 224.0.0.251 or ff02::fb, with port 5353.
	group() netip.AddrPort
	close() error
}

// Port is the multicast DNS port (RFC 6762 §3).
const Port = 5353

var (
	groupV4 = netip.AddrPortFrom(netip.MustParseAddr("224.0.0.251"), Port)
	groupV6 = netip.AddrPortFrom(netip.MustParseAddr("ff02::fb"), Port)
)
