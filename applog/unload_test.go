package applog

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// unloadDB fills a writer bounded to max loaded logs with logs of 12
// entries over several segments, 5 logs to a round, and the own log
// between rounds; it returns every entry by log.
func unloadDB(t *testing.T, db *DB, logs int) map[ID][]string {
	t.Helper()
	authors := makeBenchLogs(t, logs, 12, 3)
	for i := 0; i < len(authors); i += 5 {
		var runs []*Run
		for _, a := range authors[i:min(i+5, len(authors))] {
			for _, run := range a.runs {
				runs = append(runs, db.Check(a.id, run))
			}
		}
		if _, err := db.InsertRuns(runs...); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Append(fmt.Appendf(nil, "own %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return entriesByLog(t, db)
}

// TestUnloadIdle: a writer bounded to 8 loaded logs holds 60, keeps at
// most the bound and one round's worth loaded, and loses nothing: every
// entry reads back while it runs, after a clean reopen (lazy, from the
// entries the unloads wrote), and after a crash (a copy taken while it
// runs), and Verify finds nothing.
func TestUnloadIdle(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{SegmentSize: 512, MaxLoaded: 8}
	db := openT(t, dir, opts)
	want := unloadDB(t, db, 60)
	if len(want) != 61 || len(want[db.ID()]) != 12 {
		t.Fatalf("want %d logs, own %d entries", len(want), len(want[db.ID()]))
	}
	if _, err := db.Append([]byte("after")); err != nil { // a round: unloads what reading loaded
		t.Fatal(err)
	}
	want[db.ID()] = append(want[db.ID()], "after")
	if n := db.tab.nLoaded.Load(); n > 8+5 {
		t.Errorf("%d logs loaded, want at most 13", n)
	}
	checkAll(t, db, want)
	verifyClean(t, db)
	crashed := copyDir(t, dir) // as a crash would leave it

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, crashed} {
		db := openT(t, d, opts)
		if d == dir && !db.st.lazy {
			t.Errorf("reopen after a clean close was not lazy")
		}
		checkAll(t, db, want)
		verifyClean(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		checkAll(t, openT(t, d, &Options{ReadOnly: true}), want)
	}
}

// TestUnloadIterFollows: an Iter that holds a log's state when the log
// is unloaded, loaded again and appended to, goes on to the new entries.
func TestUnloadIterFollows(t *testing.T) {
	db := openT(t, t.TempDir(), &Options{MaxLoaded: 2})
	x, xrecs := authorLog(t)
	if _, err := db.Insert(x.ID(), xrecs[:3]); err != nil {
		t.Fatal(err)
	}
	it := db.Iter(x.ID(), 1)
	defer it.Close()
	for range 3 {
		if !it.Next() {
			t.Fatalf("iter: %v", it.Err())
		}
	}
	held := it.l
	for i := 0; !held.unloaded.Load(); i++ {
		if i == 50 {
			t.Fatal("log x not unloaded after 50 other logs")
		}
		a, recs := authorLog(t)
		if _, err := db.Insert(a.ID(), recs); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Insert(x.ID(), xrecs[3:]); err != nil {
		t.Fatal(err)
	}
	var got []string
	for it.Next() {
		got = append(got, string(it.Entry().Data))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"entry 4", "entry 5", "entry 6", "entry 7", "entry 8", "entry 9", "entry 10"}; !slices.Equal(got, want) {
		t.Errorf("iter after the unload: %q, want %q", got, want)
	}
}

// TestUnloadReader: a read-only DB bounded to 4 loaded logs reads a
// database of 40 through Heads, Iter, Get and the feed, holding at most
// the bound (and the own log).
func TestUnloadReader(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, dir, &Options{SegmentSize: 512})
	want := unloadDB(t, db, 40)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// a reader of a dirty state too: entries are floors, tails scanned
	dirty := copyDir(t, dir)
	if err := os.Remove(filepath.Join(dirty, fileState)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, dirty} {
		ro := openT(t, d, &Options{ReadOnly: true, MaxLoaded: 4})
		checkAll(t, ro, want)
		if n := ro.tab.nLoaded.Load(); n > 5 {
			t.Errorf("reader holds %d logs, want at most 5", n)
		}
	}
}
