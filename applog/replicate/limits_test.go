package replicate

import (
	"testing"

	"scuttle/applog"
)

// TestBlockAndLimit: bob blocks carol's log and holds at most 3 logs,
// his own and alice's already; alice holds carol's, dave's and erin's.
// Over one connection bob gets the rest of alice's and one more, refuses carol's (blocked) and the one past the
// limit, keeps the connection, and forwards nothing of carol to a third
// peer. Unblocked, carol's log comes back on the next connection.
func TestBlockAndLimit(t *testing.T) {
	checkLeaks(t)
	alice := openDB(t, t.TempDir())
	appendEntries(t, alice, 20, 5)
	carol, dave, erin := openDB(t, t.TempDir()), openDB(t, t.TempDir()), openDB(t, t.TempDir())
	for _, db := range []*applog.DB{carol, dave, erin} {
		appendEntries(t, db, 10, 5)
		copyLog(t, alice, db, db.ID(), 10)
	}
	bobDir := t.TempDir()
	bob, err := applog.Open(bobDir, &applog.Options{MaxLogs: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	if err := applog.Block(bobDir, carol.ID()); err != nil {
		t.Fatal(err)
	}
	copyLog(t, bob, alice, alice.ID(), 15) // bob holds his own and alice's
	l := connect(t, FromDB(alice), FromDB(bob), true)
	waitHeads(t, bob, map[applog.ID]uint64{alice.ID(): 20}, "alice's log at bob")
	waitUntil(t, FromDB(bob), "a third log at bob", func() bool { return bob.Head(dave.ID())+bob.Head(erin.ID()) == 10 })
	appendEntries(t, alice, 5, 5) // live, after the refusals
	waitHeads(t, bob, map[applog.ID]uint64{alice.ID(): 25}, "alice's live entries at bob")
	l.noResult(t)
	if h := bob.Head(carol.ID()); h != 0 {
		t.Errorf("bob holds %d of the blocked log", h)
	}
	if n := len(bob.Heads()); n != 3 {
		t.Errorf("bob holds %d logs, want 3 (the limit)", n)
	}

	frank := openDB(t, t.TempDir())
	connect(t, FromDB(bob), FromDB(frank), true)
	waitHeads(t, frank, map[applog.ID]uint64{alice.ID(): 25}, "alice's log at frank")
	if h := frank.Head(carol.ID()); h != 0 {
		t.Errorf("bob forwarded the blocked log: frank holds %d", h)
	}
	l.stop(t)

	// unblocked, and room made: carol's log comes back
	bob.Close()
	if err := applog.Unblock(bobDir, carol.ID()); err != nil {
		t.Fatal(err)
	}
	bob2, err := applog.Open(bobDir, &applog.Options{MaxLogs: 5}) // room for carol's and the one refused before
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob2.Close() })
	connect(t, FromDB(alice), FromDB(bob2), true)
	waitHeads(t, bob2, map[applog.ID]uint64{carol.ID(): 10}, "carol's log at bob after unblock")
}
