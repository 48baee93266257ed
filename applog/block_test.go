package applog

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestBlock: a blocked log is refused, left out of Heads, listed by
// Logs, deleted at the next writer Open (the other logs and the own one
// intact), and after Unblock it comes back from seq 1.
func TestBlock(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, dir, nil)
	db.Append([]byte("own"))
	spam, srecs := authorLog(t)
	good, grecs := authorLog(t)
	for _, x := range []struct {
		id   ID
		recs [][]byte
	}{{spam.ID(), srecs[:6]}, {good.ID(), grecs}} {
		if _, err := db.Insert(x.id, x.recs); err != nil {
			t.Fatal(err)
		}
	}
	if err := Block(dir, spam.ID()); err != nil {
		t.Fatal(err)
	}
	// a writer re-reads the list within blockCheckEvery
	deadline := time.Now().Add(2 * blockCheckEvery)
	for !db.Blocked(spam.ID()) {
		if time.Now().After(deadline) {
			t.Fatalf("the block did not apply within %v", 2*blockCheckEvery)
		}
		time.Sleep(blockCheckEvery / 10) // polling a file the test wrote: no event
	}
	if n, err := db.Insert(spam.ID(), srecs[6:]); !errors.Is(err, ErrBlocked) || n != 0 {
		t.Fatalf("Insert of a blocked log: %d, %v; want 0, ErrBlocked", n, err)
	}
	if !db.Refuses(spam.ID()) || db.Refuses(good.ID()) {
		t.Errorf("Refuses: spam %v, good %v; want true, false", db.Refuses(spam.ID()), db.Refuses(good.ID()))
	}
	if _, ok := db.Heads()[spam.ID()]; ok {
		t.Errorf("Heads lists the blocked log")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openT(t, dir, nil)
	if h := db.Head(spam.ID()); h != 0 {
		t.Errorf("blocked log's head after reopen %d, want 0 (deleted)", h)
	}
	if got := readAll(t, db, good.ID()); len(got) != 10 {
		t.Errorf("the other log holds %d entries, want 10", len(got))
	}
	if got := readAll(t, db, db.ID()); !slices.Equal(got, []string{"own"}) {
		t.Errorf("own log %q", got)
	}
	logs, _ := db.Logs()
	found := false
	for _, li := range logs {
		if li.ID == spam.ID() {
			found = li.Blocked && li.Head == 0
		}
	}
	if !found {
		t.Errorf("Logs does not list the blocked log as blocked and empty: %+v", logs)
	}
	verifyClean(t, db)
	if err := Unblock(dir, spam.ID()); err != nil {
		t.Fatal(err)
	}
	db.blocks.checked = time.Time{} // read the list at once
	if n, err := db.Insert(spam.ID(), srecs); err != nil || n != 10 {
		t.Fatalf("Insert after Unblock: %d, %v; want 10, nil", n, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openT(t, dir, nil)
	if h := db.Head(spam.ID()); h != 10 {
		t.Errorf("unblocked log's head after reopen %d, want 10", h)
	}
	verifyClean(t, db)
}

// TestLimits: beyond MaxLogs the records of new logs are refused and
// the logs held still grow; below the free-space floor every log but
// the own one is refused, and appends go on.
func TestLimits(t *testing.T) {
	var avail uint64 = 100 << 30
	db := openT(t, t.TempDir(), &Options{MaxLogs: 2, FreeSpace: func(string) (uint64, uint64, error) { return avail, 200 << 30, nil }})
	a, arecs := authorLog(t)
	b, brecs := authorLog(t)
	if _, err := db.Insert(a.ID(), arecs[:3]); err != nil {
		t.Fatal(err)
	}
	n, err := db.InsertRuns(db.Check(b.ID(), brecs), db.Check(a.ID(), arecs[3:6]))
	if !errors.Is(err, ErrLogLimit) || n != 3 {
		t.Fatalf("InsertRuns of a third log and more of a second: %d, %v; want 3, ErrLogLimit", n, err)
	}
	if db.Head(b.ID()) != 0 || db.Head(a.ID()) != 6 || !db.Refuses(b.ID()) {
		t.Errorf("heads %d, %d; want 0 and 6", db.Head(b.ID()), db.Head(a.ID()))
	}

	avail = 1 << 30 // 1 GiB of 200: below 5 % (10 GiB) but the floor is 1 GiB
	db.lim.checked = time.Time{}
	if _, err := db.Insert(a.ID(), arecs[6:]); err != nil {
		t.Fatalf("Insert at the floor: %v", err)
	}
	avail = 1<<30 - 1
	db.lim.checked = time.Time{}
	if _, err := db.Insert(a.ID(), arecs); !errors.Is(err, ErrLowSpace) {
		t.Fatalf("Insert below the floor: %v, want ErrLowSpace", err)
	}
	if _, err := db.Append([]byte("own goes on")); err != nil {
		t.Fatalf("Append below the floor: %v", err)
	}
	if got := FreeSpaceFloor(10 << 30); got != 512<<20 {
		t.Errorf("FreeSpaceFloor(10 GiB) = %d, want 512 MiB", got)
	}
}
