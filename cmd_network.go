package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"scuttle/topology"
)

// network: make the key of a private network (topology/netkey.go), and
// read the key that chat and peers were given: on the command line, or
// from a file, so that it is not in the process's argv
// (/proc/PID/cmdline, ps), which every local user can read.

func networkCmd() *command {
	return &command{
		name:    "network",
		summary: "print a new random network key: chats started with --network KEY talk only to each other",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			return func(_ context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("takes no arguments")
				}
				key, err := topology.NewNetworkKey()
				if err != nil {
					return fmt.Errorf("making a key: %w", err)
				}
				_, err = fmt.Fprintln(st.stdout, key)
				return err
			}
		},
	}
}

// networkFileUsage is the help of --network-file, on every command
// that takes --network.
const networkFileUsage = "read the network key from `file` (mode 0600), so that it is not in the command line that other users see in ps (environment: SCUTTLE_NETWORK_FILE)"

// maxNetworkFile bounds what --network-file reads: a key is 62
// characters, the rest is room for a comment-free file's whitespace.
const maxNetworkFile = 4096

// networkFlag returns the network key given by --network (flagValue) or
// --network-file (fileFlag), else by SCUTTLE_NETWORK or
// SCUTTLE_NETWORK_FILE, else nil (the public network). Two sources at
// one level (both flags, or both variables) and a key that does not
// parse are usage errors naming where the key came from; a key file
// that cannot be read, or that other users may read or change, is an
// error naming the file.
func networkFlag(st *state, flagValue, fileFlag string) ([]byte, error) {
	key, from, file := flagValue, "--network", fileFlag
	switch {
	case key != "" && file != "":
		return nil, usagef("--network and --network-file: give one key, not two")
	case key == "" && file == "":
		key, from, file = st.getenv("SCUTTLE_NETWORK"), "SCUTTLE_NETWORK", st.getenv("SCUTTLE_NETWORK_FILE")
		if key != "" && file != "" {
			return nil, usagef("SCUTTLE_NETWORK and SCUTTLE_NETWORK_FILE are both set: give one key, not two")
		}
	}
	if file != "" {
		from = "--network-file " + file
		if fileFlag == "" {
			from = "SCUTTLE_NETWORK_FILE " + file
		}
		b, err := readNetworkFile(file)
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err // from names the file already
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		key = string(b)
	}
	if key == "" {
		return nil, nil
	}
	k, err := topology.ParseNetworkKey(key)
	if err != nil {
		return nil, usagef("%s: %v", from, err)
	}
	return k, nil
}

// readNetworkFile reads a key file as ssh reads a private key: it must
// be a regular file that only its owner may read or change (on Unix;
// Windows keeps no such bits, and the file's ACL decides).
func readNetworkFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("not a regular file (%v)", fi.Mode())
	case runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("other users may read or change it (%v); fix: chmod 600 %s", fi.Mode(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxNetworkFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxNetworkFile {
		return nil, fmt.Errorf("more than %d bytes: not a network key file", maxNetworkFile)
	}
	return b, nil
}
