//go:build linux

package netlab_test

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"scuttle/mdns/netlab"
)

func TestLabBuildsAndCleansUp(t *testing.T) {
	var names []string
	t.Run("lab", func(t *testing.T) {
		l := netlab.New(t, 2, netlab.OnSegments(1, 0, 1))
		names = l.Namespaces()
		h1 := l.Hosts[1]
		out, err := h1.Command(t.Context(), "ip", "-o", "addr", "show").CombinedOutput()
		if err != nil {
			t.Fatalf("ip addr in %s: %v: %s", h1.NS, err, out)
		}
		for _, want := range []string{"lan0    inet 10.0.0.2/24", "lan1    inet 10.0.1.2/24", "lan0    inet6 fe80::1:2/64", "lan1    inet6 fe80::2:2/64"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("host h1 lacks %q:\n%s", want, out)
			}
		}
		if got := len(l.Hosts[0].Ifaces); got != 1 {
			t.Errorf("h0 has %d interfaces, want 1", got)
		}
		// h1 knows h0, its one neighbour (on segment 0), for good;
		// nobody else is on segment 1.
		out, err = h1.Command(t.Context(), "ip", "neigh", "show", "nud", "permanent").CombinedOutput()
		if err != nil {
			t.Fatalf("ip neigh in %s: %v: %s", h1.NS, err, out)
		}
		if got, want := strings.Fields(string(out)), strings.Fields("10.0.0.1 dev lan0 lladdr 02:73:63:00:00:01 PERMANENT fe80::1:1 dev lan0 lladdr 02:73:63:00:00:01 PERMANENT"); !slices.Equal(got, want) {
			t.Errorf("permanent neighbours of h1:\n%s\nwant h0's two addresses on lan0", out)
		}
		out, err = h1.Command(t.Context(), "sysctl", "-n", "net.ipv6.conf.all.keep_addr_on_down", "net.ipv6.conf.default.keep_addr_on_down").CombinedOutput()
		if got := strings.Fields(string(out)); err != nil || !slices.Equal(got, []string{"1", "1"}) {
			t.Errorf("keep_addr_on_down in h1 (all, default): %q, %v; want 1, 1", out, err)
		}
		if err := h1.Cut(); err != nil {
			t.Fatal(err)
		}
		out, _ = h1.Command(t.Context(), "ip", "-o", "link", "show", "lan0").CombinedOutput()
		if !strings.Contains(string(out), "NO-CARRIER") {
			t.Errorf("after Cut, lan0 of h1 has carrier:\n%s", out)
		}
		if err := h1.Restore(); err != nil {
			t.Fatal(err)
		}
		out, _ = h1.Command(t.Context(), "ip", "-o", "link", "show", "lan0").CombinedOutput()
		if strings.Contains(string(out), "NO-CARRIER") {
			t.Errorf("after Restore, lan0 of h1 has no carrier:\n%s", out)
		}
	})
	if len(names) == 0 {
		return // skipped
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	for _, n := range names {
		if strings.Contains(string(out), n) {
			t.Errorf("namespace %s still exists after the test", n)
		}
	}
}

