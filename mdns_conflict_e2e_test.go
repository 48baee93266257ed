//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"scuttle/mdns/netlab"
)

// End-to-end tests of what a stranger on the LAN can do to a chat's
// multicast DNS (issue 19): answer for its name.

// TestChatNameTaken: another host announces bob.local (scuttle announce
// bob, as a stranger would; one forged answer does the same) before bob's
// chat starts. The chat does not exit: it says once that the name is
// taken and runs without it, and alice reaches it as HOST:PORT. Before,
// it exited with "claiming bob.local: mdns: bob.local is taken".
func TestChatNameTaken(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 3)
	hb, hs, ha := lab.Hosts[0], lab.Hosts[1], lab.Hosts[2]
	announced(t, hs, ha, "bob")

	b := labChatArgs(t, hb, t.TempDir(), "bob", "bob")
	l := b.expectPrefix("info> bob.local is taken: host ")
	rest := strings.TrimPrefix(l, "info> bob.local is taken: host ")
	host, rest, _ := strings.Cut(rest, " ")
	if a, err := netip.ParseAddr(host); err != nil || !a.IsValid() || !slicesContains(hs.Addrs(), a) {
		t.Errorf("conflict line %q: host %q, want one of %v", l, host, hs.Addrs())
	}
	want := fmt.Sprintf("answered for it on lan0; running without it: peers reach this chat as HOST:%d, it still dials its peers, and it claims the name once it is free", portOf("bob"))
	if rest != want {
		t.Errorf("conflict line %q: after the host %q, want %q", l, rest, want)
	}

	a := labChatArgs(t, ha, t.TempDir(), "alice", "alice", fmt.Sprintf("%s:%d", hb.IPv4(), portOf("bob")))
	a.expect("info> direct connection to bob")
	b.expect("info> direct connection to alice")
	a.say("still here?")
	b.expect("alice> still here?")
	a.quiet()
	b.quiet()
}

func slicesContains(as []netip.Addr, a netip.Addr) bool {
	for _, x := range as {
		if x.WithZone("") == a.WithZone("") {
			return true
		}
	}
	return false
}
