package applog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"scuttle/topology/testkit"
)

// openT opens a writer database in dir with small segments and closes it
// at the end of the test.
func openT(t testing.TB, dir string, opts *Options) *DB {
	t.Helper()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// readAll returns the payloads of log id from seq 1, failing the test on
// an iteration error.
func readAll(t testing.TB, db *DB, id ID) []string {
	t.Helper()
	it := db.Iter(id, 1)
	defer it.Close()
	var out []string
	for it.Next() {
		e := it.Entry()
		if e.Seq != uint64(len(out)+1) {
			t.Fatalf("iter: got seq %d, want %d", e.Seq, len(out)+1)
		}
		out = append(out, string(e.Data))
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iter: %v", err)
	}
	return out
}

// entriesByLog returns the payloads of every log db holds, by log.
func entriesByLog(t testing.TB, db *DB) map[ID][]string {
	t.Helper()
	m := map[ID][]string{}
	for id := range db.Heads() {
		m[id] = readAll(t, db, id)
	}
	return m
}

// verifyNoProblems fails the test if Verify reports anything but
// repaired damage to derived files (ErrRepaired).
func verifyNoProblems(t testing.TB, db *DB) {
	t.Helper()
	if err := db.Verify(func(err error) {
		if !errors.Is(err, ErrRepaired) {
			t.Errorf("Verify: %v", err)
		}
	}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

// verifyClean fails the test if Verify reports anything.
func verifyClean(t testing.TB, db *DB) {
	t.Helper()
	var probs []error
	if err := db.Verify(func(err error) { probs = append(probs, err) }); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(probs) > 0 {
		t.Fatalf("Verify reported %d problems, first: %v", len(probs), probs[0])
	}
}

func TestAppendReadReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs.db")
	db, err := Open(dir, &Options{SegmentSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 100 {
		s := fmt.Sprintf("entry %d", i)
		seq, err := db.Append([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, s)
		if seq != uint64(i+1) {
			t.Fatalf("Append: got seq %d, want %d", seq, i+1)
		}
	}
	batch := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	first, err := db.AppendBatch(batch)
	if err != nil || first != 101 {
		t.Fatalf("AppendBatch: got %d, %v; want 101, nil", first, err)
	}
	want = append(want, "a", "b", "c")
	id := db.ID()
	if got := readAll(t, db, id); !equalStrings(got, want) {
		t.Fatalf("read: got %d entries, want %d", len(got), len(want))
	}
	verifyClean(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, ro := range []bool{false, true} {
		db2 := openT(t, dir, &Options{SegmentSize: 1024, ReadOnly: ro})
		if db2.ID() != id {
			t.Fatalf("ID after reopen: got %s, want %s", db2.ID(), id)
		}
		if h := db2.Head(id); h != 103 {
			t.Fatalf("Head after reopen (ro=%v): got %d, want 103", ro, h)
		}
		if got := readAll(t, db2, id); !equalStrings(got, want) {
			t.Fatalf("read after reopen: got %v", got)
		}
		e, err := db2.Get(id, 50)
		if err != nil || string(e.Data) != "entry 49" || e.Seq != 50 {
			t.Fatalf("Get 50: got %+v, %v", e, err)
		}
		if _, err := db2.Get(id, 104); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get 104: got %v, want ErrNotFound", err)
		}
		verifyClean(t, db2)
		db2.Close()
	}
	db3 := openT(t, dir, &Options{SegmentSize: 1024})
	if seq, err := db3.Append([]byte("more")); err != nil || seq != 104 {
		t.Fatalf("Append after reopen: got %d, %v; want 104", seq, err)
	}
}

func TestReadOnlyMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope"), &Options{ReadOnly: true})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want fs.ErrNotExist", err)
	}
	dir := t.TempDir()
	_, err = Open(dir, &Options{ReadOnly: true})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty dir: got %v, want fs.ErrNotExist", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("read-only open created %d files", len(ents))
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCloseDuringAppends(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	const G = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := map[uint64]bool{}
	for range G {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seq, err := db.Append([]byte("x"))
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ok[seq] = true
				mu.Unlock()
			}
		}()
	}
	for db.Head(db.ID()) < 20 {
		<-db.Changed()
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := db.Get(db.ID(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: got %v, want ErrClosed", err)
	}
	db2 := openT(t, dir, nil)
	h := db2.Head(db2.ID())
	for s := range ok {
		if s > h {
			t.Fatalf("acknowledged seq %d beyond head %d", s, h)
		}
	}
	if uint64(len(ok)) != h {
		t.Fatalf("%d appends acknowledged, head %d", len(ok), h)
	}
	verifyClean(t, db2)
}

// TestNoGoroutineLeak: every goroutine the store starts (writes, seals)
// ends within its round; nothing is left after Close.
func TestNoGoroutineLeak(t *testing.T) {
	testkit.CheckLeaks(t)
	db, err := Open(t.TempDir(), &Options{SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				db.AppendBatch([][]byte{make([]byte, 300), make([]byte, 300)})
			}
		}()
	}
	wg.Wait()
	f := db.Feed()
	for f.Next() {
	}
	f.Close()
	db.Close()
}

// TestLogTable checks lookups by key and by ordinal, before and after
// the key map is built, and holes.
func TestLogTable(t *testing.T) {
	tb := &logTable{}
	key := func(i int) []byte {
		k := make([]byte, 32)
		k[0], k[1] = byte(i), byte(i>>8)+1
		return k
	}
	for i := range 50 {
		if ord := tb.add(key(i)); ord != uint32(i) {
			t.Fatalf("add %d: ordinal %d", i, ord)
		}
	}
	tb.keys = append(tb.keys, make([]byte, 32)...) // a hole at 50
	tb.holes++
	for i := 51; i < 100; i++ {
		if i == 75 {
			if _, ok := tb.lookup(key(0)); !ok { // builds the map
				t.Fatal("lookup of key 0 failed")
			}
		}
		tb.add(key(i))
	}
	if tb.len() != 100 {
		t.Fatalf("len %d, want 100", tb.len())
	}
	for i := range 100 {
		ord, ok := tb.lookup(key(i))
		k, kok := tb.key(uint32(i))
		if i == 50 {
			if ok || kok {
				t.Errorf("hole 50: lookup %d %v, key %v", ord, ok, kok)
			}
			continue
		}
		if !ok || ord != uint32(i) || !kok || !bytes.Equal(k, key(i)) {
			t.Errorf("log %d: lookup %d %v, key %x %v", i, ord, ok, k, kok)
		}
	}
	if _, ok := tb.key(100); ok {
		t.Error("key of ordinal 100 of 100")
	}
}
