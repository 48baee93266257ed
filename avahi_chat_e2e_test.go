//go:build linux

package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"scuttle/mdns/netlab"
	"scuttle/topology"
	"scuttle/topology/testkit"
)

// TestChatListedByAvahi: a chat on h0 is listed and resolved by
// avahi-browse -rp _scuttle._tcp on h1, with its port and id=; the time
// from starting the chat to avahi-browse (running since before) printing
// it is logged. h1 runs a private D-Bus system bus and avahi-daemon
// (netlab's StartAvahi). It skips without avahi-daemon, avahi-browse,
// dbus-daemon or unshare.
func TestChatListedByAvahi(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("avahi-browse"); err != nil {
		t.Skip("avahi-browse is not installed (Debian: apt-get install avahi-daemon avahi-utils dbus)")
	}
	lab := netlab.New(t, 2)
	h0, h1 := lab.Hosts[0], lab.Hosts[1]
	env := h1.StartAvahi(t, netlab.AvahiConfig{DBus: true}).Env
	watch := h1.StartLines(t, env, "avahi-browse", "-rp", "_scuttle._tcp")

	da := t.TempDir()
	start := time.Now()
	a := labChatArgs(t, h0, da, "alice", "--port", "4321", "alice")
	want := `=;lan0;IPv4;alice;_scuttle._tcp;local;alice.local;10.0.0.1;4321;`
	line := watch.Await(t, want, testkit.ChatWait)
	took := line.At.Sub(start)
	if id := logID(t, da, "alice"); !strings.Contains(line.Text, `"id=`+id+`"`) || !strings.Contains(line.Text, `"v=`+strconv.Itoa(topology.ProtocolVersion)+`"`) || strings.Contains(line.Text, "net=") {
		t.Errorf("avahi-browse lists %s, want id=%s, v=%d and no net=", line.Text, id, topology.ProtocolVersion)
	}
	t.Logf("chat start on h0 to resolved by avahi-browse on h1: %v", took.Round(time.Millisecond))
	a.quiet()
}
