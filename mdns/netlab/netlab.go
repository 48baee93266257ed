//go:build linux

package netlab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A Lab is a set of hosts on private segments; see the package comment.
type Lab struct {
	// Hosts are the lab's hosts, in the order of their index.
	Hosts []*Host

	tag      string
	bridgeNS string
}

// A Host is one network namespace of a Lab.
type Host struct {
	// Name is the host's name within the lab: "h0", "h1"…
	Name string
	// NS is the network namespace, for "ip netns exec NS …".
	NS string
	// Ifaces are the host's interfaces, lan0 first.
	Ifaces []Iface

	lab *Lab
}

// An Iface is one interface of a host, on one segment.
type Iface struct {
	Name    string           // inside the host: "lan0", "lan1"…
	Segment int              // which segment (bridge) it is on
	IPv4    netip.Prefix     // 10.0.Segment.(host+1)/24
	IPv6    netip.Addr       // fe80::(Segment+1):(host+1), link-local, no zone
	MAC     net.HardwareAddr // 02:73:63:Segment:00:(host+1), locally administered
	port    string           // the bridge-side end of the veth, in the bridge namespace
}

// An Option changes the lab New builds.
type Option func(*config)

type config struct {
	segments map[int][]int // host index → its segments
}

// OnSegments puts host (an index from 0) on the given segments, through
// interfaces lan0, lan1… in that order, instead of on segment 0 alone.
func OnSegments(host int, segments ...int) Option {
	return func(c *config) {
		c.segments[host] = segments
	}
}

// MaxHosts is the most hosts a lab can have: host i's IPv4 address is
// 10.0.s.(i+1) in a /24, whose last address (.255) is its broadcast.
const MaxHosts = 254

// maxSegments is the most segments a lab can have: segment s is 10.0.s.0/24.
const maxSegments = 256

// check says why a lab of n hosts cannot have the plan of c, or nil: an
// address of the plan would not fit its byte, and two hosts would share it.
func (c *config) check(n int) error {
	if n < 0 || n > MaxHosts {
		return fmt.Errorf("netlab: %d hosts; a lab has 0 to %d (one /24 per segment)", n, MaxHosts)
	}
	for h, segs := range c.segments {
		if h < 0 || h >= n {
			return fmt.Errorf("netlab: OnSegments names host %d of a lab of %d", h, n)
		}
		for _, s := range segs {
			if s < 0 || s >= maxSegments {
				return fmt.Errorf("netlab: host %d on segment %d; segments are 0 to %d (10.0.s.0/24)", h, s, maxSegments-1)
			}
		}
	}
	return nil
}

// Available returns why labs cannot be built here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("netlab: creating network namespaces needs root (euid %d)", os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("netlab: the ip command (iproute2) is missing: %w", err)
	}
	return nil
}

// New builds a lab of n hosts (at most MaxHosts), each on segment 0
// unless an OnSegments option says otherwise. It fails the test if the
// address plan cannot hold the lab, skips it if Available says no, and
// deletes the lab when the test ends.
func New(t testing.TB, n int, opts ...Option) *Lab {
	t.Helper()
	cfg := config{segments: make(map[int][]int)}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.check(n); err != nil {
		t.Fatal(err)
	}
	if err := Available(); err != nil {
		t.Skip(err)
	}
	var tb [4]byte
	rand.Read(tb[:])
	l := &Lab{tag: "sc-" + hex.EncodeToString(tb[:])}
	l.bridgeNS = l.tag + "-br"

	b := &builder{t: t, lab: l, segments: map[int]bool{}, onSegment: map[int][]int{}}
	t.Cleanup(b.deleteAll)
	b.addNS(l.bridgeNS)
	b.ip("-n", l.bridgeNS, "link", "set", "lo", "up")
	plan := make([][]int, n)
	for i := range plan {
		segs, ok := cfg.segments[i]
		if !ok {
			segs = []int{0}
		}
		if len(segs) == 0 {
			t.Fatalf("netlab: host %d on no segment", i)
		}
		plan[i] = segs
		for _, s := range segs {
			b.onSegment[s] = append(b.onSegment[s], i)
		}
	}
	for i, segs := range plan {
		l.Hosts = append(l.Hosts, b.addHost(i, segs))
	}
	return l
}

