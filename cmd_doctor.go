package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"scuttle/mdns"
	"scuttle/topology"
)

// doctor: the command to run when peers do not find each other. It
// checks, per interface, what multicast DNS needs (up, multicast,
// addresses, the groups joined), who else holds port 5353, a self-test
// over the interface (our own probes heard back, our own name resolved
// by a second socket), whether other hosts are heard, the chat's TCP
// port, and the firewall and routes where they can be read. Each check
// is one line: OK, WARN or FAIL, and what to do.
//
// Network safety: doctor sends multicast on the interfaces it checks;
// its tests run it with --iface lo or inside netlab namespaces only.

func doctorCmd() *command {
	return &command{
		name:    "doctor",
		args:    "[ME]",
		summary: "check why peers might not find each other: interfaces, port 5353, a multicast self-test, ME's TCP port, firewall",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			iface := st.ifaceFlag(fs)
			asJSON := fs.Bool("json", false, "print one JSON object per check, one per line")
			port := fs.Uint("port", 0, "the chat's TCP `port` to check (default: derived from ME; none without ME)")
			timeout := fs.Duration("timeout", 3*time.Second, "bound on the self-test and on listening for other hosts")
			st.verboseFlag(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) > 1 {
					return usagef("takes at most one ME, got %d arguments", len(args))
				}
				if *port > 65535 {
					return usagef("--port %d: not a TCP port", *port)
				}
				if *timeout <= 0 {
					return usagef("--timeout must be positive, got %v", *timeout)
				}
				d := &doctor{st: st, json: *asJSON, ifaces: splitList(*iface), timeout: *timeout, port: uint16(*port)}
				if len(args) == 1 {
					if err := mdns.CheckName(args[0]); err != nil {
						return usagef("%v", err)
					}
					if d.port == 0 {
						d.port = topology.HashToPort(args[0])
					}
				}
				return d.run(ctx)
			}
		},
	}
}

// A finding is one check's result: a line of output, or one JSON object.
type finding struct {
	Iface  string `json:"iface,omitempty"`
	Check  string `json:"check"`
	Status string `json:"status"` // OK, WARN or FAIL
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"` // what to do
}

type doctor struct {
	st      *state
	json    bool
	ifaces  []string
	timeout time.Duration
	port    uint16
	failed  int
	werr    error
}

func (d *doctor) report(f finding) {
	if f.Status == "FAIL" {
		d.failed++
	}
	var line string
	if d.json {
		b, _ := json.Marshal(f)
		line = string(b)
	} else {
		where := f.Check
		if f.Iface != "" {
			where = f.Iface + " " + f.Check
		}
		line = fmt.Sprintf("%-4s %s: %s", f.Status, where, f.Detail)
		if f.Hint != "" {
			line += " — " + f.Hint
		}
	}
	if _, err := fmt.Fprintln(d.st.stdout, line); err != nil && d.werr == nil {
		d.werr = err
	}
}

func ok(iface, check, detail string) finding {
	return finding{Iface: iface, Check: check, Status: "OK", Detail: detail}
}

func warn(iface, check, detail, hint string) finding {
	return finding{Iface: iface, Check: check, Status: "WARN", Detail: detail, Hint: hint}
}

func fail(iface, check, detail, hint string) finding {
	return finding{Iface: iface, Check: check, Status: "FAIL", Detail: detail, Hint: hint}
}

func (d *doctor) run(ctx context.Context) error {
	ifaces, err := mdns.SelectInterfaces(d.ifaces)
	if err != nil {
		d.report(fail("", "interfaces", err.Error(), "name an interface that exists and is up with --iface (see: ip link)"))
		return d.result()
	}
	var names []string
	for _, ifi := range ifaces {
		names = append(names, ifi.Name)
	}
	how := "chosen with --iface"
	if len(d.ifaces) == 0 {
		how = "the default: every multicast interface that is up, with an address, not loopback"
	}
	d.report(ok("", "interfaces", strings.Join(names, ", ")+" ("+how+")"))
	for _, ifi := range ifaces {
		d.checkInterface(ifi)
	}
	d.checkRoute(ifaces)
	holders, holdersErr := udpHolders(mdns.Port)
	d.checkShared(holders, holdersErr)

	md, err := mdns.Listen(ctx, mdns.Config{Interfaces: names, Logger: d.st.log})
	if err != nil {
		hint := "another program may hold UDP 5353 without SO_REUSEPORT; stop it, or run scuttle where it is not"
		if len(holders) > 0 {
			hint = "held by " + describeHolders(holders) + ": stop it or make it share the port (SO_REUSEPORT)"
		}
		d.report(fail("", "listen", "cannot open UDP port 5353: "+err.Error(), hint))
	} else {
		d.selfTest(ctx, md, ifaces)
		md.Close()
	}
	d.checkTCPPort()
	d.checkFirewall(ctx)
	return d.result()
}

