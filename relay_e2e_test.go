package main

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"scuttle/mdns/netlab"
	"scuttle/topology"
)

// TestChatRelay: two LAN segments joined only by a relay host with an
// interface on each and IP forwarding off, so neither multicast nor any
// packet crosses between them. alice on LAN 1 and bob on LAN 2 each name
// the relay as HOST:PORT; the relay runs a headless chat (standard input
// closed) that names nobody. Their messages reach each other through the
// relay's copies of their logs.
func TestChatRelay(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 3, netlab.OnSegments(0, 0), netlab.OnSegments(1, 0, 1), netlab.OnSegments(2, 1))
	ha, hr, hb := lab.Hosts[0], lab.Hosts[1], lab.Hosts[2]
	out, err := hr.Command(t.Context(), "cat", "/proc/sys/net/ipv4/ip_forward").Output()
	if err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Fatalf("relay's ip_forward = %q, %v; want 0", out, err)
	}
	// The relay listens on its name's port; alice reaches it as
	// 10.0.0.2:PORT on her segment, bob as 10.0.1.2:PORT on his.
	port := strconv.Itoa(int(topology.HashToPort("relay")))
	relayOn1 := net.JoinHostPort(hr.Ifaces[0].IPv4.Addr().String(), port)
	relayOn2 := net.JoinHostPort(hr.Ifaces[1].IPv4.Addr().String(), port)

	relay := labChat(t, hr, t.TempDir(), "relay")
	relay.stdin.Close() // headless
	a := labChat(t, ha, t.TempDir(), "alice", relayOn1)
	b := labChat(t, hb, t.TempDir(), "bob", relayOn2)
	a.expect("info> direct connection to relay")
	b.expect("info> direct connection to relay")

	a.say("hello from LAN 1")
	a.expect("alice> hello from LAN 1")
	b.expect("alice> hello from LAN 1")
	b.say("hello from LAN 2")
	b.expect("bob> hello from LAN 2")
	a.expect("bob> hello from LAN 2")
	relay.expect("alice> hello from LAN 1", "bob> hello from LAN 2")
	// Through the relay only: neither saw the other directly.
	if slices.Contains(a.seen, "info> direct connection to bob") || slices.Contains(b.seen, "info> direct connection to alice") {
		t.Errorf("alice and bob connected directly across the segments: %q, %q", a.seen, b.seen)
	}
	for _, p := range []*chatProc{a, b, relay} {
		p.quiet()
	}
}