// A builder makes a lab's namespaces, bridges and links, and remembers
// the namespaces it made so that deleteAll can remove them.
type builder struct {
	t         testing.TB
	lab       *Lab
	made      []string      // namespaces made, in order
	segments  map[int]bool  // the segments whose bridge exists
	onSegment map[int][]int // segment → the hosts on it
}

// deleteAll deletes the namespaces made, last first: with them go their
// interfaces and bridges.
func (b *builder) deleteAll() {
	for i := len(b.made) - 1; i >= 0; i-- {
		if out, err := exec.Command("ip", "netns", "del", b.made[i]).CombinedOutput(); err != nil {
			b.t.Errorf("netlab: deleting namespace %s: %v: %s", b.made[i], err, out)
		}
	}
}

// addNS makes the namespace name; the first failure skips the test (no
// namespaces here), a later one fails it.
func (b *builder) addNS(name string) {
	b.t.Helper()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		if len(b.made) == 0 {
			b.t.Skipf("netlab: cannot create a network namespace here: %v: %s", err, out)
		}
		b.t.Fatalf("netlab: ip netns add %s: %v: %s", name, err, out)
	}
	b.made = append(b.made, name)
}

// ip runs the ip command with args and fails the test if it fails.
func (b *builder) ip(args ...string) {
	b.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		b.t.Fatalf("netlab: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// batch runs the ip commands cmds (each without the leading "ip") in
// namespace ns, all through one ip process, and fails the test at the
// first that fails: a host costs two processes, not one per command.
func (b *builder) batch(ns string, cmds []string) {
	b.t.Helper()
	cmd := exec.Command("ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.t.Fatalf("netlab: ip -n %s -batch: %v: %s\ncommands:\n%s", ns, err, out, strings.Join(cmds, "\n"))
	}
}

// segment makes segment s's bridge, once, with multicast snooping off.
func (b *builder) segment(s int) {
	if b.segments[s] {
		return
	}
	b.segments[s] = true
	br := fmt.Sprintf("br%d", s)
	b.ip("-n", b.lab.bridgeNS, "link", "add", br, "type", "bridge", "mcast_snooping", "0")
	b.ip("-n", b.lab.bridgeNS, "link", "set", br, "up")
}

// addHost makes host i's namespace with one interface on each segment
// of segs, each knowing the other hosts of its segment as permanent
// neighbours, and the multicast route on the first.
func (b *builder) addHost(i int, segs []int) *Host {
	b.t.Helper()
	h := &Host{Name: fmt.Sprintf("h%d", i), NS: fmt.Sprintf("%s-h%d", b.lab.tag, i), lab: b.lab}
	b.addNS(h.NS)
	// Keep IPv6 addresses across a cut link, like a cable pull.
	if err := h.Do(func() error {
		for _, f := range []string{"all", "default"} {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+f+"/keep_addr_on_down", []byte("1"), 0); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.t.Logf("netlab: keep_addr_on_down in %s: %v", h.NS, err)
	}
	var bridge []string
	inside := []string{"link set lo up"}
	for j, s := range segs {
		b.segment(s)
		ifc := newIface(i, j, s)
		bridge = append(bridge,
			fmt.Sprintf("link add %s type veth peer name %s netns %s", ifc.port, ifc.Name, h.NS),
			fmt.Sprintf("link set %s master br%d", ifc.port, s),
			fmt.Sprintf("link set %s up", ifc.port))
		inside = append(inside,
			fmt.Sprintf("link set %s address %s addrgenmode none", ifc.Name, ifc.MAC),
			fmt.Sprintf("addr add %s dev %s", ifc.IPv4, ifc.Name),
			fmt.Sprintf("addr add %s/64 dev %s nodad", ifc.IPv6, ifc.Name))
		for _, k := range b.onSegment[s] {
			if k == i {
				continue
			}
			// k's interface on s is on the same bridge, whichever
			// of k's interfaces it is; its addresses depend on s and k
			// only.
			other := newIface(k, 0, s)
			inside = append(inside,
				fmt.Sprintf("neigh add %s lladdr %s dev %s nud permanent", other.IPv4.Addr(), other.MAC, ifc.Name),
				fmt.Sprintf("neigh add %s lladdr %s dev %s nud permanent", other.IPv6, other.MAC, ifc.Name))
		}
		inside = append(inside, fmt.Sprintf("link set %s up", ifc.Name))
		h.Ifaces = append(h.Ifaces, ifc)
	}
	inside = append(inside, "route add 224.0.0.0/4 dev lan0")
	b.batch(b.lab.bridgeNS, bridge)
	b.batch(h.NS, inside)
	return h
}

// newIface returns host i's j-th interface, on segment s, with the
// addresses the package doc gives.
func newIface(i, j, s int) Iface {
	return Iface{
		Name:    fmt.Sprintf("lan%d", j),
		Segment: s,
		IPv4:    netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(s), byte(i + 1)}), 24),
		IPv6:    netip.MustParseAddr(fmt.Sprintf("fe80::%x:%x", s+1, i+1)),
		MAC:     net.HardwareAddr{0x02, 0x73, 0x63, byte(s), 0, byte(i + 1)},
		port:    fmt.Sprintf("p%dx%d", i, j),
	}
}

