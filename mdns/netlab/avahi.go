//go:build linux

package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// AvahiConfig says how StartAvahi runs avahi-daemon.
type AvahiConfig struct {
	// DBus runs a private D-Bus system bus in the host for the daemon,
	// so avahi's clients (avahi-browse, avahi-publish) can reach it
	// through Avahi.Env. Without it the daemon runs with D-Bus off and
	// only answers on the network.
	DBus bool
}

// An Avahi is an avahi-daemon running in a lab host, started by
// StartAvahi, as host name avahihost.local on lan0 alone, publishing no
// HINFO or workstation service.
type Avahi struct {
	// Env is the environment in which avahi's clients, run in the same
	// host, reach this daemon: the test's environment with
	// DBUS_SYSTEM_BUS_ADDRESS naming the private bus. It is nil
	// without AvahiConfig.DBus.
	Env []string
	// Log is the daemon's output.
	Log *Lines
}

// avahiReady bounds the wait for the bus and the daemon to start.
const avahiReady = 30 * time.Second

// StartAvahi starts avahi-daemon in the host and returns once it reports
// "Server startup complete". It runs in a mount namespace of its own
// with a private /run/avahi-daemon, and its bus (with DBus) listens on a
// socket in a directory of the test, so nothing meets the machine's own
// daemon or bus. Both are stopped when the test ends. StartAvahi skips
// the test when avahi-daemon, unshare or (with DBus) dbus-daemon is not
// installed.
func (h *Host) StartAvahi(t testing.TB, cfg AvahiConfig) *Avahi {
	t.Helper()
	progs := []string{"avahi-daemon", "unshare"}
	if cfg.DBus {
		progs = append(progs, "dbus-daemon")
	}
	for _, prog := range progs {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("netlab: %s is not installed (Debian: apt-get install avahi-daemon avahi-utils dbus)", prog)
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "avahi-daemon.conf")
	text := avahiConf
	a := &Avahi{}
	if cfg.DBus {
		text = strings.Replace(text, "enable-dbus=no", "enable-dbus=yes", 1)
		sock := filepath.Join(dir, "bus")
		busConf := filepath.Join(dir, "bus.conf")
		if err := os.WriteFile(busConf, fmt.Appendf(nil, privateBusConf, sock), 0o644); err != nil {
			t.Fatal(err)
		}
		a.Env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS=unix:path="+sock)
		bus := h.StartLines(t, a.Env, "dbus-daemon", "--config-file="+busConf, "--nofork", "--nopidfile", "--print-address")
		bus.Await(t, "unix:", avahiReady)
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	a.Log = h.StartLines(t, a.Env, "unshare", "-m", "sh", "-c",
		`mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon -f "$0" --no-drop-root --no-chroot --no-rlimits 2>&1`, conf)
	a.Log.Await(t, "Server startup complete", avahiReady)
	return a
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

const avahiConf = `[server]
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
