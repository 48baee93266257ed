//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"scuttle/mdns/netlab"
	"scuttle/topology"
	"scuttle/topology/testkit"
)

// End-to-end tests of discovery (DNS-SD, topology/chat/service.go) between netlab
// hosts: scuttle peers, a NAME peer reached at its SRV port, and chat
// --discover without names.

// logID returns the log ID of the database a lab chat started in dir.
func logID(t *testing.T, dir, me string) string {
	t.Helper()
	return strings.TrimSpace(mustScuttle(t, "", "", "id", "--db", filepath.Join(dir, me+".db")))
}

// waitClaimed waits until a chat has claimed name (and its service): a
// resolve from another host answers.
func waitClaimed(t *testing.T, from *netlab.Host, name string) {
	t.Helper()
	if out, errs, code := scuttleIn(t, from, "resolve", "--timeout", "10s", name); code != 0 {
		t.Fatalf("resolve %s: status %d, %q, %q", name, code, out, errs)
	}
}

func TestPeers(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 3)
	ha, hb, hq := lab.Hosts[0], lab.Hosts[1], lab.Hosts[2]

	// Nobody yet: exit 0, nothing on stdout, a note on stderr.
	out, errs, code := scuttleIn(t, hq, "peers", "--timeout", "500ms")
	if code != 0 || out != "" || errs != "scuttle peers: no peers found in 500ms\n" {
		t.Errorf("peers with none: status %d, stdout %q, stderr %q", code, out, errs)
	}

	da, db := t.TempDir(), t.TempDir()
	a := labChatArgs(t, ha, da, "alice", "alice")
	b := labChatArgs(t, hb, db, "bob", "bob")
	waitClaimed(t, hq, "alice")
	waitClaimed(t, hq, "bob")
	ida, idb := logID(t, da, "alice"), logID(t, db, "bob")

	out, errs, code = scuttleIn(t, hq, "peers", "--json")
	if code != 0 || errs != "" {
		t.Fatalf("peers --json: status %d, stderr %q", code, errs)
	}
	var got []peerInfo
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var p peerInfo
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, p)
	}
	want := []peerInfo{
		{Name: "alice", Addrs: []string{"10.0.0.1", "fe80::1:1%lan0"}, Port: portOf("alice"), ID: ida, Version: strconv.Itoa(topology.ProtocolVersion), Network: "this"},
		{Name: "bob", Addrs: []string{"10.0.0.2", "fe80::1:2%lan0"}, Port: portOf("bob"), ID: idb, Version: strconv.Itoa(topology.ProtocolVersion), Network: "this"},
	}
	if !slices.EqualFunc(got, want, func(x, y peerInfo) bool { return fmt.Sprint(x) == fmt.Sprint(y) }) {
		t.Errorf("peers --json:\n%+v\nwant\n%+v", got, want)
	}

	// With --db: alice known, bob conflicting (bound to alice's id),
	// and in text.
	dq := filepath.Join(t.TempDir(), "q.db")
	for _, args := range [][]string{{"append", "--db", dq, "x"}, {"trust", "--db", dq, "alice", ida}, {"trust", "--db", dq, "bob", ida}} {
		mustScuttle(t, "", "", args...)
	}
	out, errs, code = scuttleIn(t, hq, "peers", "--db", dq)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	fields := func(l string) []string { return strings.Fields(l) }
	if code != 0 || errs != "" || len(lines) != 2 {
		t.Fatalf("peers --db: status %d, stderr %q, stdout:\n%s", code, errs, out)
	}
	wantA := []string{"alice", "10.0.0.1,fe80::1:1%lan0", "port", strconv.Itoa(int(portOf("alice"))), "id", ida[:8], "this", "network", "known"}
	wantB := []string{"bob", "10.0.0.2,fe80::1:2%lan0", "port", strconv.Itoa(int(portOf("bob"))), "id", idb[:8], "this", "network", "conflicting:", "the", "name", "is", "bound", "to", ida[:8]}
	if !slices.Equal(fields(lines[0]), wantA) || !slices.Equal(fields(lines[1]), wantB) {
		t.Errorf("peers --db:\n%s\nwant the fields\n%q\n%q", out, wantA, wantB)
	}

	// carol is in a private network: "other" to a peers without its
	// key, "this" (and alice "other") to one with it.
	key, err := topology.NewNetworkKey()
	if err != nil {
		t.Fatal(err)
	}
	dc := t.TempDir()
	c := labChatArgs(t, hq, dc, "carol", "--network", key, "carol")
	waitClaimed(t, ha, "carol")
	idc := logID(t, dc, "carol")
	networks := func(args ...string) map[string]string {
		t.Helper()
		out, errs, code := scuttleIn(t, hq, append([]string{"peers", "--json"}, args...)...)
		if code != 0 || errs != "" {
			t.Fatalf("peers %q: status %d, stderr %q", args, code, errs)
		}
		m := map[string]string{}
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var p peerInfo
			if err := json.Unmarshal([]byte(l), &p); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			m[p.Name] = p.Network
			if p.Name == "carol" && p.ID != idc {
				t.Errorf("carol's id %q, want %q", p.ID, idc)
			}
		}
		return m
	}
	if got, want := networks(), map[string]string{"alice": "this", "bob": "this", "carol": "other"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("peers without a key: %v, want %v", got, want)
	}
	if got, want := networks("--network", key), map[string]string{"alice": "other", "bob": "other", "carol": "this"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("peers --network KEY: %v, want %v", got, want)
	}
	a.quiet()
	b.quiet()
	c.quiet()
}

