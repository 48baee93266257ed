package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestWriteVersion(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{
			name: "release build from a clean checkout",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.8",
				Main:      debug.Module{Path: "scuttle", Version: "(devel)"},
				Settings: []debug.BuildSetting{
					{Key: "-trimpath", Value: "true"},
					{Key: "vcs", Value: "git"},
					{Key: "vcs.revision", Value: "6f0e8394b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6"},
					{Key: "vcs.time", Value: "2026-12-01T09:20:00Z"},
					{Key: "vcs.modified", Value: "false"},
				},
			},
			want: "scuttle 1.2.3\n" +
				"module:   scuttle (devel)\n" +
				"revision: 6f0e8394b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6\n" +
				"time:     2026-12-01T09:20:00Z\n" +
				"modified: false\n" +
				"go:       go1.26.8\n" +
				"platform: windows/arm64\n",
		},
		{
			name: "go install of a tagged version, no VCS",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.0",
				Main:      debug.Module{Path: "scuttle", Version: "v1.2.3"},
			},
			want: "scuttle 1.2.3\n" +
				"module:   scuttle v1.2.3\n" +
				"revision: unknown\n" +
				"time:     unknown\n" +
				"modified: unknown\n" +
				"go:       go1.26.0\n" +
				"platform: windows/arm64\n",
		},
		{
			name: "modified tree",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.8",
				Main:      debug.Module{Path: "scuttle", Version: "(devel)"},
				Settings: []debug.BuildSetting{
					{Key: "vcs.revision", Value: "abc"},
					{Key: "vcs.time", Value: "2026-12-01T09:20:00Z"},
					{Key: "vcs.modified", Value: "true"},
				},
			},
			want: "scuttle 1.2.3\n" +
				"module:   scuttle (devel)\n" +
				"revision: abc\n" +
				"time:     2026-12-01T09:20:00Z\n" +
				"modified: true\n" +
				"go:       go1.26.8\n" +
				"platform: windows/arm64\n",
		},
		{
			name: "no build information",
			bi:   nil,
			want: "scuttle 1.2.3\n" +
				"module:   scuttle unknown\n" +
				"revision: unknown\n" +
				"time:     unknown\n" +
				"modified: unknown\n" +
				"go:       " + runtime.Version() + "\n" +
				"platform: windows/arm64\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeVersion(&b, "1.2.3", tt.bi, "windows/arm64"); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestVersionCommand runs "scuttle version" in this process: the build
// information is the test binary's, so only the lines that do not
// depend on how it was built are compared exactly.
func TestVersionCommand(t *testing.T) {
	stdout, stderr, code := runInProcess(t, nil, "", "version")
	if code != 0 || stderr != "" {
		t.Fatalf("exit status %d, stderr %q; want 0 and nothing", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	want := []string{
		"scuttle " + version,
		"module:   scuttle ",
		"revision: ",
		"time:     ",
		"modified: ",
		"go:       " + runtime.Version(),
		"platform: " + runtime.GOOS + "/" + runtime.GOARCH,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), stdout)
	}
	for i, w := range want {
		exact := i == 0 || i >= 5
		if exact && lines[i] != w || !exact && !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want %q", i+1, lines[i], w)
		}
	}
}