func (d *doctor) result() error {
	if d.werr != nil {
		return d.werr
	}
	switch {
	case d.failed == 1:
		return errors.New("1 check failed")
	case d.failed > 1:
		return fmt.Errorf("%d checks failed", d.failed)
	}
	return nil
}

// checkInterface reports the interface's flags and addresses.
func (d *doctor) checkInterface(ifi net.Interface) {
	n := ifi.Name
	if ifi.Flags&net.FlagUp == 0 {
		d.report(fail(n, "up", "the interface is down", "ip link set "+n+" up"))
	} else if ifi.Flags&net.FlagRunning == 0 && ifi.Flags&net.FlagLoopback == 0 {
		d.report(warn(n, "up", "up, but no carrier (cable, Wi-Fi association)", "check the link: ip link show "+n))
	} else {
		d.report(ok(n, "up", "up"))
	}
	switch {
	case ifi.Flags&net.FlagMulticast != 0:
		d.report(ok(n, "multicast", "multicast-capable"))
	case ifi.Flags&net.FlagLoopback != 0:
		d.report(ok(n, "multicast", "loopback: carries multicast without the flag (only to this host)"))
	default:
		d.report(fail(n, "multicast", "the interface is not multicast-capable", "ip link set "+n+" multicast on, or choose another with --iface"))
	}
	as, err := ifi.Addrs()
	if err != nil {
		d.report(fail(n, "addresses", err.Error(), ""))
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
		d.report(fail(n, "addresses", "no address", "the interface needs an address (DHCP, or ip addr add)"))
	case len(v4) == 0:
		d.report(warn(n, "addresses", all+" (no IPv4)", "peers that only speak IPv4 cannot reach this host"))
	case len(v6) == 0:
		d.report(ok(n, "addresses", all+" (no IPv6: IPv4 only)"))
	default:
		d.report(ok(n, "addresses", all))
	}
}

// checkRoute reports whether the host has a route for 224.0.0.0/4 or a
// default route: scuttle names the interface on each packet and needs
// neither, but other mDNS tools (drill, dig) do.
func (d *doctor) checkRoute(ifaces []net.Interface) {
	if len(ifaces) == 1 && ifaces[0].Flags&net.FlagLoopback != 0 {
		return // loopback alone: no route matters
	}
	f, err := os.Open("/proc/net/route")
	if err != nil {
		d.report(ok("", "route", "not checked: /proc/net/route cannot be read here"))
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	found := ""
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 8 || fs[0] == "Iface" {
			continue
		}
		// Destination and Mask in host byte order hex (little-endian).
		if fs[1] == "00000000" && fs[7] == "00000000" {
			found = "a default route via " + fs[0]
		}
		if fs[1] == "000000E0" && fs[7] == "000000F0" {
			found = "a route for 224.0.0.0/4 via " + fs[0]
			break
		}
	}
	if found == "" {
		d.report(warn("", "route", "no route for 224.0.0.0/4 and no default route",
			"scuttle names the interface on each packet and works without; for other mDNS tools: ip route add 224.0.0.0/4 dev "+ifaces[0].Name))
		return
	}
	d.report(ok("", "route", "multicast has "+found))
}

// A holder is a process with a UDP socket bound to a port.
type holder struct {
	pid  int
	comm string
}

func describeHolders(hs []holder) string {
	var s []string
	for _, h := range hs {
		if h.pid == 0 {
			s = append(s, "a process this user cannot see")
			continue
		}
		s = append(s, fmt.Sprintf("%s (pid %d)", h.comm, h.pid))
	}
	return strings.Join(s, ", ")
}

// checkShared reports the other sockets on UDP 5353, before ours.
func (d *doctor) checkShared(hs []holder, err error) {
	switch {
	case err != nil:
		d.report(ok("", "port 5353", "not checked: "+err.Error()))
	case len(hs) == 0:
		d.report(ok("", "port 5353", "no other responder on this host"))
	default:
		d.report(ok("", "port 5353", "shared with "+describeHolders(hs)+": each answers for its own names"))
	}
}