// TestChatSRVPort: bob listens on a port of his choosing, not his name's;
// alice names him and reaches him at the port of his SRV record.
func TestChatSRVPort(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 2)
	b := labChatArgs(t, lab.Hosts[1], t.TempDir(), "bob", "--port", "4000", "bob")
	a := labChatArgs(t, lab.Hosts[0], t.TempDir(), "alice", "alice", "bob")
	a.expect("info> direct connection to bob")
	b.expect("info> direct connection to alice")
	a.say("over SRV")
	b.expect("alice> over SRV")
	a.quiet()
	b.quiet()
}

// TestChatDiscover: three chats with --discover and no names connect to
// each other; one started later is found too. The time from a chat's
// start to its first connection is logged.
func TestChatDiscover(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 6)
	var chats []*chatProc
	for i, me := range []string{"alice", "bob", "carol"} {
		chats = append(chats, labChatArgs(t, lab.Hosts[i], t.TempDir(), me, "--discover", me))
	}
	for i, p := range chats {
		var want []string
		for j, me := range []string{"alice", "bob", "carol"} {
			if j != i {
				want = append(want, "info> direct connection to "+me)
			}
		}
		p.expectInfo(want...)
	}
	start := time.Now()
	dave := labChatArgs(t, lab.Hosts[3], t.TempDir(), "dave", "--discover", "dave")
	first := dave.expectPrefix("info> direct connection to ")
	t.Logf("--discover start to its first connection: %v (%s)", time.Since(start).Round(time.Millisecond), first)
	dave.expectInfo("info> direct connection to alice", "info> direct connection to bob", "info> direct connection to carol")
	dave.say("found you")
	for _, p := range chats {
		p.expect("dave> found you")
	}

	// Two chats of a private network find each other, and only each
	// other: the public ones are of another network tag.
	key, err := topology.NewNetworkKey()
	if err != nil {
		t.Fatal(err)
	}
	eve := labChatArgs(t, lab.Hosts[4], t.TempDir(), "eve", "--network", key, "--discover", "eve")
	frank := labChatArgs(t, lab.Hosts[5], t.TempDir(), "frank", "--network", key, "--discover", "frank")
	eve.expectInfo("info> direct connection to frank")
	frank.expectInfo("info> direct connection to eve")
	eve.say("private")
	frank.expect("eve> private")
	dave.say("public")
	for _, p := range chats {
		p.expect("dave> public")
	}
	// The public chats have seen eve's line never, and neither of the
	// two connected to a public one.
	for _, p := range append(chats, dave) {
		if slices.ContainsFunc(p.seen, func(l string) bool { return strings.Contains(l, "eve") || strings.Contains(l, "frank") }) {
			t.Errorf("%s saw the private network: %q", p.name, p.seen)
		}
	}
	for _, p := range []*chatProc{eve, frank} {
		if slices.ContainsFunc(p.seen, func(l string) bool {
			return strings.HasPrefix(l, "info> direct connection to ") && !strings.HasSuffix(l, " eve") && !strings.HasSuffix(l, " frank")
		}) {
			t.Errorf("%s connected to a public chat: %q", p.name, p.seen)
		}
	}
}

// expectPrefix waits for a line starting with prefix and returns it.
func (p *chatProc) expectPrefix(prefix string) string {
	p.t.Helper()
	return testkit.ExpectPrefix(p.t, p.name, p.lines, &p.seen, prefix)
}

// expectInfo waits for the lines want, in any order, counting those seen
// already and ignoring others.
func (p *chatProc) expectInfo(want ...string) {
	p.t.Helper()
	want = slices.DeleteFunc(slices.Clone(want), func(w string) bool { return slices.Contains(p.seen, w) })
	testkit.ExpectLines(p.t, p.name, p.lines, &p.seen, func(string) bool { return true }, want)
}

// TestDiscoverFigures measures, on 16 lab hosts each running chat
// --discover with no names, the time from starting them until every
// pair is connected, and each chat's RSS then. Opt-in:
//
//	SCUTTLE_DISCOVER_FIGURES=1 go test -run '^TestDiscoverFigures$' -v .
func TestDiscoverFigures(t *testing.T) {
	if os.Getenv("SCUTTLE_DISCOVER_FIGURES") != "1" {
		t.Skip("set SCUTTLE_DISCOVER_FIGURES=1 to measure")
	}
	const n = 16
	lab := netlab.New(t, n)
	start := time.Now()
	var chats []*chatProc
	for i := range n {
		me := fmt.Sprintf("p%02d", i)
		chats = append(chats, labChatArgs(t, lab.Hosts[i], t.TempDir(), me, "--discover", me))
	}
	var worst time.Duration
	for i, p := range chats {
		var want []string
		for j := range n {
			if j != i {
				want = append(want, fmt.Sprintf("info> direct connection to p%02d", j))
			}
		}
		p.expectInfo(want...)
		worst = max(worst, time.Since(start))
	}
	t.Logf("%d chats with --discover: every pair connected %v after the first started", n, worst.Round(time.Millisecond))
	var rss []int
	for _, p := range chats {
		rss = append(rss, vmKB(t, p.cmd.Process.Pid, "VmRSS"))
	}
	slices.Sort(rss)
	t.Logf("RSS of each chat (KiB, sorted): %v", rss)
}

func portOf(name string) uint16 { return topology.HashToPort(name) }
