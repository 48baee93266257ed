//go:build linux

package main

import (
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"scuttle/mdns/netlab"
	"scuttle/topology"
)

// TestChatPrivateRelay: alice on LAN 1 and bob on LAN 2 meet only through
// a relay host with a foot on each (as TestChatRelay). alice's /msg to
// bob prints as "alice → bob> …" on both; the relay, which carries it,
// holds the sealed entry in its database ("scuttle read" shows it as
// sealed, without its words) and prints nothing of it.
func TestChatPrivateRelay(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 3, netlab.OnSegments(0, 0), netlab.OnSegments(1, 0, 1), netlab.OnSegments(2, 1))
	ha, hr, hb := lab.Hosts[0], lab.Hosts[1], lab.Hosts[2]
	port := strconv.Itoa(int(topology.HashToPort("carol")))
	relayOn1 := net.JoinHostPort(hr.Ifaces[0].IPv4.Addr().String(), port)
	relayOn2 := net.JoinHostPort(hr.Ifaces[1].IPv4.Addr().String(), port)

	rdir := t.TempDir()
	relay := labChatArgs(t, hr, rdir, "carol", "carol")
	relay.stdin.Close() // headless
	a := labChatArgs(t, ha, t.TempDir(), "alice", "alice", relayOn1)
	b := labChatArgs(t, hb, t.TempDir(), "bob", "bob", relayOn2)
	const published = "info> published your encryption key: from now on others can send you private messages (/msg) and rooms (/invite)"
	a.expect(published, "info> direct connection to carol")
	b.expect(published, "info> direct connection to carol")

	// Each public line comes after its log's key entry, and binds its
	// author's name where it arrives.
	b.say("hello from bob")
	b.expect("bob> hello from bob")
	a.expect("bob> hello from bob")
	a.say("hello from alice")
	a.expect("alice> hello from alice")
	b.expect("alice> hello from alice")

	a.say("/msg bob the secret words")
	a.expect("alice → bob> the secret words")
	b.expect("alice → bob> the secret words")
	a.say("public again")
	b.expect("alice> public again")
	relay.expect("bob> hello from bob", "alice> hello from alice", "alice> public again") // nothing between
	for _, p := range []*chatProc{a, b, relay} {
		p.stop(syscall.SIGTERM)
		p.quiet()
	}
	if slices.ContainsFunc(relay.seen, func(l string) bool { return strings.Contains(l, "secret") || strings.Contains(l, "→") }) {
		t.Errorf("the relay printed the private message: %q", relay.seen)
	}
	out := mustScuttle(t, "", "", "read", "--db", filepath.Join(rdir, "carol.db"))
	if strings.Contains(out, "secret") {
		t.Errorf("scuttle read on the relay shows the private words:\n%s", out)
	}
	if n := strings.Count(out, "sealed: true"); n != 1 {
		t.Errorf("scuttle read on the relay shows %d sealed entries, want 1:\n%s", n, out)
	}
}
