//go:build windows || linux

package mdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ifaceSockets is a packetConn over one socket per interface, for an OS
// whose sockets cannot say on which interface a datagram arrived nor
// send one out of a chosen interface (Windows: x/net's control messages
// are not implemented there). Each socket is bound to the wildcard
// address and port 5353, shared, joins the group on its one interface
// and sends multicast out of it. The OS delivers a multicast datagram
// only to the sockets that joined its group on the interface it arrived
// on, so the socket names the interface. A unicast datagram to port 5353
// reaches just one of the sockets sharing the port, whatever its
// interface: an IPv6 link-local source's zone names the right one, and
// is used; otherwise the socket's interface is taken. The destination
// address is not known (readFrom returns the zero netip.Addr).
//
// One goroutine per socket reads it and hands each datagram to readFrom;
// close closes the sockets and waits for them. The file builds on Linux
// too, where networking_test.go tests it in a network namespace.
type ifaceSockets struct {
	grp    netip.AddrPort
	socks  map[int]net.PacketConn // by interface index
	byName map[string]int         // interface index by name, for zones
	log    *slog.Logger

	in   chan *datagram
	done chan struct{} // closed by close
	once sync.Once
	wg   sync.WaitGroup
	err  error // of closing the sockets, set in once
}

// datagram is one read, handed from a socket's goroutine to readFrom,
// which copies it out and sends on ack; the goroutine reuses buf then.
type datagram struct {
	buf     []byte
	n       int
	src     netip.AddrPort
	ifindex int
	ack     chan struct{}
}

// openIfaceSockets opens, for network "udp4" or "udp6", a socket on each
// of ifaces that can join the group there; it fails if none could.
// control sets the options that share the port, before bind
// (reuseControl on Windows).
func openIfaceSockets(ctx context.Context, network string, ifaces []net.Interface, control func(network, address string, c syscall.RawConn) error, log *slog.Logger) (*ifaceSockets, error) {
	s := &ifaceSockets{
		grp:    groupV4,
		socks:  make(map[int]net.PacketConn),
		byName: make(map[string]int),
		log:    log,
		in:     make(chan *datagram),
		done:   make(chan struct{}),
	}
	if network == "udp6" {
		s.grp = groupV6
	}
	var errs []error
	for i := range ifaces {
		ifi := &ifaces[i]
		raw, err := openIfaceSocket(ctx, network, ifi, s.grp, control)
		if err != nil {
			errs = append(errs, err)
			log.Debug("mdns: no socket on interface", "network", network, "iface", ifi.Name, "err", err)
			continue
		}
		s.socks[ifi.Index] = raw
		s.byName[ifi.Name] = ifi.Index
	}
	if len(s.socks) == 0 {
		return nil, fmt.Errorf("mdns: %s: joined %v on none of %d interfaces: %w", network, s.grp.Addr(), len(ifaces), errors.Join(errs...))
	}
	for ifindex, raw := range s.socks {
		s.wg.Add(1)
		go s.readLoop(raw, ifindex)
	}
	return s, nil
}

// openIfaceSocket binds port 5353 shared, joins group on ifi and sends
// multicast out of ifi, with TTL 255 and loopback on (RFC 6762 §11).
func openIfaceSocket(ctx context.Context, network string, ifi *net.Interface, group netip.AddrPort, control func(string, string, syscall.RawConn) error) (net.PacketConn, error) {
	raw, err := listenWith(ctx, network, int(group.Port()), control)
	if err != nil {
		return nil, fmt.Errorf("mdns: listen %s port %d: %w", network, group.Port(), err)
	}
	gaddr := &net.UDPAddr{IP: net.IP(group.Addr().AsSlice())}
	var sets []func() error
	if network == "udp6" {
		pc := ipv6.NewPacketConn(raw)
		sets = []func() error{
			func() error { return pc.JoinGroup(ifi, gaddr) },
			func() error { return pc.SetMulticastInterface(ifi) },
			func() error { return pc.SetMulticastHopLimit(255) },
			func() error { return pc.SetHopLimit(255) },
			func() error { return pc.SetMulticastLoopback(true) },
		}
	} else {
		pc := ipv4.NewPacketConn(raw)
		sets = []func() error{
			func() error { return pc.JoinGroup(ifi, gaddr) },
			func() error { return pc.SetMulticastInterface(ifi) },
			func() error { return pc.SetMulticastTTL(255) },
			func() error { return pc.SetTTL(255) },
			func() error { return pc.SetMulticastLoopback(true) },
		}
	}
	for _, set := range sets {
		if err := set(); err != nil {
			raw.Close()
			return nil, fmt.Errorf("mdns: %s socket on %s: %w", network, ifi.Name, err)
		}
	}
	return raw, nil
}

// readLoop reads the socket of interface ifindex until close.
func (s *ifaceSockets) readLoop(raw net.PacketConn, ifindex int) {
	defer s.wg.Done()
	d := &datagram{buf: make([]byte, 1<<16), ack: make(chan struct{}, 1)}
	for {
		n, addr, err := raw.ReadFrom(d.buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// a transient error: retry in 10 ms, as Conn.readLoop does
			s.log.Debug("mdns: read", "iface", ifindex, "err", err)
			select {
			case <-s.done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		d.n, d.src = n, udpAddrPort(addr)
		d.ifindex = s.arrival(d.src, ifindex)
		select {
		case s.in <- d:
			<-d.ack
		case <-s.done:
			return
		}
	}
}

// arrival returns the interface a datagram from src, read by the socket
// of interface sock, arrived on: the interface its zone names, if it is
// one of ours, else sock. The zone is an interface name from Go's
// process-wide table (or a number if that has no name for it), which
// may name the interface differently from the Conn's list after a
// rename, or when the table was read in another network namespace
// (tests): then the name is looked up again.
func (s *ifaceSockets) arrival(src netip.AddrPort, sock int) int {
	z := src.Addr().Zone()
	if z == "" {
		return sock
	}
	if i, ok := s.byName[z]; ok {
		return i
	}
	i, err := strconv.Atoi(z)
	if err != nil {
		ifi, ierr := net.InterfaceByName(z)
		if ierr != nil {
			return sock
		}
		i = ifi.Index
	}
	if _, ok := s.socks[i]; ok {
		return i
	}
	return sock
}

func (s *ifaceSockets) readFrom(b []byte) (int, netip.AddrPort, netip.Addr, int, error) {
	select {
	case d := <-s.in:
		n := copy(b, d.buf[:d.n])
		src, ifindex := d.src, d.ifindex
		d.ack <- struct{}{}
		return n, src, netip.Addr{}, ifindex, nil
	case <-s.done:
		return 0, netip.AddrPort{}, netip.Addr{}, 0, net.ErrClosed
	}
}

func (s *ifaceSockets) writeTo(b []byte, dst netip.AddrPort, ifindex int) error {
	raw := s.socks[ifindex]
	if raw == nil {
		return fmt.Errorf("mdns: no socket on interface %d", ifindex)
	}
	_, err := raw.WriteTo(b, net.UDPAddrFromAddrPort(dst))
	return err
}

func (s *ifaceSockets) group() netip.AddrPort { return s.grp }

// close closes the sockets and waits for their goroutines; later calls
// return the first one's result.
func (s *ifaceSockets) close() error {
	s.once.Do(func() {
		close(s.done)
		var errs []error
		for _, raw := range s.socks {
			errs = append(errs, raw.Close())
		}
		s.wg.Wait()
		s.err = errors.Join(errs...)
	})
	return s.err
}
