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
	"time"

	"scuttle/mdns/netlab"
	"scuttle/topology"
	"scuttle/topology/testkit"
)

// TestChatRelay: two LAN segments joined only by a relay host with an
// interface on each and IP forwarding off, so neither multicast nor any
// packet crosses between them. alice on LAN 1 and bob on LAN 2 each name
// the relay as HOST:PORT; the relay runs a headless chat (standard input
// closed) that names nobody. Their messages reach each other through the
// relay's copies of their logs.
func TestChatRelay(t *testing.T) {
	t.Parallel()
	ha, hr, hb, relayOn1, relayOn2 := relayLab(t, "relay")
	out, err := hr.Command(t.Context(), "cat", "/proc/sys/net/ipv4/ip_forward").Output()
	if err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Fatalf("relay's ip_forward = %q, %v; want 0", out, err)
	}

	t.Run("public", func(t *testing.T) { relayChat(t, ha, hr, hb, relayOn1, relayOn2, nil, nil) })
	key, err := topology.NewNetworkKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("private network", func(t *testing.T) {
		relayChat(t, ha, hr, hb, relayOn1, relayOn2, []string{"--network", key}, []string{"--network", key})
	})
	t.Run("private network, the relay not a member", func(t *testing.T) {
		// The relay is public: alice's dial is refused ("not in this
		// network", which -v prints), and nothing crosses.
		rdir := t.TempDir()
		relay := labChatArgs(t, hr, rdir, "relay", "relay")
		relay.stdin.Close()
		a := labChatArgs(t, ha, t.TempDir(), "alice", "-v", "--network", key, "alice", relayOn1)
		a.awaitStderr("not in this network")
		a.say("secret")
		a.expect("alice> secret")
		relay.stop(syscall.SIGTERM)
		// The relay holds its own log only: nothing of alice's.
		out, errs, code := scuttle(t, "", "", nil, "logs", "--json", "--db", filepath.Join(rdir, "relay.db"))
		if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); code != 0 || len(lines) != 1 || !strings.Contains(lines[0], `"own":true`) {
			t.Errorf("the relay outside the network holds the logs %q (exit status %d, stderr %q), want its own only", out, code, errs)
		}
	})
}

// relayLab makes the lab of the relay tests: alice's host on LAN 1, the
// relay's with an interface on each LAN, bob's on LAN 2. The relay is to
// listen on the port of its chat name, relay: alice reaches it as
// relayOn1 (10.0.0.2:PORT), bob as relayOn2 (10.0.1.2:PORT).
func relayLab(t *testing.T, relay string) (ha, hr, hb *netlab.Host, relayOn1, relayOn2 string) {
	t.Helper()
	lab := netlab.New(t, 3, netlab.OnSegments(0, 0), netlab.OnSegments(1, 0, 1), netlab.OnSegments(2, 1))
	ha, hr, hb = lab.Hosts[0], lab.Hosts[1], lab.Hosts[2]
	port := strconv.Itoa(int(topology.HashToPort(relay)))
	relayOn1 = net.JoinHostPort(hr.Ifaces[0].IPv4.Addr().String(), port)
	relayOn2 = net.JoinHostPort(hr.Ifaces[1].IPv4.Addr().String(), port)
	return ha, hr, hb, relayOn1, relayOn2
}

// relayChat runs the relay (flags rflags) and alice and bob (flags
// flags), each naming the relay's address on their segment, and checks
// that their messages reach each other through it and only through it.
func relayChat(t *testing.T, ha, hr, hb *netlab.Host, relayOn1, relayOn2 string, rflags, flags []string) {
	relay := labChatArgs(t, hr, t.TempDir(), "relay", append(slices.Clone(rflags), "relay")...)
	relay.stdin.Close() // headless
	a := labChatArgs(t, ha, t.TempDir(), "alice", append(slices.Clone(flags), "alice", relayOn1)...)
	b := labChatArgs(t, hb, t.TempDir(), "bob", append(slices.Clone(flags), "bob", relayOn2)...)
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
		p.stop(syscall.SIGTERM) // frees the relay's port for the next run
		p.quiet()
	}
}

// awaitStderr waits until the process has written s to its standard
// error. (Polled: the helpers collect stderr without telling of writes.)
func (p *chatProc) awaitStderr(s string) {
	p.t.Helper()
	deadline := time.Now().Add(testkit.ChatWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		text := p.stderrText()
		if strings.Contains(text, s) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: no %q on stderr within %v:\n%s", p.name, s, testkit.ChatWait, text)
		}
	}
}
