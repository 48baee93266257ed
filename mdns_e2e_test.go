//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"scuttle/mdns"
	"scuttle/mdns/netlab"
	"scuttle/topology/testkit"
)

// End-to-end tests of "scuttle announce" and "scuttle resolve" between
// hosts of a netlab lab: network namespaces on a private bridge, so no
// packet reaches a real interface. They skip unless run as root with ip.

// proc is a scuttle process running in a lab host.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *proc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// start runs scuttle with args in h until the test ends.
func start(t *testing.T, h *netlab.Host, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: testkit.Command(t.Context(), h.Command, scuttleBin, "", nil, args...), done: make(chan struct{})}
	p.cmd.Stderr = p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start scuttle %v in %s: %v", args, h.Name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit, at most d, and returns its status.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("scuttle %v still running after %v; stderr:\n%s", p.cmd.Args, d, p.errText())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("scuttle %v: %v", p.cmd.Args, p.err)
	}
	return 0
}

// scuttleIn runs scuttle with args in h to completion, for at most 30 s.
func scuttleIn(t *testing.T, h *netlab.Host, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return runCmd(t, testkit.Command(ctx, h.Command, scuttleBin, "", nil, args...), "")
}

// announced starts "scuttle announce name" in h and waits until a
// resolver on r answers for it.
func announced(t *testing.T, h, r *netlab.Host, name string) *proc {
	t.Helper()
	p := start(t, h, "announce", name)
	out, errs, code := scuttleIn(t, r, "resolve", "--timeout", "10s", name)
	if code != 0 {
		t.Fatalf("resolving %s from %s after announcing it in %s: status %d, stdout %q, stderr %q; announcer's stderr:\n%s",
			name, r.Name, h.Name, code, out, errs, p.errText())
	}
	return p
}

func TestMDNSAnnounceResolve(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 2)
	alice, bob := lab.Hosts[0], lab.Hosts[1]
	announced(t, alice, bob, "alice")

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"by name", []string{"resolve", "alice"}, 0, "10.0.0.1\nfe80::1:1%lan0\n", ""},
		{"by FQDN, other case", []string{"resolve", "ALICE.local."}, 0, "10.0.0.1\nfe80::1:1%lan0\n", ""},
		{"nobody", []string{"resolve", "--timeout", "1500ms", "nobody"}, 1, "", "scuttle resolve: nobody.local: no answer\n"},
		{"bad timeout", []string{"resolve", "--timeout", "0s", "x"}, 2, "", "scuttle resolve: --timeout must be positive, got 0s\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := scuttleIn(t, bob, tt.args...)
			if code != tt.code || out != tt.stdout || !strings.HasPrefix(errs, tt.stderr) {
				t.Errorf("scuttle %v: status %d, stdout %q, stderr %q; want %d, %q, %q",
					tt.args, code, out, errs, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestMDNSDrill queries with drill, a one-shot (legacy, RFC 6762 §6.7)
// resolver: it sends from an ephemeral port and must get a unicast
// answer with its ID, its question, and TTL 10.
func TestMDNSDrill(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("drill"); err != nil {
		t.Skip("drill (ldnsutils) is not installed")
	}
	lab := netlab.New(t, 2)
	alice, bob := lab.Hosts[0], lab.Hosts[1]
	announced(t, alice, bob, "alice")
	for _, q := range []struct{ qtype, want string }{
		{"A", "alice.local.\t10\tIN\tA\t10.0.0.1"},
		{"AAAA", "alice.local.\t10\tIN\tAAAA\tfe80::1:1"},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		out, err := bob.Command(ctx, "drill", "-p", "5353", "alice.local", "@224.0.0.251", q.qtype).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("drill %s: %v\n%s", q.qtype, err, out)
		}
		answer := section(string(out), ";; ANSWER SECTION:")
		if !slices.Contains(answer, q.want) {
			t.Errorf("drill %s: answer section %q, want it to hold %q; output:\n%s", q.qtype, answer, q.want, out)
		}
		if !strings.Contains(string(out), "rcode: NOERROR") || !slices.Contains(section(string(out), ";; QUESTION SECTION:"), ";; alice.local.\tIN\t"+q.qtype) {
			t.Errorf("drill %s: no NOERROR or question repeated:\n%s", q.qtype, out)
		}
	}
}

// section returns the non-empty lines after header up to the next blank
// line.
func section(out, header string) []string {
	_, rest, ok := strings.Cut(out, header+"\n")
	if !ok {
		return nil
	}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(rest))
	for sc.Scan() && sc.Text() != "" {
		lines = append(lines, sc.Text())
	}
	return lines
}

func TestMDNSConflict(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 2)
	alice, bob := lab.Hosts[0], lab.Hosts[1]
	announced(t, alice, bob, "alice")
	p := start(t, bob, "announce", "alice")
	if code := p.wait(t, 10*time.Second); code != 1 {
		t.Fatalf("second announce of alice: status %d, want 1; stderr:\n%s", code, p.errText())
	}
	got := p.errText()
	want4 := "scuttle announce: mdns: alice.local is taken: host 10.0.0.1 answered on lan0\n"
	want6 := "scuttle announce: mdns: alice.local is taken: host fe80::1:1 answered on lan0\n"
	if got != want4 && got != want6 {
		t.Errorf("second announce's stderr %q, want %q (or its IPv6 form)", got, want4)
	}
}

