//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"scuttle/mdns/netlab"
)

// TestChatPrivateRelay: alice on LAN 1 and bob on LAN 2 meet only through
// a relay host with a foot on each (as TestChatRelay). alice's /msg to
// bob prints as "alice → bob> …" on both; the relay, which carries it,
// holds the sealed entry in its database ("scuttle read" shows it as
// sealed, without its words) and prints nothing of it.
func TestChatPrivateRelay(t *testing.T) {
	t.Parallel()
	ha, hr, hb, relayOn1, relayOn2 := relayLab(t, "carol")

	rdir := t.TempDir()
	relay := labChatArgs(t, hr, rdir, "carol", "carol")
	relay.stdin.Close() // headless
	a := labChatArgs(t, ha, t.TempDir(), "alice", "alice", relayOn1)
	bdir := t.TempDir()
	b := labChatArgs(t, hb, bdir, "bob", "bob", relayOn2)
	const published = "info> published your encryption key: from now on others can send you private messages (/msg) and rooms (/invite)"
	a.expect(published, "info> direct connection to carol")
	b.expect(published, "info> direct connection to carol")

	// Each public line comes after its log's key entry, and binds its
	// author's name where it arrives.
	b.say("hello from bob")
	b.expect("bob> hello from bob")
	a.expect("bob> hello from bob")
	a.say("hello from alice")
	a.expect("alice> hello from alice")
	b.expect("alice> hello from alice")

	a.say("/msg bob the secret words")
	a.expect("alice → bob> the secret words")
	b.expect("alice → bob> the secret words")
	a.say("public again")
	a.expect("alice> public again")
	b.expect("alice> public again")
	relay.expect("bob> hello from bob", "alice> hello from alice", "alice> public again") // nothing between

	// The figure: typed on alice's host to printed on bob's, through the
	// relay, a public line and a private one in turn.
	var public, private []time.Duration
	var relayed []string // what the relay prints: the public lines only
	for i := range 40 {
		relayed = append(relayed, fmt.Sprintf("alice> public %d", i))
		start := time.Now()
		a.say(fmt.Sprintf("public %d", i))
		b.expect(fmt.Sprintf("alice> public %d", i))
		public = append(public, time.Since(start))
		start = time.Now()
		a.say(fmt.Sprintf("/msg bob private %d", i))
		b.expect(fmt.Sprintf("alice → bob> private %d", i))
		private = append(private, time.Since(start))
		a.expect(fmt.Sprintf("alice> public %d", i), fmt.Sprintf("alice → bob> private %d", i))
	}
	t.Logf("figure: typed on alice's host to printed on bob's, through the relay: public p50 %v, private (/msg) p50 %v (40 each, in turn)", p50(public), p50(private))

	// Offline: bob is away when alice writes; alice leaves, and bob has it
	// from the relay.
	b.stop(syscall.SIGTERM)
	a.say("/msg bob written while you were away")
	a.expect("alice → bob> written while you were away")
	a.say("bye")
	a.expect("alice> bye")
	relay.expect(append(relayed, "alice> bye")...)
	a.stop(syscall.SIGTERM)
	b = labChatArgs(t, hb, bdir, "bob", "bob", relayOn2)
	b.await([]string{"info> direct connection to carol", "alice → bob> written while you were away", "alice> bye"})
	for _, p := range []*chatProc{a, b, relay} {
		p.stop(syscall.SIGTERM)
		p.quiet()
	}
	if slices.ContainsFunc(relay.seen, func(l string) bool { return strings.Contains(l, "secret") || strings.Contains(l, "→") }) {
		t.Errorf("the relay printed a private message: %q", relay.seen)
	}
	out := mustScuttle(t, "", "", "read", "--db", filepath.Join(rdir, "carol.db"))
	if strings.Contains(out, "secret") || strings.Contains(out, "private") || strings.Contains(out, "away") {
		t.Errorf("scuttle read on the relay shows the private words:\n%s", out)
	}
	if n := strings.Count(out, "sealed: true"); n != 42 {
		t.Errorf("scuttle read on the relay shows %d sealed entries, want 42:\n%s", n, out)
	}
	checkFilesLack(t, filepath.Join(rdir, "carol.db"), "public again", "secret", "private ", "away")
}

