package applog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// A fork of a log is two records at the same seq, both authenticated by
// the log's key, with different hashes: its author signed two histories
// (a restored backup, or a database copied to a second machine). Insert
// recognises one, keeps a proof (see the package documentation, Fork
// proofs), marks the log forked and freezes it: no further records of
// it are inserted. Appends to the own log go on; peers holding the other
// branch will not take them.

// MaxProofSize bounds an encoded fork proof.
const MaxProofSize = 1 << 20

// magicFork starts a fork proof; magicForks the forks file.
var (
	magicFork  = [8]byte{'S', 'C', 'T', 'L', 'F', 'R', 'K', 1}
	magicForks = [8]byte{'S', 'C', 'T', 'L', 'F', 'K', 'S', 1}
)

const fileForks = "forks" // the proofs of the forked logs

// Fork says that log Log is forked at seq Seq: the database holds a
// proof that its author signed two different records there.
type Fork struct {
	Log ID
	Seq uint64
}

// ErrForkProof is returned (wrapped, naming what does not check) by
// CheckForkProof for bytes that are not a valid fork proof.
var ErrForkProof = errors.New("applog: invalid fork proof")

// forkBranch is one side of a fork proof: a signed chain head at seq
// head ≥ the fork seq, and the frames from the fork seq+1 up to head.
type forkBranch struct {
	head   uint64
	hash   [hashSize]byte
	sig    []byte
	bridge [][]byte
}

// branchOf makes the branch of recs (frames of seqs first… , recs[i]
// with seq first+i) at fork seq s ≥ first-1: the first signed record at
// or after s is its head, the frames after s up to it the bridge. It
// returns false if no record of recs at or after s is signed.
func branchOf(recs [][]byte, first, s uint64) (forkBranch, bool) {
	j := 0
	if s >= first {
		j = int(s - first)
	}
	for i := j; i < len(recs); i++ {
		f := recs[i]
		if f[offFlags]&flagSigned == 0 {
			continue
		}
		b := forkBranch{head: first + uint64(i), hash: frameHash(f), sig: f[len(f)-sigSize:]}
		if s >= first {
			b.bridge = recs[j+1 : i+1]
		} else {
			b.bridge = recs[:i+1]
		}
		return b, true
	}
	return forkBranch{}, false
}

// appendForkProof appends the proof that log pub forked at seq s.
func appendForkProof(dst []byte, pub ed25519.PublicKey, s uint64, branches ...forkBranch) []byte {
	dst = append(dst, magicFork[:]...)
	dst = append(dst, pub...)
	dst = binary.LittleEndian.AppendUint64(dst, s)
	for _, b := range branches {
		dst = binary.LittleEndian.AppendUint64(dst, b.head)
		dst = append(dst, b.hash[:]...)
		dst = append(dst, b.sig...)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b.bridge)))
		for _, f := range b.bridge {
			dst = append(dst, f...)
		}
	}
	return dst
}

// forkProofFixed is the size of a proof without bridge frames.
const forkProofFixed = 8 + 32 + 8 + 2*(8+hashSize+sigSize+4)

// CheckForkProof checks that p proves a fork, with nothing but the
// public key it names: two signed chain heads of that key whose chains
// give two different hashes at the fork seq. It returns the fork, or an
// error wrapping ErrForkProof that says what does not check.
func CheckForkProof(p []byte) (Fork, error) {
	if len(p) > MaxProofSize {
		return Fork{}, fmt.Errorf("%w: %d bytes, limit %d", ErrForkProof, len(p), MaxProofSize)
	}
	if len(p) < forkProofFixed {
		return Fork{}, fmt.Errorf("%w: %d bytes, at least %d", ErrForkProof, len(p), forkProofFixed)
	}
	if !bytes.Equal(p[:8], magicFork[:]) {
		return Fork{}, fmt.Errorf("%w: bad magic %q", ErrForkProof, p[:8])
	}
	pub := ed25519.PublicKey(p[8:40])
	s := binary.LittleEndian.Uint64(p[40:])
	if s == 0 {
		return Fork{}, fmt.Errorf("%w: fork seq 0", ErrForkProof)
	}
	off := 48
	var hashes [2][hashSize]byte
	for k := range 2 {
		h, next, err := checkBranch(pub, s, p, off)
		if err != nil {
			return Fork{}, fmt.Errorf("%w: branch %d: %w", ErrForkProof, k+1, err)
		}
		hashes[k], off = h, next
	}
	if off != len(p) {
		return Fork{}, fmt.Errorf("%w: %d bytes after the second branch", ErrForkProof, len(p)-off)
	}
	if hashes[0] == hashes[1] {
		return Fork{}, fmt.Errorf("%w: both branches have the same record at seq %d", ErrForkProof, s)
	}
	return Fork{Log: IDOf(pub), Seq: s}, nil
}

