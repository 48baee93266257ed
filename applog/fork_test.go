package applog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// forkedLog makes two branches of one log: a database appends the
// batches common (each batch ends signed), is copied (a backup), and then
// the original appends the batches a and the copy the batches b, with
// different entries. It returns the log's id and both branches' records.
func forkedLog(t *testing.T, common, a, b []int) (ID, [][]byte, [][]byte) {
	t.Helper()
	dir := t.TempDir()
	src := openT(t, dir, nil)
	appendBatches(t, src, "common", common)
	id := src.ID()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	copied := copyDir(t, dir)
	ra := openT(t, dir, nil)
	rb := openT(t, copied, nil)
	appendBatches(t, ra, "a", a)
	appendBatches(t, rb, "b", b)
	return id, records(t, ra, id), records(t, rb, id)
}

func appendBatches(t *testing.T, db *DB, what string, sizes []int) {
	t.Helper()
	for _, n := range sizes {
		var b [][]byte
		for range n {
			b = append(b, fmt.Appendf(nil, "%s %d", what, db.Head(db.ID())+uint64(len(b))+1))
		}
		if _, err := db.AppendBatch(b); err != nil {
			t.Fatal(err)
		}
	}
}

// TestForkArrives inserts a branch and then records of the other branch
// in each way a fork can arrive. Insert must report a *ForkError at the
// expected seq, keep a proof that checks, freeze the log (nothing more
// of it is stored, from either branch), leave other logs alone, and the
// mark must survive a reopen.
func TestForkArrives(t *testing.T) {
	// common 1..3 (signed 3); a: 4..6 (signed 6), 7..9 (signed 9);
	// b: 4,5 (signed 5), 6..9 (signed 9)
	id, ra, rb := forkedLog(t, []int{3}, []int{3, 3}, []int{2, 4})
	tests := []struct {
		name    string
		held    [][]byte   // of branch a, inserted first
		runs    [][][]byte // of branch b, inserted with one InsertRuns
		wantSeq uint64
		wantN   int
		head    uint64
	}{
		{"conflict at the head", ra[:6], [][][]byte{rb[:5]}, 5, 0, 6},
		{"conflict below the head", ra[:9], [][][]byte{rb[:5]}, 5, 0, 9},
		{"conflict at head, longer run", ra[:6], [][][]byte{rb[:9]}, 6, 0, 6},
		{"run at head+1 does not chain", ra[:6], [][][]byte{rb[6:9]}, 6, 0, 6},
		{"fork in the middle of a batch", ra[:3], [][][]byte{ra[3:6], rb[6:9]}, 6, 3, 6},
		{"batch ending in a fork at head", ra[:3], [][][]byte{ra[3:6], rb[3:5]}, 5, 3, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dst := openT(t, dir, nil)
			if n, err := dst.Insert(id, tt.held); err != nil || n != len(tt.held) {
				t.Fatalf("Insert of branch a: %d, %v", n, err)
			}
			other, orecs := authorLog(t)
			var runs []*Run
			for _, r := range tt.runs {
				runs = append(runs, dst.Check(id, r))
			}
			runs = append(runs, dst.Check(other.ID(), orecs)) // after the fork: still stored
			n, err := dst.InsertRuns(runs...)
			var fe *ForkError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFork) || fe.Log != id || fe.Seq != tt.wantSeq {
				t.Fatalf("InsertRuns: %v, want a *ForkError of %s at seq %d", err, id.Short(), tt.wantSeq)
			}
			if n != tt.wantN+len(orecs) {
				t.Errorf("InsertRuns stored %d, want %d", n, tt.wantN+len(orecs))
			}
			if got := dst.Head(id); got != tt.head {
				t.Errorf("head %d, want %d", got, tt.head)
			}
			if got := dst.Head(other.ID()); got != uint64(len(orecs)) {
				t.Errorf("other log's head %d, want %d", got, len(orecs))
			}
			checkForked(t, dst, id, tt.wantSeq)
			// frozen: neither branch grows
			for _, recs := range [][][]byte{ra, rb} {
				if n, err := dst.Insert(id, recs[3:]); !errors.Is(err, ErrForked) || n != 0 {
					t.Errorf("Insert into the frozen log: %d, %v; want 0, ErrForked", n, err)
				}
			}
			if err := dst.Close(); err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{false, true} {
				db := openT(t, dir, &Options{ReadOnly: ro})
				checkForked(t, db, id, tt.wantSeq)
				db.Close()
			}
		})
	}
}

