package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is the release string printed by "scuttle version"; the
// release build (.ci/release) sets it with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func versionCmd() *command {
	return &command{
		name:    "version",
		summary: "print scuttle's version, the source revision it was built from, and the Go toolchain and platform",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			return func(_ context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("takes no arguments")
				}
				bi, _ := debug.ReadBuildInfo()
				return writeVersion(st.stdout, version, bi, runtime.GOOS+"/"+runtime.GOARCH)
			}
		},
	}
}

// writeVersion prints the release string, then what the build recorded
// (bi, nil if the binary carries no build information): the module's
// version, the VCS revision and commit time, whether the working tree
// had uncommitted changes, and the Go version; then the platform.
//
//	scuttle 0.1.0
//	module:   scuttle (devel)
//	revision: 6f0e8394b1c2…
//	time:     2026-12-01T09:20:00Z
//	modified: false
//	go:       go1.26.8
//	platform: linux/amd64
//
// A build outside a VCS checkout, or with -buildvcs=false, records no
// revision: revision, time and modified then say "unknown".
func writeVersion(w io.Writer, release string, bi *debug.BuildInfo, platform string) error {
	module, modVersion, goVersion := "scuttle", "unknown", runtime.Version()
	rev, at, modified := "unknown", "unknown", "unknown"
	if bi != nil {
		if bi.Main.Path != "" {
			module = bi.Main.Path
		}
		if bi.Main.Version != "" {
			modVersion = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	_, err := fmt.Fprintf(w, "scuttle %s\nmodule:   %s %s\nrevision: %s\ntime:     %s\nmodified: %s\ngo:       %s\nplatform: %s\n",
		release, module, modVersion, rev, at, modified, goVersion, platform)
	return err
}