// Command returns a command that runs name with args in the host's
// namespace (through "ip netns exec", which execs it: the process's pid
// is the program's, so signals reach it). The process sees only the
// host's interfaces.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Addrs returns the host's addresses: each interface's IPv4 address, then
// each one's IPv6 link-local address.
func (h *Host) Addrs() []netip.Addr {
	var out []netip.Addr
	for _, ifc := range h.Ifaces {
		out = append(out, ifc.IPv4.Addr())
	}
	for _, ifc := range h.Ifaces {
		out = append(out, ifc.IPv6)
	}
	return out
}

// IPv4 returns the IPv4 address of the host's first interface.
func (h *Host) IPv4() netip.Addr { return h.Ifaces[0].IPv4.Addr() }

// Cut takes the host off its segments: the bridge-side end of each of
// its interfaces goes down, so the host sees its carrier lost, as when a
// cable is pulled, and keeps its addresses.
func (h *Host) Cut() error { return h.setLinks("down") }

// Restore undoes Cut.
func (h *Host) Restore() error { return h.setLinks("up") }

func (h *Host) setLinks(state string) error {
	var errs []error
	for _, ifc := range h.Ifaces {
		if out, err := exec.Command("ip", "-n", h.lab.bridgeNS, "link", "set", ifc.port, state).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("netlab: %s %s %s: %v: %s", h.Name, ifc.Name, state, err, out))
		}
	}
	return errors.Join(errs...)
}

// Namespaces returns the names of every namespace of the lab.
func (l *Lab) Namespaces() []string {
	out := []string{l.bridgeNS}
	for _, h := range l.Hosts {
		out = append(out, h.NS)
	}
	return out
}

// Do runs fn on an OS thread switched into the host's namespace, and
// switches back. Sockets fn opens stay in the host's namespace for their
// life; anything fn starts on other goroutines (which run on other
// threads) sees the test's own namespace, so fn should open what it
// needs before returning. An mdns.Conn that only resolves can be opened
// this way; one that answers re-reads its interfaces' addresses later
// and must run in the namespace as a process (Command).
func (h *Host) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The goroutine ends still locked if switching back failed: the
		// runtime then discards the thread instead of reusing it.
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- fmt.Errorf("netlab: own namespace: %w", err)
			return
		}
		defer orig.Close()
		target, err := os.Open("/var/run/netns/" + h.NS)
		if err != nil {
			errc <- fmt.Errorf("netlab: namespace of %s: %w", h.Name, err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netlab: entering %s: %w", h.NS, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("netlab: leaving %s: %w", h.NS, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