// checkForked checks that db holds log id as forked at seq, with a proof
// that checks, and lists it so.
func checkForked(t *testing.T, db *DB, id ID, seq uint64) {
	t.Helper()
	if got := db.Forked(id); got != seq {
		t.Errorf("Forked = %d, want %d", got, seq)
	}
	if got := db.Forks(); len(got) != 1 || got[0] != (Fork{id, seq}) {
		t.Errorf("Forks = %v, want [{%s %d}]", got, id.Short(), seq)
	}
	p, err := db.ForkProof(id)
	if err != nil {
		t.Fatal(err)
	}
	if fk, err := CheckForkProof(p); err != nil || fk != (Fork{id, seq}) {
		t.Errorf("CheckForkProof: %v, %v; want {%s %d}", fk, err, id.Short(), seq)
	}
	logs, err := db.Logs()
	if err != nil {
		t.Fatal(err)
	}
	for _, li := range logs {
		want := uint64(0)
		if li.ID == id {
			want = seq
		}
		if li.Forked != want {
			t.Errorf("Logs: %s forked %d, want %d", li.ID.Short(), li.Forked, want)
		}
	}
}

// TestForkNotProven: records that differ from the stored ones but are
// not authenticated are no fork: Insert fails as before and the log is
// not frozen.
func TestForkNotProven(t *testing.T) {
	id, ra, rb := forkedLog(t, []int{3}, []int{3}, []int{3})
	dst := openT(t, t.TempDir(), nil)
	if _, err := dst.Insert(id, ra[:6]); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Insert(id, rb[:5]); !errors.Is(err, ErrUnsigned) || errors.Is(err, ErrFork) {
		t.Fatalf("Insert of an unsigned differing record: %v, want ErrUnsigned", err)
	}
	if dst.Forked(id) != 0 {
		t.Fatal("log marked forked without proof")
	}
}

// TestAddForkProof: a proof received marks a held log forked once, and a
// log not held is not marked.
func TestAddForkProof(t *testing.T) {
	id, ra, rb := forkedLog(t, []int{3}, []int{3}, []int{3})
	src := openT(t, t.TempDir(), nil)
	src.Insert(id, ra)
	if _, err := src.Insert(id, rb); !errors.Is(err, ErrFork) {
		t.Fatal(err)
	}
	p, err := src.ForkProof(id)
	if err != nil {
		t.Fatal(err)
	}
	empty := openT(t, t.TempDir(), nil)
	if fk, isNew, err := empty.AddForkProof(p); err != nil || isNew || fk.Seq != 6 || empty.Forked(id) != 0 {
		t.Fatalf("AddForkProof for a log not held: %v, %v, %v", fk, isNew, err)
	}
	dst := openT(t, t.TempDir(), nil)
	dst.Insert(id, rb[:3])
	for i, wantNew := range []bool{true, false} {
		fk, isNew, err := dst.AddForkProof(p)
		if err != nil || isNew != wantNew || fk != (Fork{id, 6}) {
			t.Fatalf("AddForkProof #%d: %v, %v, %v; want {%s 6}, %v, nil", i+1, fk, isNew, err, id.Short(), wantNew)
		}
	}
	if _, err := dst.Insert(id, rb); !errors.Is(err, ErrForked) {
		t.Fatalf("Insert after the proof: %v, want ErrForked", err)
	}
	if _, _, err := dst.AddForkProof(p[:len(p)-1]); !errors.Is(err, ErrForkProof) {
		t.Fatalf("AddForkProof of a truncated proof: %v", err)
	}
}

