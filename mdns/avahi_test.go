//go:build linux

package mdns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"scuttle/mdns/netlab"
)

// TestAvahiBrowse checks DNS-SD interoperation with Avahi between two
// hosts of a netlab lab: a service registered through RegisterService on
// h0 (by this test binary, re-run inside h0's namespace as a helper
// process, see TestHelperService) is listed and resolved by
// avahi-browse -rpt _scuttle._tcp on h1, with its port and TXT record;
// and a Browse on h1 finds a service Avahi publishes. On h1 a private
// D-Bus system bus and avahi-daemon run (netlab's StartAvahi), so
// nothing meets the host's own bus or daemon. It skips when avahi-daemon,
// avahi-browse, avahi-publish or dbus-daemon is not installed.
//
// It logs the time from starting the helper to avahi-browse (running
// continuously since before) reporting the resolved service.
func TestAvahiBrowse(t *testing.T) {
	for _, prog := range []string{"avahi-browse", "avahi-publish"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is not installed (Debian: apt-get install avahi-daemon avahi-utils dbus)", prog)
		}
	}
	lab := netlab.New(t, 2)
	h0, h1 := lab.Hosts[0], lab.Hosts[1]
	env := h1.StartAvahi(t, netlab.AvahiConfig{DBus: true}).Env

	// avahi-browse runs continuously from before the service exists.
	watch := h1.StartLines(t, env, "avahi-browse", "-rp", "_scuttle._tcp")
	start := time.Now()
	helper := h0.StartLines(t, append(os.Environ(), "SCUTTLE_MDNS_HELPER=service"), os.Args[0], "-test.run=^TestHelperService$", "-test.v")
	helper.Await(t, "registered", 10*time.Second)
	// A resolved line ("=;lan0;IPv4;alice;…" or "=;lan0;IPv6;alice;…"):
	// Avahi resolves the instance it found over either family to an
	// address of either, whichever its cache gives first, so the IPv4
	// address may come on the IPv6 line (so the one-shot listing failed
	// once in CI); each of the rest is checked.
	want := `;lan0;IPv`
	resolved := `;alice;_scuttle._tcp;local;alice.local;10.0.0.1;4242;"v=2" "id=0123abcd"`
	line := watch.Await(t, resolved, 10*time.Second)
	if !strings.HasPrefix(line.Text, "="+want) {
		t.Errorf("avahi-browse -rp printed %q, want a line =%s?%s", line.Text, want, resolved)
	}
	t.Logf("RegisterService start on h0 to resolved by avahi-browse on h1: %v (%s)", line.At.Sub(start).Round(time.Millisecond), line.Text)

	// The one-shot listing the issue names.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := h1.Command(ctx, "avahi-browse", "-rpt", "_scuttle._tcp")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !hasResolved(string(out), "="+want, resolved) {
		t.Errorf("avahi-browse -rpt _scuttle._tcp: %v\n%s\nwant a line =%s?%s", err, out, want, resolved)
	}

	// And the other way: Avahi publishes on h1, Browse on h0 finds it.
	pub := h1.StartLines(t, env, "avahi-publish", "-s", "avahi-svc", "_scuttle._tcp", "5555", "id=feed", "v=2")
	pub.Await(t, "Established", 10*time.Second)
	helper2 := h0.StartLines(t, append(os.Environ(), "SCUTTLE_MDNS_HELPER=browse"), os.Args[0], "-test.run=^TestHelperService$", "-test.v")
	helper2.Await(t, `found avahi-svc avahihost.local:5555 [id=feed v=2] [10.0.0.2 fe80::1:2%lan0]`, 10*time.Second)
}

// hasResolved says whether out has a line that starts with prefix, then
// one character (the address family), then is resolved.
func hasResolved(out, prefix, resolved string) bool {
	for l := range strings.Lines(out) {
		l = strings.TrimSuffix(l, "\n")
		if strings.HasPrefix(l, prefix) && len(l) == len(prefix)+1+len(resolved) && strings.HasSuffix(l, resolved) {
			return true
		}
	}
	return false
}

// TestHelperService is not a test: TestAvahiBrowse runs this binary
// inside a lab host with SCUTTLE_MDNS_HELPER set, "service" to register
// alice.local and alice._scuttle._tcp.local until its standard input
// closes or it is signalled, "browse" to print what Browse finds.
func TestHelperService(t *testing.T) {
	mode := os.Getenv("SCUTTLE_MDNS_HELPER")
	if mode == "" {
		t.Skip("a helper process of TestAvahiBrowse")
	}
	ctx, c := helperConn(t, 60*time.Second)
	switch mode {
	case "service":
		// RegisterService claims alice.local too, probing for both at
		// once.
		s := Service{Instance: "alice", Type: "_scuttle._tcp", Host: "alice", Port: 4242, TXT: []string{"id=0123abcd", "v=2"}}
		if err := c.RegisterService(ctx, s); err != nil {
			t.Fatal(err)
		}
		fmt.Println("registered")
		waitStopped(ctx)
	case "browse":
		err := c.Browse(ctx, "_scuttle._tcp", func(e ServiceEntry) {
			if !e.Gone {
				fmt.Printf("found %s %s:%d %v %v\n", e.Instance, e.Host, e.Port, e.TXT, e.Addrs)
			}
		})
		t.Log(err)
	}
}
