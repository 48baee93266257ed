//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"scuttle/applog"
	"scuttle/mdns/netlab"
)

// TestChatImpostor (issue 10, names bound to keys): bob leaves, and a
// host announcing bob.local with a key of its own takes his place. Alice
// refuses it with one line that says how to accept it; "scuttle trust",
// run while alice chats, makes her accept it without a restart; and the
// newcomer, whose "bob" is itself, prints the old bob's lines as
// bob~SHORT.
func TestChatImpostor(t *testing.T) {
	lab := netlab.New(t, 3)
	dirA, dirB, dirM := t.TempDir(), t.TempDir(), t.TempDir()
	bobID, mID := makeDB(t, filepath.Join(dirB, "bob.db")), makeDB(t, filepath.Join(dirM, "bob.db"))

	a := labChat(t, lab.Hosts[0], dirA, "alice", "bob")
	b := labChat(t, lab.Hosts[1], dirB, "bob", "alice")
	a.expect("info> direct connection to bob")
	b.say("the real bob")
	a.expect("bob> the real bob")
	b.stop(syscall.SIGTERM) // its goodbye frees bob.local
	a.expect("info> lost connection to bob")

	m := labChat(t, lab.Hosts[2], dirM, "bob", "alice")
	refused := fmt.Sprintf("info> refused bob at %s: key %s is not the bob you know (%s); to accept it: scuttle trust bob %s",
		lab.Hosts[2].IPv4(), mID.Short(), bobID.Short(), mID)
	a.expect(refused)

	out, stderr, code := scuttle(t, dirA, "", nil, "trust", "--db", filepath.Join(dirA, "alice.db"), "bob", string(mID))
	if want := fmt.Sprintf("bob is now %s (trusted), was %s (named since ", mID, bobID); code != 0 || !strings.HasPrefix(out, want) {
		t.Fatalf("scuttle trust while alice chats: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	a.expect("info> direct connection to bob")
	m.expect("bob~" + bobID.Short() + "> the real bob")
	m.say("the new bob")
	a.expect("bob> the new bob")
	a.stop(syscall.SIGTERM)
	m.stop(syscall.SIGTERM)
	n := 0
	for _, l := range a.seen {
		if l == refused {
			n++
		}
	}
	if n != 1 {
		t.Errorf("alice printed the refusal %d times, want once per run; output %q", n, a.seen)
	}
	a.quiet()
}

// makeDB creates the database in dir and returns its own log's ID.
func makeDB(t *testing.T, dir string) applog.ID {
	t.Helper()
	db, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.ID()
}