// checkBranch checks the branch at p[off:] of a proof of pub at fork
// seq s and returns the hash it authenticates at s and the offset after it.
func checkBranch(pub ed25519.PublicKey, s uint64, p []byte, off int) ([hashSize]byte, int, error) {
	var h [hashSize]byte
	if len(p)-off < 8+hashSize+sigSize+4 {
		return h, off, fmt.Errorf("truncated at offset %d", off)
	}
	head := binary.LittleEndian.Uint64(p[off:])
	copy(h[:], p[off+8:])
	sig := p[off+8+hashSize : off+8+hashSize+sigSize]
	n := binary.LittleEndian.Uint32(p[off+8+hashSize+sigSize:])
	off += 8 + hashSize + sigSize + 4
	if head < s || head-s != uint64(n) {
		return h, off, fmt.Errorf("head seq %d with %d bridge records, fork seq %d", head, n, s)
	}
	if !verifySig(pub, head, &h, sig) {
		return h, off, fmt.Errorf("signature of head seq %d does not verify", head)
	}
	if n == 0 {
		return h, off, nil
	}
	var at, prev [hashSize]byte
	for i := range uint64(n) {
		r, err := decodeRecord(p[off:])
		if err != nil {
			return h, off, fmt.Errorf("bridge record %d at offset %d: %w", i, off, err)
		}
		if r.seq != s+1+i {
			return h, off, fmt.Errorf("bridge record %d has seq %d, want %d", i, r.seq, s+1+i)
		}
		if i == 0 {
			copy(at[:], r.prev)
		} else if !bytes.Equal(r.prev, prev[:]) {
			return h, off, fmt.Errorf("bridge seq %d does not chain to seq %d", r.seq, r.seq-1)
		}
		prev = r.hash()
		off += len(r.frame)
	}
	if prev != h {
		return h, off, fmt.Errorf("bridge does not lead to the signed head seq %d", head)
	}
	return at, off, nil
}

// Forked returns the seq at which log id is forked, or 0 if it is not
// known to be.
func (db *DB) Forked(id ID) uint64 { return db.forks.seq(id) }

// Forks returns the forked logs, sorted by id.
func (db *DB) Forks() []Fork { return db.forks.list() }

func cmpID(a, b ID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ForkProof returns the proof that log id is forked (see CheckForkProof),
// or an error wrapping ErrNotFound if it is not known to be.
func (db *DB) ForkProof(id ID) ([]byte, error) { return db.forks.proof(id) }

// AddForkProof checks proof p (CheckForkProof) received from a peer and,
// if the database holds the forked log, marks it forked and frozen. It
// returns the fork and whether it was new here. A valid proof of a log
// not held is ignored (not new), so that nobody can make a database keep
// proofs without bound.
func (db *DB) AddForkProof(p []byte) (Fork, bool, error) {
	if db.readOnly {
		return Fork{}, false, ErrReadOnly
	}
	if err := db.errIfClosed(); err != nil {
		return Fork{}, false, err
	}
	fk, err := CheckForkProof(p)
	if err != nil {
		return Fork{}, false, err
	}
	pub, _ := fk.Log.publicKey()
	if _, held := db.tab.lookup(pub); !held {
		return fk, false, nil
	}
	isNew, err := db.forks.mark(fk, slices.Clone(p))
	if isNew {
		db.changed.notify()
	}
	return fk, isNew, err
}

// detectFork is called by the leader when run's authenticated records
// conflict with stored log l at seq s (s ≤ l's head): the run's record at
// s, or the previous hash of its record s+1, differs from the stored one.
// It builds the proof from the run and the stored log, marks l forked
// and returns the error Insert reports.
func (rw *roundWriter) detectFork(l *logState, run *insertRun, s uint64) error {
	db := rw.db
	fk := Fork{Log: l.id, Seq: s}
	theirs, ok := branchOf(run.recs[:run.auth], run.first, s)
	if !ok {
		return fmt.Errorf("%w: insert %s: seq %d differs from the stored one", ErrFork, l.id.Short(), s)
	}
	if err := db.sw.flush(l); err != nil {
		return err
	}
	// The stored branch: from s up to the first signed record at or
	// after it (the head is signed, so there is one).
	var (
		ours [][]byte
		buf  []byte
	)
	for seq := s; seq <= l.w.head; seq++ {
		sg := findSegment(l.segments(), seq)
		if sg == nil {
			return l.corrupt(seq, l.dir, 0, fmt.Errorf("no segment holds it"))
		}
		rec, err := db.rr.read(l, sg, seq, &buf)
		if err != nil {
			return err
		}
		ours = append(ours, slices.Clone(rec.frame))
		if rec.signed() {
			break
		}
	}
	mine, ok := branchOf(ours, s, s)
	if !ok {
		return fmt.Errorf("%w: insert %s: stored seqs %d..%d are not signed", ErrCorrupt, l.id.Short(), s, l.w.head)
	}
	p := appendForkProof(nil, l.pub, s, mine, theirs)
	if len(p) <= MaxProofSize {
		if _, err := CheckForkProof(p); err != nil {
			return fmt.Errorf("applog: insert %s: the fork proof made does not check: %w", l.id.Short(), err)
		}
	}
	isNew, err := db.forks.mark(fk, p)
	if err != nil {
		return err
	}
	if isNew {
		db.changed.notify()
	}
	return &ForkError{Fork: fk}
}

// ForkError is returned by Insert when records conflict with the stored
// log: its author signed two histories. It matches ErrFork. The log is
// then frozen: later Inserts of it fail with an error matching ErrForked.
type ForkError struct {
	Fork
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("applog: insert %s: forked at seq %d (two different signed records)", e.Log.Short(), e.Seq)
}

// Unwrap returns ErrFork.
func (e *ForkError) Unwrap() error { return ErrFork }