// udpHolders lists the processes holding a UDP socket (either family)
// bound to port, from /proc/net/udp{,6} and the sockets in /proc/*/fd
// (Linux; elsewhere an error).
func udpHolders(port uint16) ([]holder, error) {
	inodes := map[string]bool{}
	read := 0
	for _, file := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		read++
		for _, l := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(l)
			if len(fs) < 10 {
				continue
			}
			_, p, ok := strings.Cut(fs[1], ":")
			if v, err := strconv.ParseUint(p, 16, 16); ok && err == nil && uint16(v) == port {
				inodes[fs[9]] = true
			}
		}
	}
	if read == 0 {
		return nil, errors.New("/proc/net/udp cannot be read here")
	}
	return socketOwners(inodes), nil
}

// socketOwners finds the processes whose open files include the sockets
// of inodes; sockets of processes it cannot read count as one unknown
// holder each.
func socketOwners(inodes map[string]bool) []holder {
	if len(inodes) == 0 {
		return nil
	}
	var out []holder
	seen := map[string]bool{}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		target, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(target, "socket:[") {
			continue
		}
		ino := strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")
		if !inodes[ino] || seen[ino] {
			continue
		}
		seen[ino] = true
		pidDir := filepath.Dir(filepath.Dir(fd))
		pid, _ := strconv.Atoi(filepath.Base(pidDir))
		if pid == os.Getpid() {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(pidDir, "comm"))
		h := holder{pid: pid, comm: strings.TrimSpace(string(comm))}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for ino := range inodes {
		if !seen[ino] {
			out = append(out, holder{})
			break
		}
	}
	return out
}

