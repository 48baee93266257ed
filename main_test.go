package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runInProcess runs a scuttle command line in this process, with stdin
// and environment env, and returns its stdout, stderr and exit status.
func runInProcess(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb, getenv)
	return out.String(), errb.String(), code
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string // a line that stdout must contain
		inStderr string // a line that stderr must contain
	}{
		{"no command", nil, 2, "", "usage: scuttle <command> [flags] [arguments]"},
		{"help", []string{"help"}, 0, "usage: scuttle <command> [flags] [arguments]", ""},
		{"help of a command", []string{"help", "version"}, 0, "usage: scuttle version [flags] ", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `scuttle: unknown command "frobnicate"`},
		{"-h", []string{"version", "-h"}, 0, "print scuttle's version", ""},
		{"unknown flag", []string{"version", "--nope"}, 2, "", "flag provided but not defined: -nope"},
		{"extra argument", []string{"version", "x"}, 2, "", "scuttle version: takes no arguments"},
		{"version", []string{"version"}, 0, "scuttle " + version, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runInProcess(t, nil, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !hasLine(stdout, tt.inStdout) {
				t.Errorf("stdout lacks line %q:\n%s", tt.inStdout, stdout)
			}
			if !hasLine(stderr, tt.inStderr) {
				t.Errorf("stderr lacks line %q:\n%s", tt.inStderr, stderr)
			}
		})
	}
}

// TestEveryCommandHasHelp checks that "-h" on every command exits 0 and
// prints the command's usage line on stdout.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runInProcess(t, nil, "", c.name, "-h")
			if code != 0 {
				t.Fatalf("exit status %d, want 0; stderr:\n%s", code, stderr)
			}
			want := "usage: scuttle " + c.name + " [flags]"
			if !strings.HasPrefix(stdout, want) {
				t.Errorf("stdout starts %q, want %q", firstLine(stdout), want)
			}
		})
	}
}

// hasLine reports whether text has a line starting with prefix; an empty
// prefix is always found.
func hasLine(text, prefix string) bool {
	if prefix == "" {
		return true
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
