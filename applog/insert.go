package applog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
)

// insertRun is an Insert after its checks that need no stored state.
type insertRun struct {
	id     ID
	pub    ed25519.PublicKey
	recs   []record
	hashes [][hashSize]byte
	ok     int   // recs[:ok] decode, are consecutive and chain
	auth   int   // recs[:auth] also end with a verified signature
	err    error // why recs[auth:] are not stored (nil if auth == len)
}

// Insert verifies records of log id received from a peer (as Iter.Record
// returned them on the peer) and stores the new ones, durably, in the
// same group commit as appends.
//
// recs must be consecutive and each must chain to the one before it
// (ErrGap, ErrChain). Records at seqs already held must equal the stored
// ones (else ErrFork) and are skipped; the first new record must be
// head+1 (ErrGap) and chain to the stored head (ErrChain). Every
// signature must verify (ErrSignature) and the records stored must end
// with a signed one (ErrUnsigned); runs may not exceed MaxSignedRun
// records or MaxRunBytes bytes. Undecodable records fail with an error
// matching ErrCorrupt. Nothing unauthenticated is stored: on error, n
// counts the records of the authenticated prefix that were stored.
func (db *DB) Insert(id ID, recs [][]byte) (n int, err error) {
	if db.readOnly {
		return 0, ErrReadOnly
	}
	if err := db.errIfClosed(); err != nil {
		return 0, err
	}
	pub, ok := id.publicKey()
	if !ok {
		return 0, fmt.Errorf("applog: insert: bad log id %q", id)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	run := checkRun(id, pub, recs)
	if run.auth == 0 && run.ok == 0 {
		return 0, run.err
	}
	r := &request{ins: run}
	db.submit(r)
	return r.n, r.err
}

// checkRun decodes recs and checks what does not depend on the stored
// log: framing, consecutive seqs, the chain between them, run limits and
// every signature.
func checkRun(id ID, pub ed25519.PublicKey, recs [][]byte) *insertRun {
	run := &insertRun{id: id, pub: pub, recs: make([]record, 0, len(recs)), hashes: make([][hashSize]byte, 0, len(recs))}
	runN, runBytes := 0, 0
	for i, b := range recs {
		r, err := decodeRecord(b)
		if err == nil && len(r.frame) != len(b) {
			err = fmt.Errorf("%d bytes after the frame", len(b)-len(r.frame))
		}
		if err != nil {
			run.err = fmt.Errorf("%w: insert %s: record %d: %v", ErrCorrupt, id.Short(), i, err)
			return run
		}
		if r.seq == 0 {
			run.err = fmt.Errorf("%w: insert %s: record %d has seq 0", ErrGap, id.Short(), i)
			return run
		}
		h := r.hash()
		if i > 0 {
			prev := run.recs[i-1]
			if r.seq != prev.seq+1 {
				run.err = fmt.Errorf("%w: insert %s: record %d has seq %d after %d", ErrGap, id.Short(), i, r.seq, prev.seq)
				return run
			}
			if !bytes.Equal(r.prev, run.hashes[i-1][:]) {
				run.err = fmt.Errorf("%w: insert %s: seq %d does not chain to seq %d", ErrChain, id.Short(), r.seq, prev.seq)
				return run
			}
		} else if r.seq == 1 && r.prev != nil && !isZero(r.prev) {
			run.err = fmt.Errorf("%w: insert %s: seq 1 has a previous hash", ErrChain, id.Short())
			return run
		}
		runN++
		runBytes += len(r.frame)
		if runN > MaxSignedRun || runBytes > MaxRunBytes {
			run.err = fmt.Errorf("%w: insert %s: %d records (%d bytes) without a signature at seq %d", ErrUnsigned, id.Short(), runN, runBytes, r.seq)
			return run
		}
		run.recs = append(run.recs, r)
		run.hashes = append(run.hashes, h)
		run.ok = i + 1
		if r.signed() {
			if !verifySig(pub, r.seq, &h, r.sig) {
				run.err = fmt.Errorf("%w: insert %s: seq %d", ErrSignature, id.Short(), r.seq)
				run.ok = i // the bad record is not even a valid overlap
				return run
			}
			run.auth = i + 1
			runN, runBytes = 0, 0
		}
	}
	if run.auth < len(recs) {
		run.err = fmt.Errorf("%w: insert %s: seqs %d..%d are not followed by a signed record", ErrUnsigned, id.Short(), run.recs[run.auth].seq, run.recs[len(run.recs)-1].seq)
	}
	return run
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// applyInsert stores the authenticated new records of r.ins. Leader only.
// It returns an error only when the writer must stop (I/O).
func (db *DB) applyInsert(r *request, touch func(*logState)) error {
	run := r.ins
	r.err = run.err
	recs := run.recs[:run.ok]
	l := db.logs.Load().get(run.id)
	if l == nil {
		if run.auth == 0 {
			return nil
		}
		if recs[0].seq != 1 {
			r.err = fmt.Errorf("%w: insert %s: first record is seq %d, log is empty", ErrGap, run.id.Short(), recs[0].seq)
			return nil
		}
		var err error
		if l, err = db.addLog(run.pub); err != nil {
			r.err = err
			return err
		}
	}
	if c := l.broken.Load(); c != nil {
		r.err = c
		return nil
	}
	head := l.w.head
	k := 0
	if len(recs) > 0 && recs[0].seq <= head {
		last := min(head, recs[len(recs)-1].seq)
		j := int(last - recs[0].seq)
		var stored [hashSize]byte
		if last == head {
			stored = l.w.hash
		} else {
			if err := db.flush(l); err != nil {
				r.err = err
				return err
			}
			var buf []byte
			s := findSegment(l.segments(), last)
			if s == nil {
				r.err = l.corrupt(last, l.dir, 0, fmt.Errorf("no segment holds it"))
				return nil
			}
			rec, err := db.readRecord(l, s, last, &buf)
			if err != nil {
				r.err = err
				return nil
			}
			stored = rec.hash()
		}
		if stored != run.hashes[j] {
			r.err = fmt.Errorf("%w: insert %s: seq %d", ErrFork, run.id.Short(), last)
			return nil
		}
		k = j + 1
	}
	if k >= run.auth {
		return nil
	}
	if recs[k].seq != head+1 {
		r.err = fmt.Errorf("%w: insert %s: record has seq %d, head is %d", ErrGap, run.id.Short(), recs[k].seq, head)
		return nil
	}
	if k == 0 && !bytes.Equal(recs[0].prev, l.w.hash[:]) {
		r.err = fmt.Errorf("%w: insert %s: seq %d does not chain to the stored head", ErrChain, run.id.Short(), recs[0].seq)
		return nil
	}
	touch(l)
	for i := k; i < run.auth; i++ {
		rec := recs[i]
		off := l.w.segSize + int64(len(l.w.wbuf))
		l.w.wbuf = append(l.w.wbuf, rec.frame...)
		l.w.ibuf = binary.LittleEndian.AppendUint64(l.w.ibuf, uint64(off))
		l.w.head = rec.seq
		l.w.hash = run.hashes[i]
		if rec.signed() {
			if err := db.afterSigned(l); err != nil {
				r.err = err
				return err
			}
		}
	}
	l.w.runN, l.w.runBytes = 0, 0
	r.n = run.auth - k
	return nil
}
