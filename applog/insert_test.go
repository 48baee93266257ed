package applog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// records returns copies of the encoded records of log id from seq 1.
func records(t testing.TB, db *DB, id ID) [][]byte {
	t.Helper()
	it := db.Iter(id, 1)
	defer it.Close()
	var out [][]byte
	for it.Next() {
		out = append(out, append([]byte(nil), it.Record()...))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fixCRC recomputes the CRC of a frame after a deliberate change.
func fixCRC(f []byte) []byte {
	binary.LittleEndian.PutUint32(f[4:], crc32.Update(crc32.Update(0, castagnoli, f[:4]), castagnoli, f[frameHeaderSize:]))
	return f
}

func cloneRecs(recs [][]byte) [][]byte {
	out := make([][]byte, len(recs))
	for i, r := range recs {
		out[i] = append([]byte(nil), r...)
	}
	return out
}

// authorLog makes a database with a 10-entry own log appended in batches
// of 3, 3, 4 (signed seqs: 3, 6, 10) and returns it with its records.
func authorLog(t *testing.T) (*DB, [][]byte) {
	src := openT(t, t.TempDir(), nil)
	for _, n := range []int{3, 3, 4} {
		var b [][]byte
		for range n {
			b = append(b, fmt.Appendf(nil, "entry %d", src.Head(src.ID())+uint64(len(b))+1))
		}
		if _, err := src.AppendBatch(b); err != nil {
			t.Fatal(err)
		}
	}
	recs := records(t, src, src.ID())
	if len(recs) != 10 {
		t.Fatalf("source has %d records, want 10", len(recs))
	}
	for i, r := range recs {
		rec, err := decodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		want := i == 2 || i == 5 || i == 9
		if rec.signed() != want {
			t.Fatalf("record %d signed=%v, want %v", i+1, rec.signed(), want)
		}
	}
	return src, recs
}

func TestInsertReplicates(t *testing.T) {
	src, recs := authorLog(t)
	dst := openT(t, t.TempDir(), nil)
	id := src.ID()
	n, err := dst.Insert(id, recs[:6])
	if err != nil || n != 6 {
		t.Fatalf("Insert 1..6: got %d, %v; want 6, nil", n, err)
	}
	n, err = dst.Insert(id, recs[3:]) // overlaps 4..6
	if err != nil || n != 4 {
		t.Fatalf("Insert 4..10: got %d, %v; want 4, nil", n, err)
	}
	n, err = dst.Insert(id, recs)
	if err != nil || n != 0 {
		t.Fatalf("Insert again: got %d, %v; want 0, nil", n, err)
	}
	if got := records(t, dst, id); len(got) != 10 || string(got[9]) != string(recs[9]) {
		t.Fatalf("replica differs: %d records", len(got))
	}
	logs, err := dst.Logs()
	if err != nil || len(logs) != 2 || logs[0].ID != dst.ID() || !logs[0].Own || logs[1].ID != id || logs[1].Own || logs[1].Head != 10 {
		t.Fatalf("Logs: got %+v, %v", logs, err)
	}
	verifyClean(t, dst)
	// and the replica survives a reopen
	dir := dst.dir
	dst.Close()
	dst2 := openT(t, dir, nil)
	if h := dst2.Head(id); h != 10 {
		t.Fatalf("head after reopen: got %d, want 10", h)
	}
	verifyClean(t, dst2)
}

func TestInsertTamper(t *testing.T) {
	src, recs := authorLog(t)
	id := src.ID()
	// a fork: the same key signs a different history
	forkDir := t.TempDir()
	key, err := os.ReadFile(filepath.Join(src.dir, fileKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(forkDir, fileKey), key, 0o600); err != nil {
		t.Fatal(err)
	}
	fork := openT(t, forkDir, nil)
	if fork.ID() != id {
		t.Fatalf("fork id %s, want %s", fork.ID(), id)
	}
	if _, err := fork.AppendBatch([][]byte{[]byte("entry 1"), []byte("entry 2"), []byte("other")}); err != nil {
		t.Fatal(err)
	}
	forkRecs := records(t, fork, id)
	other := openT(t, t.TempDir(), nil)

	tests := []struct {
		name   string
		prior  int // records of recs inserted first
		id     ID
		recs   func() [][]byte
		want   error
		wantN  int
		wantHd uint64 // head after
	}{
		{"flipped payload byte", 0, id, func() [][]byte { r := cloneRecs(recs); r[1][offPayload] ^= 1; return r }, ErrCorrupt, 0, 0},
		{"flipped payload byte, crc fixed", 0, id, func() [][]byte { r := cloneRecs(recs); r[1][offPayload] ^= 1; fixCRC(r[1]); return r[:3] }, ErrChain, 0, 0},
		{"flipped payload of signed record, crc fixed", 0, id, func() [][]byte { r := cloneRecs(recs); r[2][offPayload] ^= 1; fixCRC(r[2]); return r[:3] }, ErrSignature, 0, 0},
		{"flipped signature byte", 0, id, func() [][]byte { r := cloneRecs(recs); r[2][len(r[2])-1] ^= 1; fixCRC(r[2]); return r[:3] }, ErrSignature, 0, 0},
		{"reordered", 0, id, func() [][]byte { r := cloneRecs(recs[:3]); r[0], r[1] = r[1], r[0]; return r }, ErrGap, 0, 0},
		{"gap inside", 0, id, func() [][]byte { r := cloneRecs(recs); return append(r[:1:1], r[2:]...) }, ErrGap, 0, 0},
		{"gap after head", 3, id, func() [][]byte { return cloneRecs(recs[4:]) }, ErrGap, 0, 3},
		{"not from seq 1", 0, id, func() [][]byte { return cloneRecs(recs[3:6]) }, ErrGap, 0, 0},
		{"unsigned tail", 0, id, func() [][]byte { return cloneRecs(recs[:2]) }, ErrUnsigned, 0, 0},
		{"unsigned tail after a signed run", 0, id, func() [][]byte { return cloneRecs(recs[:5]) }, ErrUnsigned, 3, 3},
		{"wrong log", 0, other.ID(), func() [][]byte { return cloneRecs(recs[:3]) }, ErrSignature, 0, 0},
		{"fork", 3, id, func() [][]byte { return cloneRecs(forkRecs) }, ErrFork, 0, 3},
		{"fork past head", 3, id, func() [][]byte { return cloneRecs(forkRecs[1:]) }, ErrFork, 0, 3},
		{"trailing bytes", 0, id, func() [][]byte { r := cloneRecs(recs[:3]); r[2] = append(r[2], 0); return r }, ErrCorrupt, 0, 0},
		{"truncated", 0, id, func() [][]byte { r := cloneRecs(recs[:3]); r[2] = r[2][:len(r[2])-1]; return r }, ErrCorrupt, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := openT(t, t.TempDir(), nil)
			if tt.prior > 0 {
				if n, err := dst.Insert(id, recs[:tt.prior]); err != nil || n != tt.prior {
					t.Fatalf("prior insert: %d, %v", n, err)
				}
			}
			n, err := dst.Insert(tt.id, tt.recs())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Insert: got error %v, want %v", err, tt.want)
			}
			if n != tt.wantN {
				t.Fatalf("Insert: got n %d, want %d", n, tt.wantN)
			}
			if h := dst.Head(tt.id); h != tt.wantHd {
				t.Fatalf("head: got %d, want %d", h, tt.wantHd)
			}
			logs, _ := dst.Logs()
			if tt.wantHd == 0 && len(logs) != 1 {
				t.Fatalf("a rejected insert created a log: %+v", logs)
			}
			verifyClean(t, dst)
		})
	}
}

// TestInsertLongRun checks runs long enough for checkPool.check to split its
// work across goroutines: a bad record in any chunk stops the insert
// at the authenticated prefix before it.
func TestInsertLongRun(t *testing.T) {
	logs := makeBenchLogs(t, 1, 3000, 1000) // signed at 1000, 2000, 3000
	id, recs := logs[0].id, logs[0].runs[0]
	if len(recs) != 3000 {
		t.Fatalf("got a run of %d records, want 3000", len(recs))
	}
	tests := []struct {
		name   string
		tamper func(r [][]byte) [][]byte
		want   error
		wantN  int
	}{
		{"intact", func(r [][]byte) [][]byte { return r }, nil, 3000},
		{"crc broken at 1500", func(r [][]byte) [][]byte { r[1499][offPayload] ^= 1; return r }, ErrCorrupt, 1000},
		{"payload changed at 2500, crc fixed", func(r [][]byte) [][]byte { r[2499][offPayload] ^= 1; fixCRC(r[2499]); return r }, ErrChain, 2000},
		{"last signature broken", func(r [][]byte) [][]byte { r[2999][len(r[2999])-1] ^= 1; fixCRC(r[2999]); return r }, ErrSignature, 2000},
		{"record 1700 missing", func(r [][]byte) [][]byte { return append(r[:1699:1699], r[1700:]...) }, ErrGap, 1000},
		{"unsigned tail", func(r [][]byte) [][]byte { return r[:2999] }, ErrUnsigned, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := openT(t, t.TempDir(), nil)
			n, err := dst.Insert(id, tt.tamper(cloneRecs(recs)))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Insert: got error %v, want %v", err, tt.want)
			}
			if n != tt.wantN {
				t.Fatalf("Insert: got n %d, want %d", n, tt.wantN)
			}
			if h := dst.Head(id); h != uint64(tt.wantN) {
				t.Fatalf("head: got %d, want %d", h, tt.wantN)
			}
			verifyClean(t, dst)
		})
	}
}

