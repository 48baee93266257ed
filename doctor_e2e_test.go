//go:build linux

package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"scuttle/mdns/netlab"
)

// TestDoctorLab runs scuttle doctor with its default interfaces inside
// netlab hosts (never outside a namespace: it sends multicast).
func TestDoctorLab(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 3)
	h0, h1, h2 := lab.Hosts[0], lab.Hosts[1], lab.Hosts[2]

	t.Run("alone on the segment", func(t *testing.T) {
		// h2 is on the segment, but silent: nothing is heard from it.
		start := time.Now()
		out, errs, code := scuttleIn(t, h2, "doctor")
		took := time.Since(start)
		want := []string{
			"OK interfaces", "OK lan0 up", "OK lan0 multicast", "OK lan0 addresses", "OK route", "OK port 5353",
			"OK lan0 group IPv4", "OK lan0 group IPv6", "OK lan0 self-test IPv4", "OK lan0 self-test IPv6", "OK own name",
			"WARN lan0 other hosts", "OK firewall",
		}
		if got := doctorLines(out); code != 0 || errs != "" || !slices.Equal(got, want) {
			t.Errorf("status %d, stderr %q, lines\n%s\nwant 0, none,\n%s\nstdout:\n%s", code, errs, strings.Join(got, "\n"), strings.Join(want, "\n"), out)
		}
		for _, l := range []string{
			"OK   interfaces: lan0 (the default: every multicast interface that is up, with an address, not loopback)\n",
			"OK   lan0 addresses: 10.0.0.3 fe80::1:3\n",
			"OK   route: multicast has a route for 224.0.0.0/4 via lan0\n",
		} {
			if !strings.Contains(out, l) {
				t.Errorf("output lacks %q:\n%s", l, out)
			}
		}
		t.Logf("scuttle doctor in a lab host took %v", took.Round(time.Millisecond))
	})

	t.Run("a firewall drops UDP 5353", func(t *testing.T) {
		if _, err := exec.LookPath("nft"); err != nil {
			t.Skip("nft is not installed (Debian: apt-get install nftables)")
		}
		// h2's own packet filter (its namespace's), dropping mDNS.
		for _, rule := range [][]string{
			{"add", "table", "inet", "f"},
			{"add", "chain", "inet", "f", "input", "{ type filter hook input priority 0; policy accept; }"},
			{"add", "rule", "inet", "f", "input", "udp", "dport", "5353", "drop"},
		} {
			if out, err := h2.Command(t.Context(), "nft", rule...).CombinedOutput(); err != nil {
				t.Fatalf("nft %q in h2: %v: %s", rule, err, out)
			}
		}
		defer h2.Command(t.Context(), "nft", "delete", "table", "inet", "f").Run()
		out, errs, code := scuttleIn(t, h2, "doctor", "--timeout", "1s")
		want := []string{
			"OK interfaces", "OK lan0 up", "OK lan0 multicast", "OK lan0 addresses", "OK route", "OK port 5353",
			"OK lan0 group IPv4", "OK lan0 group IPv6", "FAIL lan0 self-test IPv4", "FAIL lan0 self-test IPv6", "FAIL own name",
			"WARN lan0 other hosts", "WARN firewall",
		}
		if got := doctorLines(out); code != 1 || errs != "scuttle doctor: 3 checks failed\n" || !slices.Equal(got, want) {
			t.Errorf("status %d, stderr %q, lines\n%s\nwant 1, 3 failed,\n%s\nstdout:\n%s", code, errs, strings.Join(got, "\n"), strings.Join(want, "\n"), out)
		}
		if l := "WARN firewall: nft drops UDP 5353: udp dport 5353 drop — remove the rule, or accept UDP 5353 from the LAN\n"; !strings.Contains(out, l) {
			t.Errorf("output lacks %q:\n%s", l, out)
		}
	})

	t.Run("another host and a responder on this one", func(t *testing.T) {
		announced(t, h1, h0, "bob") // shares port 5353 on h1
		// alice starts with the doctor: her probes and announcements
		// fall within its listening.
		start(t, h0, "announce", "alice")
		out, errs, code := scuttleIn(t, h1, "doctor", "--json")
		if code != 0 || errs != "" {
			t.Fatalf("status %d, stderr %q, stdout:\n%s", code, errs, out)
		}
		for _, want := range []string{
			`{"check":"port 5353","status":"OK","detail":"shared with scuttle (pid `,
			`{"iface":"lan0","check":"other hosts","status":"OK","detail":"heard `,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("no line starting %s in:\n%s", want, out)
			}
		}
		if !strings.Contains(out, "10.0.0.1") {
			t.Errorf("alice's address 10.0.0.1 not among the hosts heard:\n%s", out)
		}
	})
}
