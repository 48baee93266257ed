package replicate

import (
	"bytes"
	"errors"
	"testing"

	"scuttle/applog"
	"scuttle/topology/testkit"
)

// TestBlockAndLimit: bob blocks carol's log and holds at most 3 logs,
// his own and alice's already; alice holds carol's, dave's and erin's.
// Over one connection bob gets the rest of alice's and one more, refuses carol's (blocked) and the one past the
// limit, keeps the connection, and forwards nothing of carol to a third
// peer. Unblocked, carol's log comes back on the next connection.
func TestBlockAndLimit(t *testing.T) {
	testkit.CheckLeaks(t)
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

// TestBlockedWhileSent: a log that the store deletes while the sender
// reads it (a block applied by a running writer) ends neither session.
// The peer gets it up to the last signed record read, every other log
// goes on flowing both ways, and the log is not offered again.
func TestBlockedWhileSent(t *testing.T) {
	testkit.CheckLeaks(t)
	a, b := newFake(), newFake()
	x, y, z := testID("x"), testID("y"), testID("z")
	a.appendN(x, 100, 10)
	a.appendN(y, 20, 5)
	b.appendN(z, 20, 5)
	a.deleteAt = map[applog.ID]uint64{x: 35} // read up to 34; 30 is signed
	l := connect(t, a, b, true)
	waitUntil(t, b, "y at b", func() bool { return b.Head(y) == 20 })
	waitUntil(t, a, "z at a", func() bool { return a.Head(z) == 20 })
	a.appendN(y, 5, 5)
	b.appendN(z, 5, 5)
	waitUntil(t, b, "y's live entries at b", func() bool { return b.Head(y) == 25 })
	waitUntil(t, a, "z's live entries at a", func() bool { return a.Head(z) == 25 })
	l.noResult(t)
	if got, want := b.snapshot()[x], a.snapshot()[x][:30]; equalLogs(map[applog.ID][][]byte{x: got}, map[applog.ID][][]byte{x: want}) != "" {
		t.Errorf("b holds %d records of the deleted log, want exactly its first 30 (the last signed run read)", len(got))
	}
}

// TestBlockedInOpenRun: a log deleted while the peer holds part of an
// unsigned run of it (one run longer than a frame) cannot be finished:
// only then does the session end, with an error that says so, and the
// peer stores nothing of the partial run.
func TestBlockedInOpenRun(t *testing.T) {
	testkit.CheckLeaks(t)
	a, b := newFake(), newFake()
	x := testID("x")
	var run [][]byte // one signed run of 1,000 records, 200 KB: several frames
	for seq := uint64(1); seq <= 1000; seq++ {
		var prev []byte
		if seq > 1 {
			prev = run[seq-2]
		}
		run = append(run, fakeRecord(seq, prev, bytes.Repeat([]byte{'r'}, 200), seq == 1000))
	}
	a.logs[x] = run
	a.deleteAt = map[applog.ID]uint64{x: 900}
	l := connect(t, a, b, false)
	err := recvErr(t, l.errs[0], "the sender's Serve")
	l.errs[0] = nil
	if !errors.Is(err, applog.ErrBlocked) {
		t.Fatalf("sender: %v, want an error wrapping applog.ErrBlocked", err)
	}
	l.stop(t)
	if h := b.Head(x); h != 0 {
		t.Errorf("b stored %d records of a run that was never signed", h)
	}
}