// TestDo: inside Do the host's interfaces are seen, and the thread
// comes back to the test's namespace.
func TestDo(t *testing.T) {
	l := netlab.New(t, 1)
	names := func() []string {
		ifs, err := net.Interfaces()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ifi := range ifs {
			out = append(out, ifi.Name)
		}
		return out
	}
	var inside []string
	if err := l.Hosts[0].Do(func() error { inside = names(); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"lo", "lan0"}; !slices.Equal(inside, want) {
		t.Errorf("interfaces inside h0: %v, want %v", inside, want)
	}
	for range 20 { // any thread of the test's
		if slices.Contains(names(), "lan0") {
			t.Fatal("after Do, the test sees the host's lan0")
		}
	}
	wantErr := errors.New("from fn")
	if err := l.Hosts[0].Do(func() error { return wantErr }); err != wantErr {
		t.Errorf("Do returned %v, want fn's error", err)
	}
}

// TestStartLines: a process started with StartLines runs in the host's
// namespace, standard error reaches Await with standard output, and a
// line printed before Await is still found.
func TestStartLines(t *testing.T) {
	l := netlab.New(t, 2)
	h1 := l.Hosts[1]
	p := h1.StartLines(t, nil, "sh", "-c", `ip -o -4 addr show dev lan0; echo to-stderr >&2; cat`)
	if got := p.Await(t, "to-stderr", 10*time.Second); got.Text != "to-stderr" || got.At.IsZero() {
		t.Errorf("Await(to-stderr) = %q at %v, want the line and when it came", got.Text, got.At)
	}
	if got, want := p.Await(t, " inet ", 10*time.Second).Text, "inet 10.0.0.2/24"; !strings.Contains(got, want) {
		t.Errorf("lan0 inside h1: %q, want it to hold %q", got, want)
	}
}

// TestCounters: bytes one host sends another over TCP show in its
// TxBytes, with the frames' headers, and the connection in both hosts'
// Established; a multicast datagram shows in McastOctets, IP and UDP
// headers included.
func TestCounters(t *testing.T) {
	l := netlab.New(t, 2)
	h0, h1 := l.Hosts[0], l.Hosts[1]
	var ln net.Listener
	if err := h0.Do(func() (err error) {
		ln, err = net.Listen("tcp4", h0.IPv4().String()+":7000")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	before := counters(t, l)
	var c net.Conn
	if err := h1.Do(func() (err error) {
		c, err = net.DialTimeout("tcp4", h0.IPv4().String()+":7000", 5*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer s.Close()
	const payload = 10000
	go c.Write(make([]byte, payload))
	if _, err := io.ReadFull(s, make([]byte, payload)); err != nil {
		t.Fatal(err)
	}
	after := counters(t, l)
	for _, h := range l.Hosts {
		if got, err := h.Established(); err != nil || got != 1 {
			t.Errorf("%s: %d established connections, %v; want 1", h.Name, got, err)
		}
	}
	// The payload, plus 66 bytes of headers (Ethernet, IP, TCP with
	// timestamps) a frame: the handshake's and the data's. A veth
	// offloads segmentation, so a frame of data may be up to 64 KB: at
	// least 3 frames, and no more than a few dozen.
	sent := after[1].Sub(before[1])
	if min, max := uint64(payload+3*66), uint64(payload+40*66); sent.TxBytes < min || sent.TxBytes > max {
		t.Errorf("h1 sent %d bytes in %d frames for %d bytes of payload; want %d to %d", sent.TxBytes, sent.TxPackets, payload, min, max)
	}
	if acks := after[0].Sub(before[0]); acks.TxBytes < 66 || acks.TxBytes > 40*66 {
		t.Errorf("h0 sent %d bytes (SYN-ACK and ACKs); want 66 to %d", acks.TxBytes, 40*66)
	}

	mc := counters(t, l)[0]
	if err := h0.Do(func() error {
		u, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(239, 255, 0, 1), Port: 9999})
		if err != nil {
			return err
		}
		defer u.Close()
		_, err = u.Write(make([]byte, 100))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The kernel's own IGMP and MLD reports may add a few of their own.
	if got := counters(t, l)[0].Sub(mc).McastOctets; got < 128 || got > 128+512 {
		t.Errorf("h0 multicast %d octets after a 100-byte datagram; want 128 (IP, UDP, payload) plus at most a few reports", got)
	}
}

// counters reads every host's counters.
func counters(t *testing.T, l *netlab.Lab) []netlab.Counters {
	t.Helper()
	var out []netlab.Counters
	for _, h := range l.Hosts {
		c, err := h.Counters()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// TestLab64 builds a lab of 64 hosts, the largest the figures of a room
// use, and checks every host reaches every other at once, over IPv4 and
// IPv6 link-local (4,032 pairs a family). The kernel's neighbour tables
// are shared by every namespace and hold 1,024 entries a family beyond
// which it drops packets ("neighbor table overflow"): learnt neighbours
// failed here, the permanent ones New sets up do not count. It logs the
// time the lab took to build and delete, and the kernel slab memory it
// held: the figures of the package doc.
func TestLab64(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 64 namespaces and dials 8,064 connections (about 4 s): skipped with -short")
	}
	const n = 64
	slab0 := slabKB(t)
	var built, deleting time.Time
	var slab1 int
	start := time.Now()
	t.Run("lab", func(t *testing.T) {
		l := netlab.New(t, n)
		built = time.Now()
		slab1 = slabKB(t)
		if len(l.Hosts) != n {
			t.Fatalf("%d hosts, want %d", len(l.Hosts), n)
		}
		addrs := func(h *netlab.Host) []string {
			return []string{
				net.JoinHostPort(h.IPv4().String(), "7000"),
				net.JoinHostPort(h.Ifaces[0].IPv6.String()+"%lan0", "7000"),
			}
		}
		for _, h := range l.Hosts {
			for _, a := range addrs(h) {
				var ln net.Listener
				if err := h.Do(func() (err error) { ln, err = net.Listen("tcp", a); return err }); err != nil {
					t.Fatalf("%s: listen %s: %v", h.Name, a, err)
				}
				t.Cleanup(func() { ln.Close() })
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						c.Close()
					}
				}()
			}
		}
		// Registered last, so run first of the cleanups: the lab's
		// deletion starts after it.
		t.Cleanup(func() { deleting = time.Now() })
		// Every connection stays open until the end, so that each
		// host needs every neighbour at once.
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		failed := 0
		for _, h := range l.Hosts {
			err := h.Do(func() error {
				for _, other := range l.Hosts {
					if other == h {
						continue
					}
					for _, a := range addrs(other) {
						c, err := net.DialTimeout("tcp", a, 2*time.Second)
						if err != nil {
							t.Errorf("%s cannot reach %s at %s: %v", h.Name, other.Name, a, err)
							if failed++; failed == 5 {
								return errors.New("5 failures: giving up")
							}
							continue
						}
						conns = append(conns, c)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	if built.IsZero() {
		return // skipped
	}
	t.Logf("%d hosts: built in %v, deleted in %v; kernel slab +%d KB while it stood (%d KB a host)",
		n, built.Sub(start).Round(time.Millisecond), time.Since(deleting).Round(time.Millisecond), slab1-slab0, (slab1-slab0)/n)
}

// slabKB returns the kernel's slab memory, the Slab line of /proc/meminfo.
func slabKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Slab:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("/proc/meminfo: %q: %v", l, err)
			}
			return n
		}
	}
	t.Fatal("/proc/meminfo has no Slab line")
	return 0
}
