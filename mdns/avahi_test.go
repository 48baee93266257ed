//go:build linux

package mdns

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
// D-Bus system bus (its socket in the test's directory) and
// avahi-daemon run, in a mount namespace of their own, so nothing meets
// the host's own bus or daemon. It skips when avahi-daemon,
// avahi-browse, avahi-publish or dbus-daemon is not installed.
//
// It logs the time from starting the helper to avahi-browse (running
// continuously since before) reporting the resolved service.
func TestAvahiBrowse(t *testing.T) {
	for _, prog := range []string{"avahi-daemon", "avahi-browse", "avahi-publish", "dbus-daemon", "unshare"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is not installed (Debian: apt-get install avahi-daemon avahi-utils dbus)", prog)
		}
	}
	lab := netlab.New(t, 2)
	h0, h1 := lab.Hosts[0], lab.Hosts[1]
	dir := t.TempDir()
	bus := "unix:path=" + filepath.Join(dir, "bus")
	busConf := filepath.Join(dir, "bus.conf")
	avahiConf := filepath.Join(dir, "avahi-daemon.conf")
	for file, text := range map[string]string{
		busConf:   fmt.Sprintf(privateBusConf, filepath.Join(dir, "bus")),
		avahiConf: strings.Replace(avahiConfText, "enable-dbus=no", "enable-dbus=yes", 1),
	} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+bus)

	dbus := startLines(t, h1, env, "dbus-daemon", "--config-file="+busConf, "--nofork", "--nopidfile", "--print-address")
	dbus.await(t, "unix:", 10*time.Second)
	avahi := startLines(t, h1, env, "unshare", "-m", "sh", "-c",
		`mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon -f "$0" --no-drop-root --no-chroot --no-rlimits 2>&1`, avahiConf)
	avahi.await(t, "Server startup complete", 10*time.Second)

	// avahi-browse runs continuously from before the service exists.
	watch := startLines(t, h1, env, "avahi-browse", "-rp", "_scuttle._tcp")
	start := time.Now()
	helper := startLines(t, h0, append(os.Environ(), "SCUTTLE_MDNS_HELPER=service"), os.Args[0], "-test.run=^TestHelperService$", "-test.v")
	helper.await(t, "registered", 10*time.Second)
	want := `=;lan0;IPv4;alice;_scuttle._tcp;local;alice.local;10.0.0.1;4242;"v=2" "id=0123abcd"`
	line := watch.await(t, want, 10*time.Second)
	t.Logf("RegisterService start on h0 to resolved by avahi-browse on h1: %v (%s)", line.at.Sub(start).Round(time.Millisecond), line.text)

	// The one-shot listing the issue names.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := h1.Command(ctx, "avahi-browse", "-rpt", "_scuttle._tcp")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), want) {
		t.Errorf("avahi-browse -rpt _scuttle._tcp: %v\n%s\nwant a line %s", err, out, want)
	}

	// And the other way: Avahi publishes on h1, Browse on h0 finds it.
	pub := startLines(t, h1, env, "avahi-publish", "-s", "avahi-svc", "_scuttle._tcp", "5555", "id=feed", "v=2")
	pub.await(t, "Established", 10*time.Second)
	helper2 := startLines(t, h0, append(os.Environ(), "SCUTTLE_MDNS_HELPER=browse"), os.Args[0], "-test.run=^TestHelperService$", "-test.v")
	helper2.await(t, `found avahi-svc avahihost.local:5555 [id=feed v=2] [10.0.0.2 fe80::1:2%lan0]`, 10*time.Second)
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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Listen(ctx, Config{Interfaces: []string{"lan0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	switch mode {
	case "service":
		// RegisterService claims alice.local too, probing for both at
		// once.
		s := Service{Instance: "alice", Type: "_scuttle._tcp", Host: "alice", Port: 4242, TXT: []string{"id=0123abcd", "v=2"}}
		if err := c.RegisterService(ctx, s); err != nil {
			t.Fatal(err)
		}
		fmt.Println("registered")
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
		select {
		case <-sig:
		case <-done:
		case <-ctx.Done():
		}
	case "browse":
		err := c.Browse(ctx, "_scuttle._tcp", func(e ServiceEntry) {
			if !e.Gone {
				fmt.Printf("found %s %s:%d %v %v\n", e.Instance, e.Host, e.Port, e.TXT, e.Addrs)
			}
		})
		t.Log(err)
	}
}

// lineProc is a process in a lab host whose output lines are collected
// with the time each arrived.
type lineProc struct {
	mu    sync.Mutex
	lines []timedLine
	more  chan struct{} // closed and replaced on each line
	done  chan struct{}
}

type timedLine struct {
	at   time.Time
	text string
}

func startLines(t *testing.T, h *netlab.Host, env []string, prog string, args ...string) *lineProc {
	t.Helper()
	cmd := h.Command(t.Context(), prog, args...)
	cmd.Env = env
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &lineProc{more: make(chan struct{}), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s in %s: %v", prog, h.Name, err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, timedLine{time.Now(), sc.Text()})
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	go func() {
		cmd.Wait()
		w.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// await returns the first line containing s, failing the test if none
// comes within d.
func (p *lineProc) await(t *testing.T, s string, d time.Duration) timedLine {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for _, l := range p.lines {
			if strings.Contains(l.text, s) {
				p.mu.Unlock()
				return l
			}
		}
		more := p.more
		var all []string
		for _, l := range p.lines {
			all = append(all, l.text)
		}
		p.mu.Unlock()
		select {
		case <-more:
		case <-p.done:
			p.mu.Lock()
			n := len(p.lines)
			p.mu.Unlock()
			if n == len(all) {
				t.Fatalf("process exited before printing %q; its output:\n%s", s, strings.Join(all, "\n"))
			}
		case <-deadline.C:
			t.Fatalf("no line with %q in %v; output:\n%s", s, d, strings.Join(all, "\n"))
		}
	}
}

// privateBusConf is a D-Bus system bus for one test: listening on a
// socket in its directory, everything allowed (the test runs as root
// and alone on it).
const privateBusConf = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`

const avahiConfText = `[server]
host-name=avahihost
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces=lan0
enable-dbus=no
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`
