package applog

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// spamAndGood inserts two 10-entry logs (authorLog) into db: the one to
// block, returned with its records, and another.
func spamAndGood(t *testing.T, db *DB) (spam *DB, srecs [][]byte, good *DB) {
	t.Helper()
	spam, srecs = authorLog(t)
	good, grecs := authorLog(t)
	for _, x := range []struct {
		id   ID
		recs [][]byte
	}{{spam.ID(), srecs}, {good.ID(), grecs}} {
		if _, err := db.Insert(x.id, x.recs); err != nil {
			t.Fatal(err)
		}
	}
	return spam, srecs, good
}

// feedLogs returns the logs a new Feed of db shows, with how many
// entries each.
func feedLogs(t *testing.T, db *DB) map[ID]int {
	t.Helper()
	f := db.Feed()
	defer f.Close()
	return countByLog(drainFeed(t, f))
}

// countByLog counts the entries of each log in items.
func countByLog(items []feedItem) map[ID]int {
	m := map[ID]int{}
	for _, it := range items {
		m[it.log]++
	}
	return m
}

// TestBlockRunning: a writer that holds the database deletes a log
// blocked by another process itself: its directory is gone, Heads, Logs
// and the Feed do not show it, its records are refused, the other logs
// and the own one are intact, a reopen makes no files for it, and after
// Unblock it is inserted from seq 1 again. A reader that had the log
// loaded gets errors for it only.
func TestBlockRunning(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, dir, &Options{SegmentSize: 300})
	if _, err := db.AppendBatch([][]byte{[]byte("own 1"), []byte("own 2")}); err != nil {
		t.Fatal(err)
	}
	spam, srecs, good := spamAndGood(t, db)
	spamDir := filepath.Join(dir, string(spam.ID()))
	if segs, _ := listSegments(spamDir); len(segs) < 2 {
		t.Fatalf("the spam log has %d segments, want several (sealed ones mapped)", len(segs))
	}
	// a reader in another process, with the log loaded and its sealed
	// index mapped
	ro := openT(t, dir, &Options{ReadOnly: true})
	if got := readAll(t, ro, spam.ID()); len(got) != 10 {
		t.Fatalf("reader holds %d spam entries, want 10", len(got))
	}
	want := readAll(t, db, good.ID())

	if err := Block(dir, spam.ID()); err != nil {
		t.Fatal(err)
	}
	// the running writer's own watcher deletes it within a second or so
	deadline := time.Now().Add(4 * blockCheckEvery)
	for {
		if _, err := os.Stat(spamDir); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the blocked log's directory still exists after %v", 4*blockCheckEvery)
		}
		time.Sleep(blockCheckEvery / 20) // polling the file system: no event to await
	}
	db.applyBlocks() // nothing left to do: no error, no files made
	if _, err := os.Stat(spamDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after a second applyBlocks: %v, want the directory gone", err)
	}
	check := func(db *DB, when string) {
		t.Helper()
		if h, ok := db.Heads()[spam.ID()]; ok {
			t.Errorf("%s: Heads lists the blocked log at %d", when, h)
		}
		if h := db.Head(spam.ID()); h != 0 {
			t.Errorf("%s: Head of the blocked log %d, want 0", when, h)
		}
		logs, err := db.Logs()
		if err != nil {
			t.Fatal(err)
		}
		var got *LogInfo
		for i := range logs {
			if logs[i].ID == spam.ID() {
				got = &logs[i]
			}
		}
		if got == nil || !got.Blocked || got.Head != 0 || got.Bytes != 0 {
			t.Errorf("%s: Logs lists the blocked log as %+v, want blocked, empty", when, got)
		}
		if n, err := db.Insert(spam.ID(), srecs); !errors.Is(err, ErrBlocked) || n != 0 {
			t.Errorf("%s: Insert of the blocked log: %d, %v; want 0, ErrBlocked", when, n, err)
		}
		fm := feedLogs(t, db)
		if fm[spam.ID()] != 0 || fm[good.ID()] != 10 || fm[db.ID()] < 2 {
			t.Errorf("%s: feed shows %v, want no spam, 10 good, the own entries", when, fm)
		}
		if got := readAll(t, db, good.ID()); !slices.Equal(got, want) {
			t.Errorf("%s: the other log: %q, want %q", when, got, want)
		}
		if got := readAll(t, db, db.ID()); len(got) < 2 || got[0] != "own 1" || got[1] != "own 2" {
			t.Errorf("%s: own log %q", when, got)
		}
		verifyClean(t, db)
		if _, err := os.Stat(spamDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the blocked log's directory: %v, want it gone", when, err)
		}
	}
	check(db, "running")
	if _, err := db.Append([]byte("own 3")); err != nil {
		t.Fatal(err)
	}

	// the reader: errors for the deleted log are fine, not for the others
	ro.blocks.checked = time.Time{}
	if _, ok := ro.Heads()[spam.ID()]; ok {
		t.Errorf("reader's Heads lists the blocked log")
	}
	_ = ro.Iter(spam.ID(), 1).Close()
	if _, err := ro.Get(spam.ID(), 5); err == nil {
		t.Logf("reader still reads seq 5 of the deleted log (from a mapped index and an open file)")
	}
	if got := readAll(t, ro, good.ID()); !slices.Equal(got, want) {
		t.Errorf("reader's other log: %q, want %q", got, want)
	}
	if got := readAll(t, ro, db.ID()); len(got) != 3 {
		t.Errorf("reader's own log: %q, want 3 entries", got)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openT(t, dir, &Options{SegmentSize: 300})
	check(db, "reopened")

	if err := Unblock(dir, spam.ID()); err != nil {
		t.Fatal(err)
	}
	db.blocks.checked = time.Time{}
	if n, err := db.Insert(spam.ID(), srecs); err != nil || n != 10 {
		t.Fatalf("Insert after Unblock: %d, %v; want 10, nil", n, err)
	}
	if got := readAll(t, db, spam.ID()); len(got) != 10 || got[0] != "entry 1" {
		t.Errorf("unblocked log: %q, want 10 entries from 1", got)
	}
	if fm := feedLogs(t, db); fm[spam.ID()] != 10 {
		t.Errorf("feed after Unblock shows %d spam entries, want 10", fm[spam.ID()])
	}
	verifyClean(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openT(t, dir, &Options{SegmentSize: 300})
	if h := db.Head(spam.ID()); h != 10 {
		t.Errorf("unblocked log's head after reopen %d, want 10", h)
	}
	verifyClean(t, db)
}

// TestBlockRunningRace: a block applied while appends and inserts of
// other logs run loses none of theirs, and deletes the blocked log.
func TestBlockRunningRace(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, dir, &Options{SegmentSize: 300})
	spam, srecs := authorLog(t)
	if _, err := db.Insert(spam.ID(), srecs[:3]); err != nil {
		t.Fatal(err)
	}
	var others []*DB
	var orecs [][][]byte
	for range 3 {
		a, r := authorLog(t)
		others, orecs = append(others, a), append(orecs, r)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range others {
		wg.Go(func() {
			for _, run := range [][2]int{{0, 3}, {3, 6}, {6, 10}} { // the signed runs
				if _, err := db.Insert(others[i].ID(), orecs[i][run[0]:run[1]]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			if _, err := db.Append([]byte{byte(i)}); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		// the spam log keeps coming, refused once blocked
		for _, run := range [][2]int{{3, 6}, {6, 10}} {
			if _, err := db.Insert(spam.ID(), srecs[run[0]:run[1]]); err != nil && !errors.Is(err, ErrBlocked) {
				errs <- err
				return
			}
		}
	})
	if err := Block(dir, spam.ID()); err != nil {
		t.Fatal(err)
	}
	db.applyBlocks()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	db.applyBlocks() // what an insert let in before the block read
	if _, err := os.Stat(filepath.Join(dir, string(spam.ID()))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("blocked log's directory: %v, want it gone", err)
	}
	for i, a := range others {
		if h := db.Head(a.ID()); h != 10 {
			t.Errorf("log %d: head %d, want 10", i, h)
		}
	}
	if h := db.Head(db.ID()); h != 50 {
		t.Errorf("own head %d, want 50", h)
	}
	if h := db.Head(spam.ID()); h != 0 {
		t.Errorf("blocked head %d, want 0", h)
	}
	verifyClean(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openT(t, dir, &Options{SegmentSize: 300})
	verifyClean(t, db)
	if h := db.Head(db.ID()); h != 50 {
		t.Errorf("own head after reopen %d, want 50", h)
	}
}

// TestBlockRunningReopen: a writer whose only change was deleting a
// blocked log still closes clean, so the next Open is the lazy one; and
// a full recovery (no state file, as after a crash) makes no files for
// the blocked log either.
func TestBlockRunningReopen(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, dir, nil)
	spam, _, good := spamAndGood(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openT(t, dir, nil)
	if !db.st.lazy {
		t.Fatal("the reopen after a clean close was not the clean, lazy one")
	}
	if err := Block(dir, spam.ID()); err != nil {
		t.Fatal(err)
	}
	db.applyBlocks()
	spamDir := filepath.Join(dir, string(spam.ID()))
	if _, err := os.Stat(spamDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("blocked log's directory: %v, want it gone", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, when := range []string{"clean reopen", "full recovery"} {
		db = openT(t, dir, nil)
		if want := when == "clean reopen"; db.st.lazy != want {
			t.Errorf("%s: lazy open %v, want %v", when, db.st.lazy, want)
		}
		if h := db.Head(spam.ID()); h != 0 {
			t.Errorf("%s: blocked log's head %d, want 0", when, h)
		}
		if h := db.Head(good.ID()); h != 10 {
			t.Errorf("%s: other log's head %d, want 10", when, h)
		}
		verifyClean(t, db)
		if _, err := os.Stat(spamDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: blocked log's directory: %v, want it gone", when, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		// as after a crash: recovery reads every log from its files
		if err := os.Remove(filepath.Join(dir, fileState)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBlockRunningReaders: a Feed and an Iter of the writer that are in
// the middle of a log when a block deletes it are not broken by it. The
// Iter ends with an error matching ErrBlocked (not a CorruptError); the
// Feed skips the rest of that log and goes on with every other entry.
func TestBlockRunningReaders(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, dir, &Options{SegmentSize: 300})
	spam, _, good := spamAndGood(t, db)
	if _, err := db.Append([]byte("own 1")); err != nil {
		t.Fatal(err)
	}
	f := db.Feed()
	defer f.Close()
	for range 2 {
		if !f.Next() || f.Entry().Log != spam.ID() {
			t.Fatalf("the feed does not start with the spam log: %v", f.Err())
		}
	}
	it := db.Iter(spam.ID(), 1)
	defer it.Close()
	if !it.Next() {
		t.Fatalf("iter: %v", it.Err())
	}
	// and a Feed of a read-only process
	ro := openT(t, dir, &Options{ReadOnly: true})
	rf := ro.Feed()
	defer rf.Close()
	if !rf.Next() || rf.Entry().Log != spam.ID() {
		t.Fatalf("the reader's feed does not start with the spam log: %v", rf.Err())
	}

	if err := Block(dir, spam.ID()); err != nil {
		t.Fatal(err)
	}
	db.applyBlocks()
	if _, err := os.Stat(filepath.Join(dir, string(spam.ID()))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("blocked log's directory: %v, want it gone", err)
	}

	n := 1
	for it.Next() {
		n++
	}
	var ce *CorruptError
	if err := it.Err(); !errors.Is(err, ErrBlocked) || errors.As(err, &ce) {
		t.Errorf("iter over the deleted log: %d entries, then %v; want an error matching ErrBlocked only", n, err)
	}
	got := countByLog(drainFeed(t, f))
	if got[good.ID()] != 10 || got[db.ID()] != 1 {
		t.Errorf("feed after the block: %v, want all 10 of the other log and the own entry", got)
	}

	ro.blocks.checked = time.Time{} // it has read the block list since
	got = countByLog(drainFeed(t, rf))
	if got[good.ID()] != 10 || got[db.ID()] != 1 {
		t.Errorf("reader's feed after the block: %v, want all 10 of the other log and the own entry", got)
	}
}