// selfTest claims a random name on md, which sends three probes and two
// announcements on every interface: hearing them back shows the group
// is joined and multicast loops back. A second Conn then resolves the
// name through the network stack. Meanwhile any other host's mDNS
// traffic is counted, and scuttle peers are browsed for.
func (d *doctor) selfTest(ctx context.Context, md *mdns.Conn, ifaces []net.Interface) {
	d.checkGroups(ifaces)
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var rnd [4]byte
	rand.Read(rnd[:])
	name := "scuttle-doctor-" + hex.EncodeToString(rnd[:])

	peers := make(chan []string, 1)
	bctx, bcancel := context.WithCancel(ctx)
	go func() {
		var seen []string
		md.Browse(bctx, "_scuttle._tcp", func(e mdns.ServiceEntry) {
			if !e.Gone && !slices.Contains(seen, e.Instance) {
				seen = append(seen, e.Instance)
			}
		})
		peers <- seen
	}()
	start := time.Now()
	regErr := md.Register(ctx, name)
	var lookupErr error
	var took time.Duration
	if regErr == nil {
		other, err := mdns.Listen(ctx, mdns.Config{Interfaces: ifaceNames(ifaces), Logger: d.st.log})
		if err != nil {
			lookupErr = err
		} else {
			t0 := time.Now()
			_, lookupErr = other.LookupHost(ctx, name)
			took = time.Since(t0)
			other.Close()
		}
	}
	// Listen for the other hosts (and the browse's answers) a little
	// longer, 1.5 s in all; loopback has no other hosts.
	onlyLoopback := !slices.ContainsFunc(ifaces, func(ifi net.Interface) bool { return ifi.Flags&net.FlagLoopback == 0 })
	if wait := time.Until(start.Add(1500 * time.Millisecond)); wait > 0 && ctx.Err() == nil && !onlyLoopback {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	bcancel()
	found := <-peers

	stats := md.Stats()
	for _, s := range stats {
		fam, other := "IPv4", "IPv6"
		if s.IPv6 {
			fam, other = "IPv6", "IPv4"
		}
		// One family working is enough; both failing is a failure.
		otherWorks := slices.ContainsFunc(stats, func(x mdns.IfaceStats) bool { return x.Iface == s.Iface && x.IPv6 != s.IPv6 && x.Own > 0 })
		bad := fail
		if otherWorks {
			bad = warn
		}
		check := "self-test " + fam
		switch {
		case s.Sent == 0:
			d.report(bad(s.Iface, check, "nothing could be sent", "see the -v output: the interface refuses multicast over "+fam))
		case s.Own == 0 && otherWorks && isLoopback(ifaces, s.Iface):
			d.report(warn(s.Iface, check, fmt.Sprintf("sent %d packets, heard none of them back", s.Sent),
				"Linux loopback carries no "+fam+" multicast; "+other+" works, which is enough"))
		case s.Own == 0:
			d.report(bad(s.Iface, check, fmt.Sprintf("sent %d packets, heard none of them back", s.Sent),
				"the group is not joined or multicast is filtered on this host: check the firewall for UDP 5353"))
		default:
			d.report(ok(s.Iface, check, fmt.Sprintf("heard %d of our %d packets back", s.Own, s.Sent)))
		}
	}
	switch {
	case regErr != nil:
		d.report(fail("", "own name", "claiming "+mdns.FQDN(name)+": "+regErr.Error(), ""))
	case lookupErr != nil:
		d.report(fail("", "own name", "a second socket could not resolve "+mdns.FQDN(name)+": "+lookupErr.Error(),
			"multicast does not reach other sockets of this host: a firewall on UDP 5353, or IP_MULTICAST_LOOP off"))
	default:
		d.report(ok("", "own name", fmt.Sprintf("a second socket resolved %s in %v", mdns.FQDN(name), took.Round(10*time.Microsecond))))
	}

	for _, s := range md.Stats() {
		if s.IPv6 {
			continue
		}
		var v6 mdns.IfaceStats
		for _, x := range md.Stats() {
			if x.IPv6 && x.Iface == s.Iface {
				v6 = x
			}
		}
		if isLoopback(ifaces, s.Iface) {
			continue // no other host is on loopback
		}
		hosts := append(s.OtherHosts, v6.OtherHosts...)
		if len(hosts) == 0 {
			d.report(warn(s.Iface, "other hosts", fmt.Sprintf("heard no other host's mDNS in %v", time.Since(start).Round(100*time.Millisecond)),
				"if peers are on this network: Wi-Fi client (AP) isolation or a guest network, a firewall dropping UDP 5353, or a router between you; a relay peer named HOST:PORT crosses any of these"))
			continue
		}
		var hs []string
		for _, a := range hosts {
			hs = append(hs, a.String())
		}
		d.report(ok(s.Iface, "other hosts", fmt.Sprintf("heard %d packets from %s", s.Other+v6.Other, strings.Join(hs, " "))))
	}
	if len(found) > 0 {
		d.report(ok("", "peers", "scuttle peers seen: "+strings.Join(found, ", ")))
	}
}

func ifaceNames(ifaces []net.Interface) []string {
	var out []string
	for _, ifi := range ifaces {
		out = append(out, ifi.Name)
	}
	return out
}

func isLoopback(ifaces []net.Interface, name string) bool {
	for _, ifi := range ifaces {
		if ifi.Name == name {
			return ifi.Flags&net.FlagLoopback != 0
		}
	}
	return false
}

// checkGroups reads the kernel's group memberships (/proc/net/igmp,
// /proc/net/igmp6) and reports 224.0.0.251 and ff02::fb per interface,
// as joined by our socket (or another responder's).
func (d *doctor) checkGroups(ifaces []net.Interface) {
	v4, err4 := os.ReadFile("/proc/net/igmp")
	v6, err6 := os.ReadFile("/proc/net/igmp6")
	if err4 != nil && err6 != nil {
		d.report(ok("", "groups", "not checked: /proc/net/igmp cannot be read here"))
		return
	}
	joined4 := igmpGroups(string(v4), "FB0000E0")
	joined6 := igmp6Groups(string(v6), "ff0200000000000000000000000000fb")
	for _, ifi := range ifaces {
		for _, g := range []struct {
			fam, group string
			joined     map[string]bool
		}{{"IPv4", "224.0.0.251", joined4}, {"IPv6", "ff02::fb", joined6}} {
			if g.joined[ifi.Name] {
				d.report(ok(ifi.Name, "group "+g.fam, g.group+" joined"))
				continue
			}
			hint := "the kernel refused the membership; with -v scuttle says why"
			if g.fam == "IPv6" {
				d.report(warn(ifi.Name, "group "+g.fam, g.group+" not joined", hint+" (IPv6 off on the interface? IPv4 alone works)"))
				continue
			}
			d.report(fail(ifi.Name, "group "+g.fam, g.group+" not joined", hint))
		}
	}
}

// igmpGroups returns the devices of /proc/net/igmp that list group (hex,
// as the file writes it).
func igmpGroups(text, group string) map[string]bool {
	out := map[string]bool{}
	dev := ""
	for _, l := range strings.Split(text, "\n") {
		fs := strings.Fields(l)
		if len(fs) == 0 || fs[0] == "Idx" {
			continue
		}
		if !strings.HasPrefix(l, "\t") && len(fs) >= 2 {
			dev = fs[1]
			continue
		}
		if strings.EqualFold(fs[0], group) {
			out[dev] = true
		}
	}
	return out
}

// igmp6Groups returns the devices of /proc/net/igmp6 that list group.
func igmp6Groups(text, group string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		fs := strings.Fields(l)
		if len(fs) >= 3 && fs[2] == group {
			out[fs[1]] = true
		}
	}
	return out
}

