package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"scuttle/topology"
)

// TestNetworkCmd: each run prints a fresh key in the documented form,
// which chat's parser takes.
func TestNetworkCmd(t *testing.T) {
	form := regexp.MustCompile(`^[a-z2-7]{8}(-[a-z2-7]{8}){6}\n$`)
	seen := map[string]bool{}
	for range 3 {
		out, stderr, code := runInProcess(t, nil, "", "network")
		if code != 0 || stderr != "" || !form.MatchString(out) {
			t.Fatalf("scuttle network: exit %d, stdout %q, stderr %q; want 0 and one key", code, out, stderr)
		}
		if seen[out] {
			t.Fatalf("scuttle network printed %q twice", out)
		}
		seen[out] = true
		if k, err := topology.ParseNetworkKey(out); err != nil || len(k) != topology.NetworkKeySize {
			t.Errorf("topology.ParseNetworkKey(%q) = %d bytes, %v", out, len(k), err)
		}
	}
	if _, stderr, code := runInProcess(t, nil, "", "network", "x"); code != 2 || firstLine(stderr) != "scuttle network: takes no arguments" {
		t.Errorf("scuttle network x: exit %d, stderr %q", code, stderr)
	}
}

// TestNetworkFile: chat and peers read the network key from
// --network-file or SCUTTLE_NETWORK_FILE, so that it need not be in
// their argv (/proc/PID/cmdline, which every local user can read), and
// refuse a key file that other users may read, as ssh refuses such a
// private key. Each row fails before any chat starts or any packet is
// sent.
func TestNetworkFile(t *testing.T) {
	dir := t.TempDir()
	key := strings.TrimSpace(networkKeyText(t))
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good", key+"\n", 0o600)
	loose := file("loose", key+"\n", 0o644)
	group := file("group", key+"\n", 0o640)
	short := file("short", "abc\n", 0o600)
	big := file("big", strings.Repeat(" ", maxNetworkFile+1), 0o600)
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	chat := []string{"chat", "--iface", "lo", "--db", t.TempDir()}
	peers := []string{"peers", "--iface", "lo"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string // the first line of stderr
	}{
		{"chat: others may read", append(chat, "--network-file", loose, "alice"), nil, 1,
			"scuttle chat: --network-file " + loose + ": other users may read or change it (-rw-r--r--); fix: chmod 600 " + loose},
		{"peers: the group may read", append(peers, "--network-file", group), nil, 1,
			"scuttle peers: --network-file " + group + ": other users may read or change it (-rw-r-----); fix: chmod 600 " + group},
		{"peers: environment, others may read", peers, map[string]string{"SCUTTLE_NETWORK_FILE": loose}, 1,
			"scuttle peers: SCUTTLE_NETWORK_FILE " + loose + ": other users may read or change it (-rw-r--r--); fix: chmod 600 " + loose},
		{"chat: missing", append(chat, "--network-file", missing, "alice"), nil, 1,
			"scuttle chat: --network-file " + missing + ": no such file or directory"},
		{"chat: a directory", append(chat, "--network-file", sub, "alice"), nil, 1,
			"scuttle chat: --network-file " + sub + ": not a regular file (drwx------)"},
		{"chat: too big", append(chat, "--network-file", big, "alice"), nil, 1,
			"scuttle chat: --network-file " + big + ": more than 4096 bytes: not a network key file"},
		{"chat: not a key", append(chat, "--network-file", short, "alice"), nil, 2,
			"scuttle chat: --network-file " + short + ": network key: 3 characters (not counting dashes), want 56"},
		{"chat: both flags", append(chat, "--network", key, "--network-file", good, "alice"), nil, 2,
			"scuttle chat: --network and --network-file: give one key, not two"},
		{"peers: both variables", peers, map[string]string{"SCUTTLE_NETWORK": key, "SCUTTLE_NETWORK_FILE": good}, 2,
			"scuttle peers: SCUTTLE_NETWORK and SCUTTLE_NETWORK_FILE are both set: give one key, not two"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && strings.Contains(tt.want, "other users") {
				t.Skip("no Unix permission bits on Windows")
			}
			_, stderr, code := runInProcess(t, tt.env, "", tt.args...)
			if code != tt.code || firstLine(stderr) != tt.want {
				t.Errorf("scuttle %s:\n got exit %d, %q\nwant exit %d, %q", strings.Join(tt.args, " "), code, firstLine(stderr), tt.code, tt.want)
			}
			if strings.Contains(stderr, key) {
				t.Errorf("stderr shows the key:\n%s", stderr)
			}
		})
	}
}

// TestNetworkFlagSources: which source networkFlag takes the key from
// when it is given once or at two levels: a flag beats the environment.
func TestNetworkFlagSources(t *testing.T) {
	dir := t.TempDir()
	keyA, keyB := strings.TrimSpace(networkKeyText(t)), strings.TrimSpace(networkKeyText(t))
	fileA, fileB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for p, k := range map[string]string{fileA: keyA, fileB: keyB} {
		if err := os.WriteFile(p, []byte("\n "+k+"\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		flag, file string
		env        map[string]string
		want       string // "": no key
	}{
		{"nothing", "", "", nil, ""},
		{"--network-file", "", fileA, nil, keyA},
		{"SCUTTLE_NETWORK_FILE", "", "", map[string]string{"SCUTTLE_NETWORK_FILE": fileA}, keyA},
		{"--network-file beats SCUTTLE_NETWORK", "", fileA, map[string]string{"SCUTTLE_NETWORK": keyB}, keyA},
		{"--network beats SCUTTLE_NETWORK_FILE", keyA, "", map[string]string{"SCUTTLE_NETWORK_FILE": fileB}, keyA},
		{"--network-file beats SCUTTLE_NETWORK_FILE", "", fileA, map[string]string{"SCUTTLE_NETWORK_FILE": fileB}, keyA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &state{getenv: func(k string) string { return tt.env[k] }}
			got, err := networkFlag(st, tt.flag, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var want []byte
			if tt.want != "" {
				if want, err = topology.ParseNetworkKey(tt.want); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("networkFlag(%q, %q) = %x, want %x", tt.flag, tt.file, got, want)
			}
		})
	}
}

// networkKeyText returns a fresh key as scuttle network prints it.
func networkKeyText(t *testing.T) string {
	t.Helper()
	k, err := topology.NewNetworkKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
