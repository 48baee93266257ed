package mdns

import (
	"context"
	"log/slog"
	"net"
)

// openSockets opens, for IPv4 and for IPv6, one socket per interface
// (ifaceSockets): Windows sockets give no control messages through
// x/net, so a socket's interface is the only way to know where a
// datagram came from and to send one out of a given interface. It
// returns the families it could open and why the others failed.
func openSockets(ctx context.Context, ifaces []net.Interface, log *slog.Logger) ([]packetConn, []error) {
	var conns []packetConn
	var errs []error
	for _, network := range []string{"udp4", "udp6"} {
		s, err := openIfaceSockets(ctx, network, ifaces, reuseControl, log)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		conns = append(conns, s)
	}
	return conns, errs
}
