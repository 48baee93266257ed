//go:build linux

package web

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// netnsEnv is set in the test process that runs inside a network
// namespace of its own.
const netnsEnv = "SCUTTLE_WEB_NETNS"

// inNetns runs the calling test again in a child process inside a new
// network namespace with only loopback up (unshare -n), where a browser
// can send nothing out of the machine. In the parent it returns ok false
// once the child has run (its output logged, its failure failing t); it
// skips the test, saying why, without root, unshare, ip or Chromium
// (SCUTTLE_CHROMIUM, else chromium in PATH). In the child it returns the
// browser's path and ok true, after checking that loopback is the only
// interface.
func inNetns(t *testing.T) (chromium string, ok bool) {
	t.Helper()
	name := os.Getenv("SCUTTLE_CHROMIUM")
	if name == "" {
		name = "chromium"
	}
	chromium, err := exec.LookPath(name)
	if os.Getenv(netnsEnv) == "1" {
		ifs, err := net.Interfaces()
		if err != nil || len(ifs) != 1 || ifs[0].Name != "lo" {
			t.Fatalf("not in a network namespace of loopback alone: %v, %v", ifs, err)
		}
		if chromium == "" {
			t.Fatal("no chromium in the namespace")
		}
		return chromium, true
	}
	switch {
	case os.Geteuid() != 0:
		t.Skip("the browser runs only in a network namespace of its own (unshare -n), which needs root")
	case err != nil:
		t.Skipf("no Chromium to drive (Debian package chromium, or SCUTTLE_CHROMIUM): %v", err)
	}
	for _, prog := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is needed for the browser's network namespace: %v", prog, err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	args := []string{"-n", "sh", "-c", `ip link set lo up && exec "$@"`, "sh",
		os.Args[0], "-test.run=^" + t.Name() + "$", "-test.count=1", "-test.timeout=4m"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in the network namespace: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("in the network namespace:\n%s", out)
	}
	return "", false
}
