package mdns

import (
	"cmp"
	"net/netip"
	"slices"
)

// This file counts the packets each interface carries, for diagnostics:
// scuttle doctor reads them to tell whether the socket hears its own
// multicast (the group is joined and loopback works) and whether any
// other host's mDNS traffic arrives (if none does on a busy network,
// suspect client isolation or a firewall).

// maxStatsHosts bounds the other hosts' addresses kept per interface.
const maxStatsHosts = 16

// IfaceStats counts the multicast DNS datagrams of one interface and
// address family since the Conn was opened.
type IfaceStats struct {
	Iface string // the interface's name
	IPv6  bool   // the family: ff02::fb, else 224.0.0.251

	Sent  int // datagrams sent to port 5353: to the group, or to a querier sharing it
	Own   int // datagrams received that this Conn sent (multicast loopback)
	Local int // datagrams received from other sockets of this host (another responder)
	Other int // datagrams received from other hosts
	// OtherHosts are the source addresses of those, at most 16.
	OtherHosts []netip.Addr
}

type statsKey struct {
	ifindex int
	v6      bool
}

// Stats returns the counts of every interface and family the Conn
// uses, sorted by interface name, IPv4 first.
func (c *Conn) Stats() []IfaceStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []IfaceStats
	for _, pc := range c.conns {
		v6 := pc.group().Addr().Is6()
		for ifindex, name := range c.ifnames {
			s := IfaceStats{Iface: name, IPv6: v6}
			if p := c.stats[statsKey{ifindex, v6}]; p != nil {
				s = *p
				s.OtherHosts = slices.Clone(p.OtherHosts)
			}
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b IfaceStats) int {
		if a.IPv6 != b.IPv6 && a.Iface == b.Iface {
			if a.IPv6 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Iface, b.Iface)
	})
	return out
}

// statsFor returns the counters of ifindex and pc's family; the caller
// holds c.mu.
func (c *Conn) statsFor(pc packetConn, ifindex int) *IfaceStats {
	k := statsKey{ifindex, pc.group().Addr().Is6()}
	s := c.stats[k]
	if s == nil {
		s = &IfaceStats{Iface: c.ifnames[ifindex], IPv6: k.v6}
		c.stats[k] = s
	}
	return s
}

// countReceived counts one datagram that arrived on ifindex from src.
func (c *Conn) countReceived(pc packetConn, ifindex int, src netip.AddrPort, own bool) {
	local := !own && c.isLocal(src.Addr())
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.statsFor(pc, ifindex)
	switch {
	case own:
		s.Own++
	case local:
		s.Local++
	default:
		s.Other++
		a := src.Addr().WithZone("")
		if !slices.Contains(s.OtherHosts, a) && len(s.OtherHosts) < maxStatsHosts {
			s.OtherHosts = append(s.OtherHosts, a)
		}
	}
}
