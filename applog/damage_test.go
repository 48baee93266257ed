package applog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// damageDB builds a database of the own log (3 entries) and 4 inserted
// logs, one of them over several segments (so it has sealed indexes),
// closes it cleanly and returns its directory and every entry by log.
func damageDB(t testing.TB) (string, map[ID][]string) {
	dir := t.TempDir()
	opts := &Options{SegmentSize: 512}
	db := openT(t, dir, opts)
	for i := range 3 {
		if _, err := db.Append(fmt.Appendf(nil, "own %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	authors := makeBenchLogs(t, 4, 12, 3)
	for _, a := range authors {
		for _, run := range a.runs {
			if _, err := db.Insert(a.id, run); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := entriesByLog(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, want
}

// copyDir copies a database directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestDamagedMetadata flips one byte (in the header, the middle or the
// last byte) of each file derived from the segments, and opens the
// database read-only and as a writer: no log and no entry may be lost,
// in the logs' reads, Get, Heads or the feed.
func TestDamagedMetadata(t *testing.T) {
	base, want := damageDB(t)
	var someLog ID
	for id := range want {
		if len(want[id]) == 12 {
			someLog = id
			break
		}
	}
	segs, _ := listSegments(filepath.Join(base, string(someLog)))
	if len(segs) < 3 {
		t.Fatalf("log %s has %d segments, want several", someLog.Short(), len(segs))
	}
	files := map[string]string{
		"logs":         fileLogs,
		"feed":         fileFeed,
		"state":        fileState,
		"tail index":   filepath.Join(string(someLog), idxName(segs[len(segs)-1].base)),
		"sealed index": filepath.Join(string(someLog), idxName(segs[1].base)),
	}
	for name, rel := range files {
		size := fileSize(t, filepath.Join(base, rel))
		for _, at := range []struct {
			name string
			off  int64
		}{{"header", 3}, {"middle", size / 2}, {"last byte", size - 1}} {
			for _, ro := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/readonly=%v", name, at.name, ro), func(t *testing.T) {
					dir := copyDir(t, base)
					flipByte(t, filepath.Join(dir, rel), at.off)
					db := openT(t, dir, &Options{ReadOnly: ro, SegmentSize: 512})
					checkAll(t, db, want)
					if at.name == "middle" && (name == "logs" || name == "feed" || name == "state") {
						// Verify says what it found, and that it lost nothing
						checkRepaired(t, db)
					}
					if !ro {
						// and what the writer left is whole too
						if err := db.Close(); err != nil {
							t.Fatal(err)
						}
						checkAll(t, openT(t, dir, &Options{ReadOnly: true}), want)
					}
				})
			}
		}
	}

	// Damage to several log table records at once: every lost log is
	// found from its directory, after a clean Close and after a crash
	// (the state says not clean), read-only and by a writer, whose
	// repair leaves a database whose every later open (clean and lazy,
	// or read-only) finds everything too.
	n := int64(len(want))
	rec := func(i int64) int64 { return fileHeaderSize + i*logsRecordSize + 5 }
	tableDamage := []struct {
		name string
		hurt func(t *testing.T, path string)
	}{
		{"two records", func(t *testing.T, path string) {
			flipByte(t, path, rec(1))
			flipByte(t, path, rec(3))
		}},
		{"every record", func(t *testing.T, path string) {
			for i := range n {
				flipByte(t, path, rec(i))
			}
		}},
		{"last two records cut", func(t *testing.T, path string) {
			if err := os.Truncate(path, fileHeaderSize+(n-2)*logsRecordSize); err != nil {
				t.Fatal(err)
			}
		}},
		{"middle record and the last cut", func(t *testing.T, path string) {
			flipByte(t, path, rec(n/2))
			if err := os.Truncate(path, fileHeaderSize+(n-1)*logsRecordSize); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, d := range tableDamage {
		for _, crashed := range []bool{false, true} {
			for _, ro := range []bool{true, false} {
				t.Run(fmt.Sprintf("logs/%s/crashed=%v/readonly=%v", d.name, crashed, ro), func(t *testing.T) {
					dir := copyDir(t, base)
					d.hurt(t, filepath.Join(dir, fileLogs))
					if crashed {
						markStateDirty(t, dir)
					}
					db := openT(t, dir, &Options{ReadOnly: ro, SegmentSize: 512})
					checkAll(t, db, want)
					checkRepaired(t, db)
					if ro {
						return
					}
					if err := db.Close(); err != nil {
						t.Fatal(err)
					}
					for _, ro := range []bool{true, false} {
						db := openT(t, dir, &Options{ReadOnly: ro, SegmentSize: 512})
						checkAll(t, db, want)
						verifyClean(t, db)
						if err := db.Close(); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// checkRepaired checks that Verify reports damage repaired (ErrRepaired)
// and no problem.
func checkRepaired(t *testing.T, db *DB) {
	t.Helper()
	repaired := 0
	err := db.Verify(func(err error) {
		if !errors.Is(err, ErrRepaired) {
			t.Errorf("Verify: %v", err)
		}
		repaired++
	})
	if err != nil {
		t.Fatal(err)
	}
	if repaired == 0 {
		t.Error("Verify reported no repair")
	}
}

// checkAll checks that db holds exactly the entries of want, through
// Heads, Iter, Get and the feed.
func checkAll(t testing.TB, db *DB, want map[ID][]string) {
	t.Helper()
	heads := db.Heads()
	if len(heads) != len(want) {
		t.Errorf("Heads: %d logs, want %d", len(heads), len(want))
	}
	for id, w := range want {
		if h := heads[id]; h != uint64(len(w)) {
			t.Errorf("log %s: head %d, want %d", id.Short(), h, len(w))
		}
		if got := readAll(t, db, id); !slices.Equal(got, w) {
			t.Errorf("log %s: read %q, want %q", id.Short(), got, w)
		}
		for seq := range uint64(len(w)) {
			e, err := db.Get(id, seq+1)
			if err != nil || string(e.Data) != w[seq] {
				t.Errorf("log %s: Get(%d) = %q, %v; want %q", id.Short(), seq+1, e.Data, err, w[seq])
			}
		}
	}
	f := db.Feed()
	defer f.Close()
	got := map[ID][]string{}
	for f.Next() {
		e := f.Entry()
		if n := uint64(len(got[e.Log])); e.Seq != n+1 {
			t.Fatalf("feed: log %s seq %d after %d", e.Log.Short(), e.Seq, n)
		}
		got[e.Log] = append(got[e.Log], string(e.Data))
	}
	if err := f.Err(); err != nil {
		t.Fatalf("feed: %v", err)
	}
	for id, w := range want {
		if !slices.Equal(got[id], w) {
			t.Errorf("feed: log %s has %d entries, want %d", id.Short(), len(got[id]), len(w))
		}
	}
}

// TestOldFormatUpgrade: the exercise-10 fixture (state file format 1)
// opens read-only in place; the first writer Open recovers it as after a
// crash and its Close writes format 2, after which a writer Open is
// clean and lazy and every entry is still there.
func TestOldFormatUpgrade(t *testing.T) {
	dir := copyDir(t, filepath.Join("..", "testdata", "exercise10.db"))
	if b, err := os.ReadFile(filepath.Join(dir, fileState)); err != nil || len(b) < 8 || b[7] != 1 {
		t.Fatalf("fixture state: %v, want format 1", err)
	}
	ro := openT(t, dir, &Options{ReadOnly: true})
	want := map[ID][]string{}
	for id := range ro.Heads() {
		want[id] = readAll(t, ro, id)
	}
	if len(want) == 0 {
		t.Fatal("fixture holds no log")
	}
	ro.Close()
	w := openT(t, dir, nil)
	if w.st.lazy {
		t.Fatal("writer open of a format-1 state was lazy")
	}
	checkAll(t, w, want)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, fileState))
	if h, err := decodeStateHeader(b); err != nil || !h.clean {
		t.Fatalf("state after the writer's Close: %+v, %v; want format 2, clean", h, err)
	}
	w = openT(t, dir, nil)
	if !w.st.lazy {
		t.Fatal("writer open after the upgrade is not lazy")
	}
	checkAll(t, w, want)
	checkAll(t, openT(t, dir, &Options{ReadOnly: true}), want)
}

// TestReaderLostLogsThenWriter: a reader of a table cut short gives the
// lost logs ordinals of its own; when a writer then re-adds them and
// adds a new log, the reader drops its own ordinals, reads the writer's
// and still holds every log and entry, the new one too.
func TestReaderLostLogsThenWriter(t *testing.T) {
	base, want := damageDB(t)
	dir := copyDir(t, base)
	n := int64(len(want))
	if err := os.Truncate(filepath.Join(dir, fileLogs), fileHeaderSize+(n-2)*logsRecordSize); err != nil {
		t.Fatal(err)
	}
	r := openT(t, dir, &Options{ReadOnly: true, SegmentSize: 512})
	checkAll(t, r, want)
	if r.tab.virtual != 2 {
		t.Fatalf("reader has %d ordinals of its own, want 2", r.tab.virtual)
	}
	w := openT(t, dir, &Options{SegmentSize: 512})
	peer := makeBenchLogs(t, 1, 5, 5)[0]
	for _, run := range peer.runs {
		if _, err := w.Insert(peer.id, run); err != nil {
			t.Fatal(err)
		}
	}
	want[peer.id] = readAll(t, w, peer.id)
	if len(want[peer.id]) != 5 {
		t.Fatalf("new log holds %d entries, want 5", len(want[peer.id]))
	}
	checkAll(t, w, want)
	checkAll(t, r, want)
	if r.tab.virtual != 0 {
		t.Fatalf("reader kept %d ordinals of its own after the writer listed the logs", r.tab.virtual)
	}
}

// TestCutShortReadOnly: a log table cut to less than its header, or to
// a damaged header alone, or a feed cut short after a clean Close,
// hides no entry from a reader: it finds the logs from their
// directories, and its feed (whose ordinals then name other logs, or
// which names fewer heads than the state) still shows every entry once.
func TestCutShortReadOnly(t *testing.T) {
	base, want := damageDB(t)
	feed, err := os.ReadFile(filepath.Join(base, fileFeed))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, file string
		data       []byte
	}{
		{"logs/one byte", fileLogs, []byte("0")},
		{"logs/a damaged header only", fileLogs, bytes.Repeat([]byte("0"), fileHeaderSize)},
		{"feed/half", fileFeed, feed[:len(feed)/2]},
		{"feed/last byte", fileFeed, feed[:len(feed)-1]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, base)
			if err := os.WriteFile(filepath.Join(dir, tt.file), tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			checkAll(t, openT(t, dir, &Options{ReadOnly: true}), want)
		})
	}
}
