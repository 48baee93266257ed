package testkit

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestEnv(t *testing.T) {
	t.Setenv("SCUTTLE_DB", "/home/dev/mine.db")
	t.Setenv("SCUTTLE_NETWORK", "the developer's key")
	t.Setenv("TESTKIT_KEPT", "1")
	env := Env("SCUTTLE_IFACE=lo")
	for _, kv := range env {
		if strings.HasPrefix(kv, "SCUTTLE_DB=") || strings.HasPrefix(kv, "SCUTTLE_NETWORK=") {
			t.Errorf("Env passes on the shell's %s", kv)
		}
	}
	if !slices.Contains(env, "TESTKIT_KEPT=1") {
		t.Error("Env drops TESTKIT_KEPT, a variable that is not scuttle's")
	}
	if env[len(env)-1] != "SCUTTLE_IFACE=lo" {
		t.Errorf("Env ends with %q, want the extra SCUTTLE_IFACE=lo", env[len(env)-1])
	}
}

// TestCommand checks that Command makes the command through the given
// CommandFunc (as a netlab Host's Command wraps the program in "ip netns
// exec"), then sets its directory and clean environment.
func TestCommand(t *testing.T) {
	t.Setenv("SCUTTLE_DB", "/home/dev/mine.db")
	wrap := func(ctx context.Context, name string, args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, "wrapper", append([]string{name}, args...)...)
	}
	cmd := Command(t.Context(), wrap, "/tmp/scuttle", "/tmp/dir", []string{"SCUTTLE_IFACE=lo"}, "read", "--json")
	if want := []string{"wrapper", "/tmp/scuttle", "read", "--json"}; !slices.Equal(cmd.Args, want) {
		t.Errorf("Args: got %q, want %q", cmd.Args, want)
	}
	if cmd.Dir != "/tmp/dir" {
		t.Errorf("Dir: got %q, want /tmp/dir", cmd.Dir)
	}
	if want := Env("SCUTTLE_IFACE=lo"); !slices.Equal(cmd.Env, want) {
		t.Errorf("Env: got %q, want Env(SCUTTLE_IFACE=lo), %q", cmd.Env, want)
	}
}