// TestCheckForkProof: each way a proof can be wrong.
func TestCheckForkProof(t *testing.T) {
	// common 1..3; a: 4..6 signed at 6; b: 4..7 signed at 7. A proof at 6
	// has a's head with no bridge and b's with one record.
	id, ra, rb := forkedLog(t, []int{3}, []int{3}, []int{4})
	pub, _ := id.publicKey()
	a, _ := branchOf(ra, 1, 6)
	b, _ := branchOf(rb, 1, 6)
	if len(a.bridge) != 0 || len(b.bridge) != 1 {
		t.Fatalf("bridges of %d and %d records, want 0 and 1", len(a.bridge), len(b.bridge))
	}
	good := appendForkProof(nil, pub, 6, a, b)
	if fk, err := CheckForkProof(good); err != nil || fk != (Fork{id, 6}) {
		t.Fatalf("good proof: %v, %v", fk, err)
	}
	otherID, _, rother := forkedLog(t, []int{3}, []int{3}, []int{3})
	otherPub, _ := otherID.publicKey()
	oa, _ := branchOf(rother, 1, 6)
	flip := func(off int) []byte {
		p := bytes.Clone(good)
		p[off] ^= 1
		return p
	}
	headA := 48
	headB := headA + 8 + hashSize + sigSize + 4
	tests := []struct {
		name  string
		proof []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"bad magic", flip(0)},
		{"forged head hash", flip(headA + 8)},
		{"forged signature", flip(headA + 8 + hashSize)},
		{"forged bridge payload", flip(headB + 8 + hashSize + sigSize + 4 + offPayload)},
		{"another key", func() []byte { p := bytes.Clone(good); copy(p[8:40], otherPub); return p }()},
		{"a branch of another key", appendForkProof(nil, pub, 6, a, oa)},
		{"the same record twice", appendForkProof(nil, pub, 6, a, a)},
		{"the same chain twice", appendForkProof(nil, pub, 5, func() forkBranch { x, _ := branchOf(ra, 1, 5); return x }(), func() forkBranch { x, _ := branchOf(ra, 1, 5); return x }())},
		{"seq 0", func() []byte { p := bytes.Clone(good); binary.LittleEndian.PutUint64(p[40:], 0); return p }()},
		{"head below the fork seq", appendForkProof(nil, pub, 7, a, b)},
		{"bridge count wrong", func() []byte {
			p := bytes.Clone(good)
			binary.LittleEndian.PutUint32(p[headA+8+hashSize+sigSize:], 1)
			return p
		}()},
		{"too large", make([]byte, MaxProofSize+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fk, err := CheckForkProof(tt.proof); !errors.Is(err, ErrForkProof) {
				t.Fatalf("CheckForkProof: %v, %v; want ErrForkProof", fk, err)
			}
		})
	}
	if n := len(good) - len(b.bridge[0]); n != forkProofFixed {
		t.Errorf("proof without bridges is %d bytes, want %d", n, forkProofFixed)
	}
}

// FuzzCheckForkProof: CheckForkProof never panics, and what it accepts
// names a fork whose two branches it re-checks the same way.
func FuzzCheckForkProof(f *testing.F) {
	f.Fuzz(func(t *testing.T, p []byte) {
		fk, err := CheckForkProof(p)
		if err != nil {
			if !errors.Is(err, ErrForkProof) {
				t.Fatalf("error %v does not match ErrForkProof", err)
			}
			return
		}
		if fk.Seq == 0 || fk.Log != IDOf(p[8:40]) {
			t.Fatalf("accepted %v from a proof of %s", fk, IDOf(p[8:40]))
		}
		if again, err := CheckForkProof(bytes.Clone(p)); err != nil || again != fk {
			t.Fatalf("second check: %v, %v", again, err)
		}
	})
}

// TestWriteForkSeeds writes the seed corpus of FuzzCheckForkProof when
// SCUTTLE_WRITE_SEEDS is set.
func TestWriteForkSeeds(t *testing.T) {
	if os.Getenv("SCUTTLE_WRITE_SEEDS") == "" {
		t.Skip("SCUTTLE_WRITE_SEEDS not set")
	}
	id, ra, rb := forkedLog(t, []int{3}, []int{3}, []int{4})
	pub, _ := id.publicKey()
	a, _ := branchOf(ra, 1, 6)
	b, _ := branchOf(rb, 1, 6)
	a5, _ := branchOf(ra, 1, 5)
	b5, _ := branchOf(rb, 1, 5)
	dir := filepath.Join("testdata", "fuzz", "FuzzCheckForkProof")
	os.MkdirAll(dir, 0o755)
	for name, p := range map[string][]byte{
		"heads":     appendForkProof(nil, pub, 6, a, b),
		"bridges":   appendForkProof(nil, pub, 5, a5, b5),
		"same":      appendForkProof(nil, pub, 6, a, a),
		"truncated": appendForkProof(nil, pub, 6, a, b)[:100],
		"magic":     magicFork[:],
	} {
		if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
