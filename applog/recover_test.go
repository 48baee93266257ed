package applog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// abandon closes db as a crash would: no checkpoint, no final sync.
func (db *DB) abandon() {
	db.gc.drain()
	db.closeMu.Lock()
	db.closed.Store(true)
	db.closeFiles()
	db.closeMu.Unlock()
}

// markStateDirty rewrites the state header as a writer's first commit
// does (see markDirty).
func markStateDirty(t testing.TB, dir string) {
	path := filepath.Join(dir, fileState)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := decodeStateHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	h.clean = false
	hb := encodeStateHeader(h)
	copy(b, hb[:])
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tailFiles returns the paths of the own log's last segment and index.
func tailFiles(t testing.TB, dir string, id ID) (seg, idx string) {
	t.Helper()
	segs, err := listSegments(filepath.Join(dir, string(id)))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segments: %v", err)
	}
	s := segs[len(segs)-1]
	return s.seg, s.idx
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestRecovery(t *testing.T) {
	const segSize = 1024
	// 40 entries in batches of 4: signed seqs 4, 8, …, 40 (and segment ends).
	var prevSigned uint64 // the signed record before 40
	build := func(t *testing.T, clean bool) (string, ID) {
		dir := t.TempDir()
		db, err := Open(dir, &Options{SegmentSize: segSize})
		if err != nil {
			t.Fatal(err)
		}
		appendBatchesOf4(t, db)
		id := db.ID()
		it := db.Iter(id, 1)
		for it.Next() {
			if it.Signed() && it.Entry().Seq < 40 {
				prevSigned = it.Entry().Seq
			}
		}
		it.Close()
		if clean {
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			db.abandon()
		}
		return dir, id
	}
	tests := []struct {
		name    string
		clean   bool
		corrupt func(t *testing.T, dir string, id ID)
		head    uint64 // after reopen; 0: end of the previous segment, 1: the signed record before 40
		broken  bool   // writes to the own log refused, Verify reports
	}{
		{"crash, nothing torn", false, func(*testing.T, string, ID) {}, 40, false},
		{"clean close", true, func(*testing.T, string, ID) {}, 40, false},
		{"garbage after tail", false, func(t *testing.T, dir string, id ID) {
			seg, _ := tailFiles(t, dir, id)
			appendBytes(t, seg, []byte("garbage that is not a frame"))
		}, 40, false},
		{"torn last frame", false, func(t *testing.T, dir string, id ID) {
			seg, _ := tailFiles(t, dir, id)
			os.Truncate(seg, fileSize(t, seg)-10)
		}, 1, false},
		{"flipped byte in last batch", false, func(t *testing.T, dir string, id ID) {
			seg, _ := tailFiles(t, dir, id)
			flipByte(t, seg, fileSize(t, seg)-100)
		}, 1, false},
		{"unsigned records after head", false, func(t *testing.T, dir string, id ID) {
			seg, _ := tailFiles(t, dir, id)
			var prev [hashSize]byte
			b, _ := appendRecord(nil, 41, 0, &prev, []byte("unsigned"), nil)
			appendBytes(t, seg, b)
		}, 40, false},
		{"index zeroed", false, func(t *testing.T, dir string, id ID) {
			_, idx := tailFiles(t, dir, id)
			os.WriteFile(idx, make([]byte, fileSize(t, idx)), 0o644)
		}, 40, false},
		{"index truncated", false, func(t *testing.T, dir string, id ID) {
			_, idx := tailFiles(t, dir, id)
			os.Truncate(idx, 20)
		}, 40, false},
		{"index garbage tail", false, func(t *testing.T, dir string, id ID) {
			_, idx := tailFiles(t, dir, id)
			appendBytes(t, idx, []byte("1234567890abc"))
		}, 40, false},
		{"index missing", false, func(t *testing.T, dir string, id ID) {
			_, idx := tailFiles(t, dir, id)
			os.Remove(idx)
		}, 40, false},
		{"tail segment truncated to its header", false, func(t *testing.T, dir string, id ID) {
			seg, _ := tailFiles(t, dir, id)
			os.Truncate(seg, fileHeaderSize)
		}, 0, false}, // head = end of the previous segment, checked below
		{"new tail segment with torn header", false, func(t *testing.T, dir string, id ID) {
			os.WriteFile(filepath.Join(dir, string(id), segName(41)), []byte("SCT"), 0o644)
		}, 40, false},
		{"checkpoint damaged", true, func(t *testing.T, dir string, id ID) {
			flipByte(t, filepath.Join(dir, fileState), 20)
		}, 40, false},
		{"feed torn and lagging", false, func(t *testing.T, dir string, id ID) {
			f := filepath.Join(dir, fileFeed)
			os.Truncate(f, fileSize(t, f)-feedRecordSize-3)
		}, 40, false},
		{"feed missing", true, func(t *testing.T, dir string, id ID) {
			os.Remove(filepath.Join(dir, fileFeed))
		}, 40, false},
		{"bad record below the durable floor", true, func(t *testing.T, dir string, id ID) {
			seg, _ := tailFiles(t, dir, id)
			flipByte(t, seg, fileHeaderSize+20)
			appendBytes(t, seg, []byte("x")) // size differs: scan
			markStateDirty(t, dir)           // as a later session that crashed leaves it
		}, 40, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, id := build(t, tt.clean)
			segs, _ := listSegments(filepath.Join(dir, string(id)))
			tt.corrupt(t, dir, id)
			want := tt.head
			switch want {
			case 0:
				want = segs[len(segs)-1].base - 1
			case 1:
				want = prevSigned
			}
			db := openT(t, dir, &Options{SegmentSize: segSize})
			if h := db.Head(id); h != want {
				t.Fatalf("head: got %d, want %d", h, want)
			}
			var probs []error
			var repaired []error
			if err := db.Verify(func(err error) {
				if errors.Is(err, ErrRepaired) {
					repaired = append(repaired, err) // damage to derived files
				} else {
					probs = append(probs, err)
				}
			}); err != nil {
				t.Fatal(err)
			}
			if tt.name == "checkpoint damaged" && len(repaired) == 0 {
				t.Errorf("Verify: no repair reported for the damaged state header")
			}
			seq, err := db.Append([]byte("after"))
			if tt.broken {
				var c *CorruptError
				if len(probs) == 0 || !errors.As(probs[0], &c) || c.Log != id {
					t.Fatalf("Verify: got %v, want a CorruptError of log %s", probs, id)
				}
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Append on a corrupt log: got %v, want ErrCorrupt", err)
				}
				it := db.Iter(id, 1)
				for it.Next() {
				}
				if !errors.As(it.Err(), &c) || c.Seq == 0 || c.File == "" {
					t.Fatalf("read of a corrupt log: got %v, want a CorruptError naming seq and file", it.Err())
				}
				it.Close()
				return
			}
			if len(probs) > 0 {
				t.Fatalf("Verify: %v", probs)
			}
			if err != nil || seq != want+1 {
				t.Fatalf("Append after recovery: got %d, %v; want %d", seq, err, want+1)
			}
			got := readAll(t, db, id)
			if uint64(len(got)) != want+1 {
				t.Fatalf("read %d entries, want %d", len(got), want+1)
			}
			for i := range want {
				if w := fmt.Sprintf("entry %02d", i+1); got[i] != w {
					t.Fatalf("entry %d: got %q, want %q", i+1, got[i], w)
				}
			}
			f := db.Feed()
			fe := drainFeed(t, f)
			f.Close()
			if uint64(len(fe)) != want+1 {
				t.Fatalf("feed has %d entries, want %d", len(fe), want+1)
			}
			verifyNoProblems(t, db) // repairs of the damage done are reported
			// a second reopen (after a clean close) agrees
			db.Close()
			db2 := openT(t, dir, &Options{SegmentSize: segSize})
			if h := db2.Head(id); h != want+1 {
				t.Fatalf("head after second reopen: got %d, want %d", h, want+1)
			}
			verifyClean(t, db2)
		})
	}
}

