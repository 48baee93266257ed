package applog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
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