// TestMDNSGoodbye checks that an announcer stopped by SIGTERM says
// goodbye (TTL 0), so a resolver's cache forgets it within about a
// second, while one killed without goodbye stays cached.
func TestMDNSGoodbye(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 2)
	alice, bob := lab.Hosts[0], lab.Hosts[1]

	// The resolver with a cache: an mdns.Conn opened in bob's namespace.
	var c *mdns.Conn
	if err := bob.Do(func() (err error) {
		c, err = mdns.Listen(t.Context(), mdns.Config{})
		return err
	}); err != nil {
		t.Fatalf("Listen in %s: %v", bob.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	lookup := func(name string, d time.Duration) ([]string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), d)
		defer cancel()
		return c.LookupHost(ctx, name)
	}

	for _, tt := range []struct {
		name    string
		sig     syscall.Signal
		cached  bool
		wantErr bool
	}{
		{"SIGTERM says goodbye", syscall.SIGTERM, false, true},
		{"SIGKILL does not", syscall.SIGKILL, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "alice-" + strings.ToLower(tt.sig.String()[:4])
			p := start(t, alice, "announce", name)
			if addrs, err := lookup(name, 10*time.Second); err != nil || !slices.Contains(addrs, "10.0.0.1") {
				t.Fatalf("LookupHost(%s) = %v, %v; want 10.0.0.1; announcer:\n%s", name, addrs, err, p.errText())
			}
			p.cmd.Process.Signal(tt.sig)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				t.Fatalf("announcer still running 5 s after %v", tt.sig)
			}
			// A goodbye leaves a record one second (RFC 6762 §10.1); the
			// short lookups below do not reach the retry at 1 s, so they
			// see only the cache.
			deadline := time.Now().Add(3 * time.Second)
			var addrs []string
			var err error
			for time.Now().Before(deadline) {
				addrs, err = lookup(name, 200*time.Millisecond)
				if err != nil {
					break
				}
			}
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("3 s after %v: LookupHost = %v, %v; want an error: %v", tt.sig, addrs, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, mdns.ErrNoAnswer) {
				t.Errorf("error %v, want ErrNoAnswer", err)
			}
		})
	}
}

// TestMDNSTwoSegments: a host on two segments answers each segment with
// its address there (RFC 6762 §6.2).
func TestMDNSTwoSegments(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 3, netlab.OnSegments(0, 0, 1), netlab.OnSegments(2, 1))
	alice, bob, carol := lab.Hosts[0], lab.Hosts[1], lab.Hosts[2]
	announced(t, alice, bob, "alice")
	for _, tt := range []struct {
		host *netlab.Host
		want string
	}{
		{bob, "10.0.0.1\nfe80::1:1%lan0\n"},
		{carol, "10.0.1.1\nfe80::2:1%lan0\n"},
	} {
		out, errs, code := scuttleIn(t, tt.host, "resolve", "alice")
		if code != 0 || out != tt.want {
			t.Errorf("resolve alice from %s: status %d, stdout %q, stderr %q; want 0, %q", tt.host.Name, code, out, errs, tt.want)
		}
	}
}

