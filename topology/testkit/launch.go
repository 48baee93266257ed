package testkit

import (
	"context"
	"os"
	"os/exec"
	"strings"
)

// A CommandFunc makes the command that runs name with args. There are
// two: exec.CommandContext runs it on this machine, and a netlab Host's
// Command runs it in the host's network namespace.
type CommandFunc func(ctx context.Context, name string, args ...string) *exec.Cmd

// Command returns the command that runs the program bin with args, made
// by in, in directory dir ("" for the test's working directory) and in
// Env(env...). It is the one place the end-to-end tests build the
// command of a scuttle process, so that every process runs in the same
// clean environment.
func Command(ctx context.Context, in CommandFunc, bin, dir string, env []string, args ...string) *exec.Cmd {
	cmd := in(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = Env(env...)
	return cmd
}

// Env returns the environment of a process a test starts: the test's own
// without any SCUTTLE_* variable, so that a database, an interface or a
// network key set in the developer's shell never reaches it, followed by
// extra, "KEY=value" each: the settings the test means. The prefix is
// matched in any case, as Windows matches variable names.
func Env(extra ...string) []string {
	const prefix = "SCUTTLE_"
	var env []string
	for _, kv := range os.Environ() {
		if len(kv) < len(prefix) || !strings.EqualFold(kv[:len(prefix)], prefix) {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}
