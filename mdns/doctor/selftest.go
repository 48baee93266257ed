package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"scuttle/mdns"
)

// listenFor is how long the self-test listens for other hosts' mDNS
// (and the browse's answers), from the start of its claim, at least:
// long enough for a busy network's traffic, short enough to wait for.
const listenFor = 1500 * time.Millisecond

// selfTest claims a random name on md, which sends three probes and two
// announcements on every interface: hearing them back shows the group
// is joined and multicast loops back. A second Conn then resolves the
// name through the network stack. Meanwhile any other host's mDNS
// traffic is counted, and scuttle peers are browsed for. The whole is
// bounded by the Timeout option.
func (d *doctor) selfTest(ctx context.Context, md *mdns.Conn, ifaces []net.Interface) {
	d.checkGroups(ifaces)
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	peers := browsePeers(ctx, md)
	start := time.Now()
	own := d.claimOwn(ctx, md, ifaces)
	// Listen for the other hosts a little longer; loopback has none.
	onlyLoopback := !slices.ContainsFunc(ifaces, func(ifi net.Interface) bool { return ifi.Flags&net.FlagLoopback == 0 })
	if wait := time.Until(start.Add(listenFor)); wait > 0 && ctx.Err() == nil && !onlyLoopback {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	found := peers()

	stats := md.Stats()
	d.reportLoopback(stats, ifaces)
	d.reportOwn(own)
	d.reportOtherHosts(stats, ifaces, start)
	if len(found) > 0 {
		d.report(okay("", "peers", "scuttle peers seen: "+strings.Join(found, ", ")))
	}
}

// browsePeers browses md for scuttle peers until the func it returns is
// called, which returns the instances seen, in the order they came.
func browsePeers(ctx context.Context, md *mdns.Conn) (stop func() []string) {
	ctx, cancel := context.WithCancel(ctx)
	peers := make(chan []string, 1)
	go func() {
		var seen []string
		md.Browse(ctx, "_scuttle._tcp", func(e mdns.ServiceEntry) {
			if !e.Gone && !slices.Contains(seen, e.Instance) {
				seen = append(seen, e.Instance)
			}
		})
		peers <- seen
	}()
	return func() []string {
		cancel()
		return <-peers
	}
}

// ownName is the outcome of the self-test's claim of a name: the name,
// the error claiming it, else the error of a second socket resolving
// it or how long that took.
type ownName struct {
	name                string
	claimErr, lookupErr error
	took                time.Duration
}

// claimOwn claims a random name, scuttle-doctor-XXXXXXXX, on md and has
// a second Conn on ifaces resolve it.
func (d *doctor) claimOwn(ctx context.Context, md *mdns.Conn, ifaces []net.Interface) ownName {
	var rnd [4]byte
	rand.Read(rnd[:])
	own := ownName{name: "scuttle-doctor-" + hex.EncodeToString(rnd[:])}
	if own.claimErr = md.Register(ctx, own.name); own.claimErr != nil {
		return own
	}
	other, err := mdns.Listen(ctx, mdns.Config{Interfaces: names(ifaces), Logger: d.opts.Logger})
	if err != nil {
		own.lookupErr = err
		return own
	}
	defer other.Close()
	t0 := time.Now()
	_, own.lookupErr = other.LookupHost(ctx, own.name)
	own.took = time.Since(t0)
	return own
}

// reportLoopback reports, per interface and family, whether our own
// packets were heard back. One family working is enough; both failing
// is a failure.
func (d *doctor) reportLoopback(stats []mdns.IfaceStats, ifaces []net.Interface) {
	for _, s := range stats {
		fam, other := "IPv4", "IPv6"
		if s.IPv6 {
			fam, other = "IPv6", "IPv4"
		}
		otherWorks := slices.ContainsFunc(stats, func(x mdns.IfaceStats) bool { return x.Iface == s.Iface && x.IPv6 != s.IPv6 && x.Own > 0 })
		bad := failure
		if otherWorks {
			bad = warning
		}
		check := "self-test " + fam
		switch {
		case s.Sent == 0:
			d.report(bad(s.Iface, check, "nothing could be sent", "see the -v output: the interface refuses multicast over "+fam))
		case s.Own == 0 && otherWorks && isLoopback(ifaces, s.Iface):
			d.report(warning(s.Iface, check, fmt.Sprintf("sent %d packets, heard none of them back", s.Sent),
				"Linux loopback carries no "+fam+" multicast; "+other+" works, which is enough"))
		case s.Own == 0:
			d.report(bad(s.Iface, check, fmt.Sprintf("sent %d packets, heard none of them back", s.Sent),
				"the group is not joined or multicast is filtered on this host: check the firewall for UDP 5353"))
		default:
			d.report(okay(s.Iface, check, fmt.Sprintf("heard %d of our %d packets back", s.Own, s.Sent)))
		}
	}
}

// reportOwn reports the claim of our own name and its resolution by a
// second socket.
func (d *doctor) reportOwn(own ownName) {
	fq := mdns.FQDN(own.name)
	switch {
	case own.claimErr != nil:
		d.report(failure("", "own name", "claiming "+fq+": "+own.claimErr.Error(), ""))
	case own.lookupErr != nil:
		d.report(failure("", "own name", "a second socket could not resolve "+fq+": "+own.lookupErr.Error(),
			"multicast does not reach other sockets of this host: a firewall on UDP 5353, or IP_MULTICAST_LOOP off"))
	default:
		d.report(okay("", "own name", fmt.Sprintf("a second socket resolved %s in %v", fq, own.took.Round(10*time.Microsecond))))
	}
}

// reportOtherHosts reports, per interface other than loopback, the
// other hosts heard over either family since start.
func (d *doctor) reportOtherHosts(stats []mdns.IfaceStats, ifaces []net.Interface, start time.Time) {
	for _, s := range stats {
		if s.IPv6 || isLoopback(ifaces, s.Iface) {
			continue // one line per interface; no other host is on loopback
		}
		var v6 mdns.IfaceStats
		for _, x := range stats {
			if x.IPv6 && x.Iface == s.Iface {
				v6 = x
			}
		}
		hosts := slices.Concat(s.OtherHosts, v6.OtherHosts)
		if len(hosts) == 0 {
			d.report(warning(s.Iface, "other hosts", fmt.Sprintf("heard no other host's mDNS in %v", time.Since(start).Round(100*time.Millisecond)),
				"if peers are on this network: Wi-Fi client (AP) isolation or a guest network, a firewall dropping UDP 5353, or a router between you; a relay peer named HOST:PORT crosses any of these"))
			continue
		}
		var hs []string
		for _, a := range hosts {
			hs = append(hs, a.String())
		}
		d.report(okay(s.Iface, "other hosts", fmt.Sprintf("heard %d packets from %s", s.Other+v6.Other, strings.Join(hs, " "))))
	}
}

// checkGroups reads the kernel's group memberships (/proc/net/igmp,
// /proc/net/igmp6) and reports 224.0.0.251 and ff02::fb per interface,
// as joined by our socket (or another responder's).
func (d *doctor) checkGroups(ifaces []net.Interface) {
	v4, v6, err := groupTables()
	if err != nil {
		d.report(okay("", "groups", "not checked: /proc/net/igmp cannot be read here"))
		return
	}
	joined4 := igmpGroups(v4, "FB0000E0")
	joined6 := igmp6Groups(v6, "ff0200000000000000000000000000fb")
	for _, ifi := range ifaces {
		for _, g := range []struct {
			fam, group string
			joined     map[string]bool
		}{{"IPv4", "224.0.0.251", joined4}, {"IPv6", "ff02::fb", joined6}} {
			if g.joined[ifi.Name] {
				d.report(okay(ifi.Name, "group "+g.fam, g.group+" joined"))
				continue
			}
			hint := "the kernel refused the membership; with -v scuttle says why"
			if g.fam == "IPv6" {
				d.report(warning(ifi.Name, "group "+g.fam, g.group+" not joined", hint+" (IPv6 off on the interface? IPv4 alone works)"))
				continue
			}
			d.report(failure(ifi.Name, "group "+g.fam, g.group+" not joined", hint))
		}
	}
}
