//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/mdns/netlab"
	"scuttle/topology/chat"
)

// End-to-end tests of issue 12 with the built binary on netlab hosts: a
// restored backup continues its log, and a fork is contained.

// copyChatDB copies the database dir/name.db (its chat stopped) into a
// new directory, as a backup restored or a copy on a second laptop.
func copyChatDB(t *testing.T, dir, name string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(filepath.Join(dst, name+".db"), os.DirFS(filepath.Join(dir, name+".db"))); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dst, name+".db", "LOCK"))
	return dst
}

// forkedAt returns the forked field of log id in "scuttle logs --json" of
// the database db (0 if none), and the log's head.
func forkedAt(t *testing.T, db, id string) (forked, head uint64) {
	t.Helper()
	out := mustScuttle(t, "", "", "logs", "--json", "--db", db)
	for line := range strings.Lines(out) {
		var li struct {
			ID     string `json:"id"`
			Head   uint64 `json:"head"`
			Forked uint64 `json:"forked"`
		}
		if err := json.Unmarshal([]byte(line), &li); err != nil {
			t.Fatal(err)
		}
		if li.ID == id {
			return li.Forked, li.Head
		}
	}
	return 0, 0
}

func chatID(t *testing.T, db string) string {
	t.Helper()
	return strings.TrimSpace(mustScuttle(t, "", "", "id", "--db", db))
}

// TestChatRestoredBackup: alice restores an old backup and types at
// once, with bob online: her line gets the seq after what bob held, and
// nothing is forked.
func TestChatRestoredBackup(t *testing.T) {
	lab := netlab.New(t, 2)
	dirA, dirB := t.TempDir(), t.TempDir()
	b := labChat(t, lab.Hosts[1], dirB, "bob", "alice")
	a := labChat(t, lab.Hosts[0], dirA, "alice", "bob")
	a.say("one")
	b.expect("alice> one")
	a.stop(syscall.SIGTERM)
	backup := copyChatDB(t, dirA, "alice")
	a = labChat(t, lab.Hosts[0], dirA, "alice", "bob")
	a.say("two")
	a.say("three")
	b.expect("alice> two", "alice> three")
	a.stop(syscall.SIGTERM)

	r := labChat(t, lab.Hosts[0], backup, "alice", "bob")
	r.say("four")
	b.expect("alice> four")
	r.expect("alice> one", "alice> two", "alice> three", "alice> four")
	r.stop(syscall.SIGTERM)
	b.stop(syscall.SIGTERM)
	id := chatID(t, filepath.Join(backup, "alice.db"))
	for _, db := range []string{filepath.Join(backup, "alice.db"), filepath.Join(dirB, "bob.db")} {
		// Her encryption key (seq 1, published at her first start) and four lines.
		if forked, head := forkedAt(t, db, id); forked != 0 || head != 5 {
			t.Errorf("%s: alice's log head %d, forked %d; want 5, not forked", db, head, forked)
		}
	}
}

