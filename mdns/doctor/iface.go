package doctor

import (
	"net"
	"net/netip"
	"slices"
	"strings"
)

// checkInterface reports the interface's flags and addresses.
func (d *doctor) checkInterface(ifi net.Interface) {
	n := ifi.Name
	switch {
	case ifi.Flags&net.FlagUp == 0:
		d.report(failure(n, "up", "the interface is down", "ip link set "+n+" up"))
	case ifi.Flags&net.FlagRunning == 0 && ifi.Flags&net.FlagLoopback == 0:
		d.report(warning(n, "up", "up, but no carrier (cable, Wi-Fi association)", "check the link: ip link show "+n))
	default:
		d.report(okay(n, "up", "up"))
	}
	switch {
	case ifi.Flags&net.FlagMulticast != 0:
		d.report(okay(n, "multicast", "multicast-capable"))
	case ifi.Flags&net.FlagLoopback != 0:
		d.report(okay(n, "multicast", "loopback: carries multicast without the flag (only to this host)"))
	default:
		d.report(failure(n, "multicast", "the interface is not multicast-capable", "ip link set "+n+" multicast on, or choose another with --iface"))
	}
	d.checkAddresses(ifi)
}

// checkAddresses reports the interface's addresses, IPv4 first: none is
// a failure, no IPv4 one a warning (peers that speak IPv4 alone cannot
// reach this host).
func (d *doctor) checkAddresses(ifi net.Interface) {
	n := ifi.Name
	as, err := ifi.Addrs()
	if err != nil {
		d.report(failure(n, "addresses", err.Error(), ""))
		return
	}
	var v4, v6 []string
	for _, a := range as {
		p, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		if p.Addr().Unmap().Is4() {
			v4 = append(v4, p.Addr().Unmap().String())
		} else {
			v6 = append(v6, p.Addr().String())
		}
	}
	all := strings.Join(append(slices.Clone(v4), v6...), " ")
	switch {
	case len(v4) == 0 && len(v6) == 0:
		d.report(failure(n, "addresses", "no address", "the interface needs an address (DHCP, or ip addr add)"))
	case len(v4) == 0:
		d.report(warning(n, "addresses", all+" (no IPv4)", "peers that only speak IPv4 cannot reach this host"))
	case len(v6) == 0:
		d.report(okay(n, "addresses", all+" (no IPv6: IPv4 only)"))
	default:
		d.report(okay(n, "addresses", all))
	}
}

// checkRoute reports whether the host has a route for 224.0.0.0/4 or a
// default route: scuttle names the interface on each packet and needs
// neither, but other mDNS tools (drill, dig) do.
func (d *doctor) checkRoute(ifaces []net.Interface) {
	if len(ifaces) == 1 && ifaces[0].Flags&net.FlagLoopback != 0 {
		return // loopback alone: no route matters
	}
	table, err := routeTable()
	if err != nil {
		d.report(okay("", "route", "not checked: /proc/net/route cannot be read here"))
		return
	}
	found := multicastRoute(table)
	if found == "" {
		d.report(warning("", "route", "no route for 224.0.0.0/4 and no default route",
			"scuttle names the interface on each packet and works without; for other mDNS tools: ip route add 224.0.0.0/4 dev "+ifaces[0].Name))
		return
	}
	d.report(okay("", "route", "multicast has "+found))
}