// checkFilesLack fails the test if a file under dir holds one of words,
// or if none holds control (a public line's words: the files are read as
// they are stored).
func checkFilesLack(t *testing.T, dir, control string, words ...string) {
	t.Helper()
	n, seen := 0, false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		seen = seen || bytes.Contains(b, []byte(control))
		for _, w := range words {
			if bytes.Contains(b, []byte(w)) {
				t.Errorf("%s holds %q", path, w)
			}
		}
		return nil
	})
	if err != nil || !seen {
		t.Fatalf("reading the files of %s: %d files, %q in none, %v", dir, n, control, err)
	}
}

// p50 returns the median of ds.
func p50(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2].Round(10 * time.Microsecond)
}

// TestChatPrivateRoomLab: alice, bob and carol on three hosts. alice
// makes #ops and gives its key to bob and carol: a line prints as "#ops
// alice> …" on all three. alice kicks carol: the lines written after
// print on alice's and bob's hosts, and carol's chat, its database files
// and "scuttle read --open" with her keys show none of them.
func TestChatPrivateRoomLab(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 3)
	cdir := t.TempDir()
	a := labChat(t, lab.Hosts[0], t.TempDir(), "alice", "bob", "carol")
	b := labChat(t, lab.Hosts[1], t.TempDir(), "bob", "alice", "carol")
	c := labChat(t, lab.Hosts[2], cdir, "carol", "alice", "bob")
	const published = "info> published your encryption key: from now on others can send you private messages (/msg) and rooms (/invite)"
	a.expect(published, "info> direct connection to bob", "info> direct connection to carol")
	b.expect(published, "info> direct connection to alice", "info> direct connection to carol")
	c.expect(published, "info> direct connection to alice", "info> direct connection to bob")
	for _, p := range []*chatProc{a, b, c} { // after each key entry
		p.say("hi from " + p.name[:strings.IndexByte(p.name, '@')])
	}
	for _, p := range []*chatProc{a, b, c} {
		p.expect("alice> hi from alice", "bob> hi from bob", "carol> hi from carol")
	}

	a.say("/join #ops")
	a.expect("info> made #ops: your lines go to it, sealed; /invite NAME gives NAME its key")
	a.say("/invite bob")
	a.expect("info> gave the key of #ops to bob: members now alice, bob")
	a.say("/invite carol")
	a.expect("info> gave the key of #ops to carol: members now alice, bob, carol")
	c.expect("info> #ops: members now alice, bob, carol (key from alice)")
	a.say("before the kick")
	for _, p := range []*chatProc{a, b, c} {
		p.expect("#ops alice> before the kick")
	}
	a.say("/kick carol")
	a.expect("info> #ops has a new key, given to alice, bob: carol reads nothing written from now on")
	b.expect("info> #ops: members now alice, bob (key from alice)")
	a.say("after the kick")
	b.say("/join #ops")
	b.say("bob after the kick")
	b.say("/join")
	b.say("public at last")
	a.expect("#ops alice> after the kick", "#ops bob> bob after the kick", "bob> public at last")
	b.expect("#ops alice> after the kick", "#ops bob> bob after the kick", "bob> public at last")
	c.expect("bob> public at last") // nothing between
	for _, p := range []*chatProc{a, b, c} {
		p.stop(syscall.SIGTERM)
		p.quiet()
	}
	if slices.ContainsFunc(c.seen, func(l string) bool { return strings.Contains(l, "after the kick") }) {
		t.Errorf("carol printed a line written after she was kicked: %q", c.seen)
	}
	db := filepath.Join(cdir, "carol.db")
	out := mustScuttle(t, "", "", "read", "--open", "--db", db)
	if !strings.Contains(out, "entry: 'before the kick'") || strings.Contains(out, "after the kick") {
		t.Errorf("scuttle read --open on carol's database: want the line before the kick and none after:\n%s", out)
	}
	checkFilesLack(t, db, "public at last", "after the kick")
}