// TestChatForkContained: bob, carol, dave and erin in a line hold alice's
// log; a copy of her database that wrote something else at seq 3 (seq 1
// is her encryption key) joins at bob and types. Every host reports the fork once (the time until the
// last does is logged: a figure of issue 12), the copy's connection to
// bob is made once and kept, the other logs flow both ways, and logs
// --json shows forked on the peers holding either branch.
func TestChatForkContained(t *testing.T) {
	lab := netlab.New(t, 5)
	names := []string{"alice", "bob", "carol", "dave", "erin"}
	dirs := make([]string, 5)
	procs := make([]*chatProc, 5)
	for i := 1; i < 5; i++ {
		dirs[i] = t.TempDir()
		peers := []string{names[i-1]}
		if i < 4 {
			peers = append(peers, names[i+1])
		}
		procs[i] = labChat(t, lab.Hosts[i], dirs[i], append([]string{names[i]}, peers...)...)
	}
	dirs[0] = t.TempDir()
	a := labChat(t, lab.Hosts[0], dirs[0], "alice", "bob")
	a.say("one")
	for _, p := range procs[1:] {
		p.expect("alice> one")
	}
	a.stop(syscall.SIGTERM)
	copied := copyChatDB(t, dirs[0], "alice")
	a = labChat(t, lab.Hosts[0], dirs[0], "alice", "bob")
	a.say("two")
	for _, p := range procs[1:] {
		p.expect("alice> two")
	}
	a.stop(syscall.SIGTERM)
	procs[1].expect("info> lost connection to alice")

	c := labChat(t, lab.Hosts[0], copied, "alice") // no peer: nobody to catch up from
	c.say("other two")
	c.expect("alice> one", "alice> other two")
	c.stop(syscall.SIGTERM)
	for _, p := range procs[1:] {
		p.seen = nil
	}
	c = labChat(t, lab.Hosts[0], copied, "alice", "bob")
	c.expect("alice> one", "alice> other two", "info> direct connection to bob")
	procs[1].expect("info> direct connection to alice")
	start := time.Now()
	c.say("three") // the branches meet at bob
	// Seq 1 is alice's encryption key, published at her first start.
	fork := "info> alice's log forked at seq 3 (two different signed entries); it is frozen here"
	c.expect("alice> three", "info> "+chat.OwnForkWarning(3))
	for _, p := range procs[1:] {
		p.expect(fork)
	}
	t.Logf("figure: fork reported on all 5 hosts %v after the forking entry was typed", time.Since(start).Round(time.Millisecond))

	procs[1].say("bob after the fork")
	procs[4].say("erin after the fork")
	c.expect("bob> bob after the fork", "erin> erin after the fork")
	c.say("four")
	c.expect("alice> four")
	procs[1].say("bob again")
	c.expect("bob> bob again")
	for _, p := range procs[1:] {
		p.expect("bob> bob after the fork", "erin> erin after the fork", "bob> bob again")
	}
	c.stop(syscall.SIGTERM)
	procs[1].expect("info> lost connection to alice")
	for _, p := range procs[1:] {
		p.stop(syscall.SIGTERM)
	}
	for i, p := range procs[1:] {
		for _, l := range p.seen {
			if strings.HasPrefix(l, "alice> ") {
				t.Errorf("%s printed %q of the frozen branch", names[i+1], l)
			}
		}
	}
	if n := countLines(procs[1].seen, "info> direct connection to alice"); n != 1 {
		t.Errorf("bob connected to the copy %d times, want 1", n)
	}
	if n := countLines(procs[1].seen, "info> lost connection to alice"); n != 1 {
		t.Errorf("bob lost the copy %d times, want 1 (at its end)", n)
	}
	if n := countLines(c.seen, "info> direct connection to bob"); n != 1 {
		t.Errorf("the copy connected to bob %d times, want 1", n)
	}
	id := chatID(t, filepath.Join(copied, "alice.db"))
	dbs := []string{filepath.Join(copied, "alice.db"), filepath.Join(dirs[0], "alice.db")}
	for i := 1; i < 5; i++ {
		dbs = append(dbs, filepath.Join(dirs[i], names[i]+".db"))
	}
	for _, db := range dbs[:1] {
		if forked, _ := forkedAt(t, db, id); forked != 3 {
			t.Errorf("%s: forked %d, want 3", db, forked)
		}
	}
	for _, db := range dbs[2:] {
		if forked, head := forkedAt(t, db, id); forked != 3 || head != 3 {
			t.Errorf("%s: alice's log forked %d, head %d; want 3, 3 (frozen)", db, forked, head)
		}
	}
	bob, err := applog.Open(dbs[2], &applog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	p, err := bob.ForkProof(applog.ID(id))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("figure: the fork proof is %d bytes (a fork frame of %d bytes)", len(p), len(p)+3)
}

func countLines(lines []string, line string) int {
	n := 0
	for _, l := range lines {
		if l == line {
			n++
		}
	}
	return n
}