// TestInsertNewLogsConcurrently inserts many logs new to the database
// from several goroutines, so that rounds add several logs at once, and
// checks that all of them, their feed and their files survive a reopen.
func TestInsertNewLogsConcurrently(t *testing.T) {
	logs := makeBenchLogs(t, 40, 30, 10)
	dir := t.TempDir()
	db := openT(t, dir, nil)
	insertAll(t, db, logs, 8)
	check := func(db *DB) {
		t.Helper()
		heads := db.Heads()
		if len(heads) != len(logs)+1 {
			t.Fatalf("got %d logs, want %d", len(heads), len(logs)+1)
		}
		for _, l := range logs {
			if heads[l.id] != 30 {
				t.Fatalf("log %s: head %d, want 30", l.id.Short(), heads[l.id])
			}
		}
		f := db.Feed()
		defer f.Close()
		n := 0
		for f.Next() {
			n++
		}
		if f.Err() != nil || n != len(logs)*30 {
			t.Fatalf("feed: got %d entries (%v), want %d", n, f.Err(), len(logs)*30)
		}
		verifyClean(t, db)
	}
	check(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openT(t, dir, nil)
	check(db)
	// and without a clean Close: more new logs, then a crash
	more := makeBenchLogs(t, 10, 30, 10)
	insertAll(t, db, more, 4)
	db.abandon()
	logs = append(logs, more...)
	check(openT(t, dir, nil))
}

// TestInsertAdoptsOrphan: a crash can leave a log's directory without
// its table record (the table sync did not complete). Inserting the log
// again adopts the files: empty ones as prepared, and ones holding
// records, which are checked against the inserted ones.
func TestInsertAdoptsOrphan(t *testing.T) {
	src, recs := authorLog(t)
	id := src.ID()
	t.Run("prepared files", func(t *testing.T) {
		dst := openT(t, t.TempDir(), nil)
		dst.lo.prepare(id)
		dst.lo.prepare(id) // again: leaves the files as they are
		if n, err := dst.Insert(id, recs); err != nil || n != 10 {
			t.Fatalf("Insert: got %d, %v; want 10, nil", n, err)
		}
		verifyClean(t, dst)
	})
	t.Run("files with records", func(t *testing.T) {
		dir := t.TempDir()
		dst := openT(t, dir, nil)
		seg, idx := tailFiles(t, src.dir, id)
		ldir := filepath.Join(dir, string(id))
		if err := os.Mkdir(ldir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{seg, idx} {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(ldir, filepath.Base(p)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := dst.Insert(id, recs[:6]); err != nil || n != 0 {
			t.Fatalf("Insert 1..6: got %d, %v; want 0 (all held), nil", n, err)
		}
		if h := dst.Head(id); h != 10 {
			t.Fatalf("head: got %d, want 10", h)
		}
		f := dst.Feed()
		defer f.Close()
		n := 0
		for f.Next() {
			n++
		}
		if n != 10 {
			t.Fatalf("feed: got %d entries, want 10", n)
		}
		verifyClean(t, dst)
	})
}

// TestInsertRuns checks runs made by Check and stored by InsertRuns:
// they are stored in order in one commit, as Insert of each would, and
// the first failing run stops the rest.
func TestInsertRuns(t *testing.T) {
	src, recs := authorLog(t)
	src2, recs2 := authorLog(t)
	forged := cloneRecs(recs[6:])
	forged[3][len(forged[3])-1] ^= 1 // the signature of seq 10
	fixCRC(forged[3])
	tests := []struct {
		name  string
		runs  func(db *DB) []*Run
		n     int
		err   error     // the error must match this, or
		msg   string    // contain this
		heads [2]uint64 // of src's and src2's log afterwards
	}{
		{"in order, two logs", func(db *DB) []*Run {
			return []*Run{db.Check(src.ID(), recs[:3]), db.Check(src2.ID(), recs2), db.Check(src.ID(), recs[3:])}
		}, 20, nil, "", [2]uint64{10, 10}},
		{"overlap skipped", func(db *DB) []*Run {
			return []*Run{db.Check(src.ID(), recs[:6]), db.Check(src.ID(), recs[3:])}
		}, 10, nil, "", [2]uint64{10, 0}},
		{"out of order", func(db *DB) []*Run {
			return []*Run{db.Check(src.ID(), recs[3:]), db.Check(src.ID(), recs[:3])}
		}, 0, ErrGap, "", [2]uint64{0, 0}},
		{"a forged run stops the rest", func(db *DB) []*Run {
			return []*Run{db.Check(src.ID(), recs[:6]), db.Check(src.ID(), forged), db.Check(src2.ID(), recs2)}
		}, 6, ErrSignature, "", [2]uint64{6, 0}},
		{"a bad id stops the rest", func(db *DB) []*Run {
			return []*Run{db.Check(src.ID(), recs[:3]), db.Check("nonsense", recs2), db.Check(src2.ID(), recs2)}
		}, 3, nil, "bad log id", [2]uint64{3, 0}},
		{"an empty run stops nothing", func(db *DB) []*Run {
			return []*Run{db.Check(src.ID(), recs[:3]), db.Check(src.ID(), nil), db.Check(src2.ID(), recs2)}
		}, 13, nil, "", [2]uint64{3, 10}},
		{"none", func(db *DB) []*Run { return nil }, 0, nil, "", [2]uint64{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openT(t, t.TempDir(), nil)
			n, err := db.InsertRuns(tt.runs(db)...)
			ok := n == tt.n
			switch {
			case tt.err != nil:
				ok = ok && errors.Is(err, tt.err)
			case tt.msg != "":
				ok = ok && err != nil && strings.Contains(err.Error(), tt.msg)
			default:
				ok = ok && err == nil
			}
			if !ok {
				t.Fatalf("InsertRuns: got %d, %v; want %d, %v %q", n, err, tt.n, tt.err, tt.msg)
			}
			if h := [2]uint64{db.Head(src.ID()), db.Head(src2.ID())}; h != tt.heads {
				t.Fatalf("heads: got %v, want %v", h, tt.heads)
			}
			verifyClean(t, db)
		})
	}
}

// TestIdleLogsHoldNoBuffers checks that a log keeps no write buffer once
// its round is over: a receiver adds logs by the thousand, and buffers
// kept per log would make RAM grow with their number.
func TestIdleLogsHoldNoBuffers(t *testing.T) {
	logs := makeBenchLogs(t, 30, 1000, 500)
	db := openT(t, t.TempDir(), nil)
	for i := 0; i < len(logs); i += 7 {
		var runs []*Run
		for _, l := range logs[i:min(i+7, len(logs))] {
			runs = append(runs, db.Check(l.id, l.runs[0]))
		}
		if n, err := db.InsertRuns(runs...); err != nil || n != 1000*len(runs) {
			t.Fatalf("InsertRuns: %d stored, %v", n, err)
		}
		if _, err := db.Append([]byte("own")); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range db.tab.loadedLogs() {
		if n := cap(l.w.wbuf) + cap(l.w.spareW) + cap(l.w.ibuf) + cap(l.w.spareI); n != 0 {
			t.Errorf("idle log %s holds %d bytes of write buffers", l.id.Short(), n)
		}
	}
	if db.gc.bufs.bytes > maxPooledBytes || len(db.gc.bufs.free) > maxPooledBufs {
		t.Errorf("buffer pool holds %d buffers, %d bytes; at most %d, %d", len(db.gc.bufs.free), db.gc.bufs.bytes, maxPooledBufs, maxPooledBytes)
	}
}