func TestCorruptSealedSegment(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, dir, &Options{SegmentSize: 512})
	for i := range 30 {
		if _, err := db.Append(fmt.Appendf(nil, "entry %02d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	id := db.ID()
	db.Close()
	segs, _ := listSegments(filepath.Join(dir, string(id)))
	if len(segs) < 3 {
		t.Fatalf("want several segments, got %d", len(segs))
	}
	// flip a payload byte of the second record of the first segment
	flipByte(t, segs[0].seg, fileHeaderSize+int64(offPayload+len("entry 01")+sigSize)+offPayload+2)
	db = openT(t, dir, &Options{SegmentSize: 512})
	got := []uint64{}
	it := db.Iter(id, 1)
	for it.Next() {
		got = append(got, it.Entry().Seq)
	}
	var c *CorruptError
	if !errors.As(it.Err(), &c) || c.Seq != 2 || c.File != segs[0].seg || c.Offset <= fileHeaderSize {
		t.Fatalf("iter: got %v after %v, want a CorruptError at seq 2 in %s", it.Err(), got, segs[0].seg)
	}
	it.Close()
	if len(got) != 1 {
		t.Fatalf("iter returned %v before the error, want [1]", got)
	}
	if _, err := db.Get(id, 2); !errors.As(err, &c) || c.Seq != 2 {
		t.Fatalf("Get 2: got %v, want CorruptError", err)
	}
	if e, err := db.Get(id, 20); err != nil || string(e.Data) != "entry 20" {
		t.Fatalf("Get 20: got %v", err)
	}
	var probs []error
	db.Verify(func(err error) { probs = append(probs, err) })
	if len(probs) != 1 || !errors.As(probs[0], &c) || c.Seq != 2 {
		t.Fatalf("Verify: got %v, want one CorruptError at seq 2", probs)
	}
	if seq, err := db.Append([]byte("more")); err != nil || seq != 31 {
		t.Fatalf("Append: got %d, %v; want 31", seq, err)
	}
}

// TestFeedHintAfterCrash: a writer that never closes still leaves state
// files describing the feed, and the next open uses them and repairs the
// rest.
func TestFeedHintAfterCrash(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.fw.hintStep = 10 * feedRecordSize
	for i := range 35 {
		if _, err := db.Append(fmt.Appendf(nil, "e%d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	db.abandon()
	b, err := os.ReadFile(filepath.Join(dir, fileState))
	if err != nil {
		t.Fatalf("no state file written while running: %v", err)
	}
	ck, err := decodeStateHeader(b)
	if err != nil || ck.feedLen != fileHeaderSize+30*feedRecordSize || ck.clean {
		t.Fatalf("state: got %+v, %v; want the feed at 30 records, not clean", ck, err)
	}
	// lose the last feed records, as a power loss could
	os.Truncate(filepath.Join(dir, fileFeed), fileHeaderSize+32*feedRecordSize+5)
	db2 := openT(t, dir, nil)
	f := db2.Feed()
	got := drainFeed(t, f)
	f.Close()
	if len(got) != 35 {
		t.Fatalf("feed after crash: %d entries, want 35", len(got))
	}
	for i, e := range got {
		if e.seq != uint64(i+1) || e.txt != fmt.Sprintf("e%d", i+1) {
			t.Fatalf("feed entry %d: got %+v", i, e)
		}
	}
	verifyClean(t, db2)
}

// appendBatchesOf4 appends "entry 01" … "entry 40" to db's own log in
// batches of 4, so that seqs 4, 8, …, 40 are the signed ones.
func appendBatchesOf4(t *testing.T, db *DB) {
	t.Helper()
	for b := range 10 {
		var batch [][]byte
		for i := range 4 {
			batch = append(batch, fmt.Appendf(nil, "entry %02d", b*4+i+1))
		}
		if _, err := db.AppendBatch(batch); err != nil {
			t.Fatal(err)
		}
	}
}
