//go:build linux

package mdns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"scuttle/mdns/netlab"
	"scuttle/topology/testkit"
)

// TestSocketsPerInterface checks, on a host with two interfaces, that
// each way of opening the sockets reports the interface a datagram
// arrived on and sends multicast out of the interface asked for:
// control messages (Linux, macOS), IP_MULTICAST_IF per write (the BSDs'
// IPv4), and one socket per interface (Windows, run here on Linux,
// which filters multicast by socket and interface like Windows once
// IP_MULTICAST_ALL is off and the sockets share the port with
// SO_REUSEADDR alone, as on Windows: with SO_REUSEPORT, Linux hands each
// multicast datagram to one socket of the group).
//
// Lab: h0 has lan0 on segment 0 and lan1 on segment 1; h1 is on
// segment 0, h2 on segment 1.
func TestSocketsPerInterface(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 3, netlab.OnSegments(0, 0, 1), netlab.OnSegments(2, 1))
	h0, h1, h2 := lab.Hosts[0], lab.Hosts[1], lab.Hosts[2]
	tests := []struct {
		name    string
		network string
		open    func(ctx context.Context, ifaces []net.Interface) (packetConn, error)
		// noMcastArrival: Linux delivers IPv6 multicast to each socket
		// that joined the group on any interface, so one socket per
		// interface reads it twice here (the zone still names the
		// right interface); Windows is not known to.
		noMcastArrival bool
	}{
		{"udp4 control messages", "udp4", func(ctx context.Context, ifaces []net.Interface) (packetConn, error) {
			return openIPv4(ctx, ifaces, testLogger(t))
		}, false},
		{"udp4 multicast interface per write", "udp4", func(ctx context.Context, ifaces []net.Interface) (packetConn, error) {
			pc, err := openIPv4(ctx, ifaces, testLogger(t))
			if err == nil {
				pc.(*ipv4Conn).pin = true
			}
			return pc, err
		}, false},
		{"udp6 control messages", "udp6", func(ctx context.Context, ifaces []net.Interface) (packetConn, error) {
			return openIPv6(ctx, ifaces, testLogger(t))
		}, false},
		{"udp4 socket per interface", "udp4", func(ctx context.Context, ifaces []net.Interface) (packetConn, error) {
			return openIfaceSockets(ctx, "udp4", ifaces, windowsLikeControl, testLogger(t))
		}, false},
		{"udp6 socket per interface", "udp6", func(ctx context.Context, ifaces []net.Interface) (packetConn, error) {
			return openIfaceSockets(ctx, "udp6", ifaces, windowsLikeControl, testLogger(t))
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.CheckLeaks(t)
			var pc packetConn
			var lan [2]int // h0's interface indexes
			if err := h0.Do(func() error {
				var ifaces []net.Interface
				for i, name := range []string{"lan0", "lan1"} {
					ifi, err := net.InterfaceByName(name)
					if err != nil {
						return err
					}
					ifaces = append(ifaces, *ifi)
					lan[i] = ifi.Index
				}
				var err error
				pc, err = tt.open(t.Context(), ifaces)
				return err
			}); err != nil {
				t.Fatalf("open on h0: %v", err)
			}
			closed := false
			t.Cleanup(func() {
				if !closed {
					pc.close()
				}
			})
			p1, p2 := openPeer(t, h1, tt.network), openPeer(t, h2, tt.network)
			grp := pc.group()

			// arrival: multicast from each segment, then unicast (IPv6:
			// to h0's link-local address on that segment, whose zone
			// names the interface even for one socket per interface)
			send := func(p *peer, dst netip.AddrPort, msg string) {
				t.Helper()
				if _, err := p.conn.WriteTo([]byte(msg), net.UDPAddrFromAddrPort(dst)); err != nil {
					t.Fatalf("%s sends %q: %v", p.host, msg, err)
				}
			}
			want := map[string]int{}
			if !tt.noMcastArrival {
				send(p1, grp, "mcast from h1")
				send(p2, grp, "mcast from h2")
				want["mcast from h1"], want["mcast from h2"] = lan[0], lan[1]
			}
			if tt.network == "udp6" {
				send(p1, netip.AddrPortFrom(h0.Ifaces[0].IPv6.WithZone("lan0"), Port), "ucast from h1")
				send(p2, netip.AddrPortFrom(h0.Ifaces[1].IPv6.WithZone("lan0"), Port), "ucast from h2")
				want["ucast from h1"], want["ucast from h2"] = lan[0], lan[1]
			}
			for len(want) > 0 {
				msg, src, ifindex := readPC(t, pc)
				w, ok := want[msg]
				if !ok {
					t.Fatalf("h0 read %q from %v, want one of %v", msg, src, want)
				}
				if ifindex != w {
					t.Errorf("%q from %v: arrived on interface %d, want %d (lan0 %d, lan1 %d)", msg, src, ifindex, w, lan[0], lan[1])
				}
				delete(want, msg)
			}

			// departure: multicast out of lan1, then out of lan0; each
			// peer's first datagram from h0 must be its own segment's
			for _, w := range []struct {
				ifindex int
				msg     string
			}{{lan[1], "to lan1"}, {lan[0], "to lan0"}} {
				if err := pc.writeTo([]byte(w.msg), grp, w.ifindex); err != nil {
					t.Fatalf("h0 writes %q: %v", w.msg, err)
				}
			}
			for _, c := range []struct {
				p    *peer
				want string
			}{{p1, "to lan0"}, {p2, "to lan1"}} {
				if got := c.p.readFromH0(t); got != c.want {
					t.Errorf("%s heard %q first, want %q", c.p.host, got, c.want)
				}
			}
			closed = true
			if err := pc.close(); err != nil {
				t.Errorf("close: %v", err)
			}
			if _, _, _, _, err := pc.readFrom(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
				t.Errorf("readFrom after close: %v, want net.ErrClosed", err)
			}
		})
	}
}