// TestMDNSTwoProcessesOneHost: two announcers share port 5353 of one host
// and both answer.
func TestMDNSTwoProcessesOneHost(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 2)
	alice, bob := lab.Hosts[0], lab.Hosts[1]
	announced(t, alice, bob, "alice")
	announced(t, alice, bob, "carol")
	for _, name := range []string{"alice", "carol", "alice"} {
		out, errs, code := scuttleIn(t, bob, "resolve", name)
		if want := "10.0.0.1\nfe80::1:1%lan0\n"; code != 0 || out != want {
			t.Errorf("resolve %s: status %d, stdout %q, stderr %q; want 0, %q", name, code, out, errs, want)
		}
	}
}

// TestMDNSUsage runs the mDNS commands in-process on arguments they
// reject before opening any socket.
func TestMDNSUsage(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string // first line
	}{
		{"announce without name", nil, []string{"announce"}, 2, "scuttle announce: takes one NAME, got 0 arguments"},
		{"announce two names", nil, []string{"announce", "a", "b"}, 2, "scuttle announce: takes one NAME, got 2 arguments"},
		{"resolve without name", nil, []string{"resolve"}, 2, "scuttle resolve: takes one NAME, got 0 arguments"},
		{"resolve negative timeout", nil, []string{"resolve", "--timeout", "-1s", "bob"}, 2, "scuttle resolve: --timeout must be positive, got -1s"},
		{"unknown interface", nil, []string{"resolve", "--iface", "nope0", "bob"}, 1, `scuttle resolve: mdns: interface "nope0": route ip+net: no such network interface`},
		{"unknown interface from the environment", map[string]string{"SCUTTLE_IFACE": "nope1"}, []string{"announce", "bob"}, 1, `scuttle announce: mdns: interface "nope1": route ip+net: no such network interface`},
		{"bad name", map[string]string{"SCUTTLE_IFACE": "lo"}, []string{"announce", "a.b"}, 1, `scuttle announce: mdns: bad name "a.b": '.' at offset 1: a name is one DNS label, with no dots, spaces, control characters or backslashes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runInProcess(t, tt.env, "", tt.args...)
			if code != tt.code || firstLine(stderr) != tt.stderr {
				t.Errorf("scuttle %v: status %d, stderr %q; want %d, %q", tt.args, code, firstLine(stderr), tt.code, tt.stderr)
			}
		})
	}
}

// TestMDNSAvahi checks interoperation with Avahi, when avahi-daemon is
// installed (CI does not install it): avahi-daemon runs on h0 as
// avahihost.local, without D-Bus, in a mount namespace of its own (so
// its pid file does not meet another's).
func TestMDNSAvahi(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 2)
	h0, h1 := lab.Hosts[0], lab.Hosts[1]
	h0.StartAvahi(t, netlab.AvahiConfig{})

	t.Run("resolve avahi's name", func(t *testing.T) {
		out, errs, code := scuttleIn(t, h1, "resolve", "avahihost")
		if want := "10.0.0.1\nfe80::1:1%lan0\n"; code != 0 || out != want {
			t.Errorf("resolve avahihost: status %d, stdout %q, stderr %q; want 0, %q", code, out, errs, want)
		}
	})
	t.Run("avahi's name is taken", func(t *testing.T) {
		_, errs, code := scuttleIn(t, h1, "announce", "avahihost")
		if code != 1 || !strings.HasPrefix(errs, "scuttle announce: mdns: avahihost.local is taken: host ") {
			t.Errorf("announce avahihost: status %d, stderr %q; want 1 and a conflict", code, errs)
		}
	})
	t.Run("share port 5353 with avahi", func(t *testing.T) {
		announced(t, h0, h1, "alice")
		out, errs, code := scuttleIn(t, h1, "resolve", "alice")
		if want := "10.0.0.1\nfe80::1:1%lan0\n"; code != 0 || out != want {
			t.Errorf("resolve alice: status %d, stdout %q, stderr %q; want 0, %q", code, out, errs, want)
		}
		// And avahi still answers on the shared port.
		out, errs, code = scuttleIn(t, h1, "resolve", "avahihost")
		if code != 0 || !strings.HasPrefix(out, "10.0.0.1\n") {
			t.Errorf("resolve avahihost while scuttle shares the port: status %d, stdout %q, stderr %q", code, out, errs)
		}
	})
}
