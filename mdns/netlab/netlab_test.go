//go:build linux

package netlab_test

import (
	"errors"
	"net"
	"os/exec"
	"slices"
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
