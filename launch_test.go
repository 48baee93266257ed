package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"scuttle/topology/testkit"
)

// The tests that run scuttle as a user would, as a separate process,
// build every such process's command with testkit.Command: on this
// machine (exec.CommandContext) or in a netlab host (its Command), always
// in testkit's clean environment, so no SCUTTLE_* variable of the
// developer's shell reaches them. The helpers here run one to
// completion; startChat (cmd_chat_test.go) and start (mdns_e2e_test.go)
// keep one running.

// scuttleBin is the scuttle binary built once by TestMain for the tests
// that run it as a separate process.
var scuttleBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scuttle-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scuttleBin = filepath.Join(dir, "scuttle")
	build := exec.Command("go", "build", "-o", scuttleBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building scuttle: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// scuttle runs the built binary on this machine in dir with stdin and
// the extra environment env, and returns its stdout, stderr and exit
// status.
func scuttle(t *testing.T, dir, stdin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCmd(t, testkit.Command(t.Context(), exec.CommandContext, scuttleBin, dir, env, args...), stdin)
}

// mustScuttle is scuttle that fails the test unless the exit status is 0.
func mustScuttle(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	stdout, stderr, code := scuttle(t, dir, stdin, nil, args...)
	if code != 0 {
		t.Fatalf("scuttle %s: exit status %d\nstderr: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// runCmd runs cmd, made by testkit.Command, to completion with stdin and
// returns its stdout, stderr and exit status. It fails the test if cmd
// cannot run at all.
func runCmd(t *testing.T, cmd *exec.Cmd, stdin string) (stdout, stderr string, code int) {
	t.Helper()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("running %q: %v", cmd.Args, err)
	}
	return out.String(), errb.String(), code
}
