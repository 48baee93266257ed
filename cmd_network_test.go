package main

import (
	"regexp"
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
