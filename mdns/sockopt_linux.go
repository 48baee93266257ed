//go:build linux

package mdns

import "golang.org/x/sys/unix"

// multicastAllOff clears IP_MULTICAST_ALL (IPV6_MULTICAST_ALL): by default
// Linux delivers to a socket bound to the wildcard address the multicast
// of every group any socket of the host joined on any interface. With it
// off, the socket hears only the interfaces it joined. Best effort: the
// read loop also drops packets from interfaces not chosen.
func multicastAllOff(network string, fd int) {
	if network == "udp6" {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0)
		return
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
}