// windowsLikeControl shares the port as Windows does (SO_REUSEADDR, no
// SO_REUSEPORT) and turns IP_MULTICAST_ALL off, so that Linux, like
// Windows, delivers multicast only to the sockets that joined the group
// on the interface it arrived on.
func windowsLikeControl(network, address string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		multicastAllOff(network, int(fd))
	})
	if err != nil {
		return err
	}
	return serr
}

// peer is a plain socket on port 5353 of a lab host, joined to the group
// on the host's lan0 and sending multicast out of it.
type peer struct {
	host string
	conn net.PacketConn
}

func openPeer(t *testing.T, h *netlab.Host, network string) *peer {
	t.Helper()
	p := &peer{host: h.Name}
	if err := h.Do(func() error {
		ifi, err := net.InterfaceByName("lan0")
		if err != nil {
			return err
		}
		raw, err := listenReuse(t.Context(), network, Port)
		if err != nil {
			return err
		}
		p.conn = raw
		if network == "udp6" {
			pc := ipv6.NewPacketConn(raw)
			if err := pc.JoinGroup(ifi, &net.UDPAddr{IP: net.IP(groupV6.Addr().AsSlice())}); err != nil {
				return err
			}
			return pc.SetMulticastInterface(ifi)
		}
		pc := ipv4.NewPacketConn(raw)
		if err := pc.JoinGroup(ifi, &net.UDPAddr{IP: net.IP(groupV4.Addr().AsSlice())}); err != nil {
			return err
		}
		return pc.SetMulticastInterface(ifi)
	}); err != nil {
		if p.conn != nil {
			p.conn.Close()
		}
		t.Fatalf("peer on %s: %v", h.Name, err)
	}
	t.Cleanup(func() { p.conn.Close() })
	return p
}

// readFromH0 returns the first datagram starting "to " (what h0 sends;
// the peer also hears its own multicast), within 5 seconds.
func (p *peer) readFromH0(t *testing.T) string {
	t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	for {
		n, _, err := p.conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("%s reads: %v", p.host, err)
		}
		if msg := string(buf[:n]); strings.HasPrefix(msg, "to ") {
			return msg
		}
	}
}

// readPC reads one datagram from pc within 5 seconds.
func readPC(t *testing.T, pc packetConn) (string, netip.AddrPort, int) {
	t.Helper()
	type result struct {
		msg     string
		src     netip.AddrPort
		ifindex int
		err     error
	}
	rc := make(chan result, 1)
	go func() {
		buf := make([]byte, 1500)
		n, src, _, ifindex, err := pc.readFrom(buf)
		rc <- result{string(buf[:n]), src, ifindex, err}
	}()
	select {
	case r := <-rc:
		if r.err != nil {
			t.Fatalf("h0 reads: %v", r.err)
		}
		return r.msg, r.src, r.ifindex
	case <-time.After(5 * time.Second):
		pc.close() // ends the read above
		<-rc
		t.Fatal("h0 read nothing in 5 s")
		return "", netip.AddrPort{}, 0
	}
}
