//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"scuttle/mdns/netlab"
	"scuttle/topology"
)

// TestChatListedByAvahi: a chat on h0 is listed and resolved by
// avahi-browse -rp _scuttle._tcp on h1, with its port and id=; the time
// from starting the chat to avahi-browse (running since before) printing
// it is logged. h1 runs a private D-Bus system bus and avahi-daemon, as
// mdns's TestAvahiBrowse does. It skips without avahi-daemon,
// avahi-browse, dbus-daemon or unshare.
func TestChatListedByAvahi(t *testing.T) {
	t.Parallel()
	for _, prog := range []string{"avahi-daemon", "avahi-browse", "dbus-daemon", "unshare"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is not installed (Debian: apt-get install avahi-daemon avahi-utils dbus)", prog)
		}
	}
	lab := netlab.New(t, 2)
	h0, h1 := lab.Hosts[0], lab.Hosts[1]
	dir := t.TempDir()
	busConf, avahiFile := filepath.Join(dir, "bus.conf"), filepath.Join(dir, "avahi-daemon.conf")
	if err := os.WriteFile(busConf, []byte(fmt.Sprintf(testBusConf, filepath.Join(dir, "bus"))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(avahiFile, []byte(strings.Replace(avahiConf, "enable-dbus=no", "enable-dbus=yes", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS=unix:path="+filepath.Join(dir, "bus"))
	bus := startLineProc(t, h1, env, "dbus-daemon", "--config-file="+busConf, "--nofork", "--nopidfile", "--print-address")
	bus.await(t, "unix:")
	avahi := startLineProc(t, h1, env, "unshare", "-m", "sh", "-c",
		`mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon -f "$0" --no-drop-root --no-chroot --no-rlimits 2>&1`, avahiFile)
	avahi.await(t, "Server startup complete")
	watch := startLineProc(t, h1, env, "avahi-browse", "-rp", "_scuttle._tcp")

	da := t.TempDir()
	start := time.Now()
	a := labChatArgs(t, h0, da, "alice", "--port", "4321", "alice")
	want := `=;lan0;IPv4;alice;_scuttle._tcp;local;alice.local;10.0.0.1;4321;`
	line, at := watch.await(t, want)
	took := at.Sub(start)
	if id := logID(t, da, "alice"); !strings.Contains(line, `"id=`+id+`"`) || !strings.Contains(line, `"v=`+strconv.Itoa(topology.ProtocolVersion)+`"`) || strings.Contains(line, "net=") {
		t.Errorf("avahi-browse lists %s, want id=%s, v=%d and no net=", line, id, topology.ProtocolVersion)
	}
	t.Logf("chat start on h0 to resolved by avahi-browse on h1: %v", took.Round(time.Millisecond))
	a.quiet()
}

// lineProc2 is a process of a lab host whose output is read line by line.
type lineProc2 struct {
	lines chan timedText
	seen  []string
}

type timedText struct {
	at   time.Time
	text string
}

func startLineProc(t *testing.T, h *netlab.Host, env []string, prog string, args ...string) *lineProc2 {
	t.Helper()
	cmd := h.Command(context.Background(), prog, args...)
	cmd.Env = env
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", prog, err)
	}
	p := &lineProc2{lines: make(chan timedText, 1024)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.lines <- timedText{time.Now(), sc.Text()}
		}
		close(p.lines)
	}()
	done := make(chan struct{})
	go func() { cmd.Wait(); w.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return p
}

// await returns the first line holding s and when it came, failing the
// test if none comes within chatWait.
func (p *lineProc2) await(t *testing.T, s string) (string, time.Time) {
	t.Helper()
	deadline := time.After(chatWait)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("process ended before printing %q; output:\n%s", s, strings.Join(p.seen, "\n"))
			}
			p.seen = append(p.seen, l.text)
			if strings.Contains(l.text, s) {
				return l.text, l.at
			}
		case <-deadline:
			t.Fatalf("no line with %q within %v; output:\n%s", s, chatWait, strings.Join(p.seen, "\n"))
		}
	}
}

const testBusConf = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
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