// checkTCPPort reports whether the chat's TCP port is free.
func (d *doctor) checkTCPPort() {
	if d.port == 0 {
		return
	}
	addr := net.JoinHostPort("", strconv.Itoa(int(d.port)))
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		d.report(ok("", "tcp port", fmt.Sprintf("%d is free for the chat", d.port)))
		return
	}
	hint := "another program listens there: stop it, or chat with --port"
	if errors.Is(err, syscall.EADDRINUSE) {
		if hs := tcpListeners(d.port); len(hs) > 0 {
			hint = "held by " + describeHolders(hs) + ": a chat already running? Otherwise stop it, or chat with --port"
		}
	}
	d.report(fail("", "tcp port", fmt.Sprintf("%d is not free: %v", d.port, err), hint))
}

// tcpListeners lists the processes listening on TCP port.
func tcpListeners(port uint16) []holder {
	inodes := map[string]bool{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(l)
			if len(fs) < 10 || fs[3] != "0A" { // LISTEN
				continue
			}
			_, p, ok := strings.Cut(fs[1], ":")
			if v, err := strconv.ParseUint(p, 16, 16); ok && err == nil && uint16(v) == port {
				inodes[fs[9]] = true
			}
		}
	}
	return socketOwners(inodes)
}

// checkFirewall reads the packet filter's rules, where nft or iptables
// can show them, for what drops UDP 5353.
func (d *doctor) checkFirewall(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	type tool struct {
		name string
		args []string
	}
	read := false
	for _, tl := range []tool{{"nft", []string{"list", "ruleset"}}, {"iptables", []string{"-S", "INPUT"}}, {"ip6tables", []string{"-S", "INPUT"}}} {
		if _, err := exec.LookPath(tl.name); err != nil {
			continue
		}
		out, err := exec.CommandContext(ctx, tl.name, tl.args...).Output()
		if err != nil {
			d.report(ok("", "firewall", fmt.Sprintf("not checked: %s %s: %v", tl.name, strings.Join(tl.args, " "), err)))
			continue
		}
		read = true
		if f, bad := firewallFinding(tl.name, string(out)); bad {
			d.report(f)
			return
		}
	}
	if read {
		d.report(ok("", "firewall", "no rule seen that drops UDP 5353"))
	} else {
		d.report(ok("", "firewall", "not checked: neither nft nor iptables can be read here"))
	}
}

// firewallFinding looks at a ruleset printed by tool for a rule that
// drops or rejects UDP 5353, or an input policy of drop with no rule
// accepting 5353.
func firewallFinding(tool, rules string) (finding, bool) {
	accepts := false
	var dropLine, policyLine string
	for _, l := range strings.Split(rules, "\n") {
		l = strings.TrimSpace(l)
		low := strings.ToLower(l)
		if strings.Contains(low, "5353") {
			switch {
			case strings.Contains(low, "drop") || strings.Contains(low, "reject"):
				dropLine = l
			case strings.Contains(low, "accept"):
				accepts = true
			}
		}
		if (tool == "nft" && strings.Contains(low, "hook input") && strings.Contains(low, "policy drop")) ||
			(tool != "nft" && (low == "-p input drop" || low == "-p input reject")) {
			policyLine = l
		}
	}
	switch {
	case dropLine != "":
		return warn("", "firewall", tool+" drops UDP 5353: "+dropLine, "remove the rule, or accept UDP 5353 from the LAN"), true
	case policyLine != "" && !accepts:
		hint := "accept it: nft add rule inet filter input udp dport 5353 accept"
		if tool != "nft" {
			hint = "accept it: " + tool + " -I INPUT -p udp --dport 5353 -j ACCEPT"
		}
		return warn("", "firewall", tool+" drops incoming packets by default ("+policyLine+") and no rule accepts UDP 5353", hint), true
	}
	return finding{}, false
}
