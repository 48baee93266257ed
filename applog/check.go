package applog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"

	"scuttle/applog/internal/parallel"
)

// recCheck is what the parallel pass of an Insert's checks found for one
// record (see hashRecords).
type recCheck struct {
	hash  [hashSize]byte // the record's chain hash, if it decodes
	state uint8
}

// recCheck states.
const (
	checkUnsigned = iota // decodes, no signature
	checkSigned          // decodes, signature verified
	checkBadSig          // decodes, signature does not verify
	checkBad             // does not decode, or bytes follow the frame
)

// parallelMin is the run length from which hashRecords splits the work:
// below it, starting goroutines costs more than it saves.
const parallelMin = 256

// hashRecords decodes every frame of recs (length, CRC, flags), hashes
// it and verifies its signature, if any, into sc[i]. These checks are
// independent per record, so a long run is split into chunks checked on
// all CPUs at once; what depends on order (seqs, chain links, run
// limits) is left to the caller's sequential pass. Records after a bad
// one are checked too, which only costs time on bad input.
func hashRecords(pub ed25519.PublicKey, recs [][]byte, sc []recCheck) {
	workers := 1
	if len(recs) >= parallelMin {
		workers = min(runtime.GOMAXPROCS(0), 4, len(recs)/(parallelMin/2))
	}
	if workers <= 1 {
		checkChunk(pub, recs, sc)
		return
	}
	per := (len(recs) + workers - 1) / workers
	chunks := (len(recs) + per - 1) / per
	_ = parallel.Each(chunks, workers, func(i int) error {
		lo, hi := i*per, min((i+1)*per, len(recs))
		checkChunk(pub, recs[lo:hi], sc[lo:hi])
		return nil
	})
}

func checkChunk(pub ed25519.PublicKey, recs [][]byte, sc []recCheck) {
	for i, b := range recs {
		c := &sc[i]
		r, err := decodeRecord(b)
		if err != nil || len(r.frame) != len(b) {
			c.state = checkBad
			continue
		}
		c.hash = sha256.Sum256(r.hashed())
		switch {
		case !r.signed():
			c.state = checkUnsigned
		case verifySig(pub, r.seq, &c.hash, r.sig):
			c.state = checkSigned
		default:
			c.state = checkBadSig
		}
	}
}

// checkPool recycles the per-record scratch of Insert's checks, so that
// an Insert allocates nothing per record. It keeps slices of up to
// maxPooledChecks entries.
type checkPool struct{ p sync.Pool }

const maxPooledChecks = 1 << 14

func (cp *checkPool) get(n int) []recCheck {
	if v, ok := cp.p.Get().(*[]recCheck); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]recCheck, n, max(n, 1024))
}

func (cp *checkPool) put(sc []recCheck) {
	if cap(sc) <= maxPooledChecks {
		cp.p.Put(&sc)
	}
}

// check decodes recs and checks what does not depend on the stored log: framing, consecutive seqs, the chain between them, run limits and
// every signature. The per-record work (CRC, hash, signature) runs in
// parallel over chunks of recs (see hashRecords); the chain and order
// checks are then a cheap sequential pass over the results.
func (cp *checkPool) check(id ID, pub ed25519.PublicKey, recs [][]byte) *insertRun {
	run := &insertRun{id: id, pub: pub, recs: recs}
	sc := cp.get(len(recs))
	defer cp.put(sc)
	hashRecords(pub, recs, sc)
	runN, runBytes := 0, 0
	for i, b := range recs {
		c := &sc[i]
		if c.state == checkBad {
			_, err := decodeRecord(b)
			if err == nil {
				err = fmt.Errorf("%d bytes after the frame", len(b)-frameLenOf(b))
			}
			run.err = fmt.Errorf("%w: insert %s: record %d: %v", ErrCorrupt, id.Short(), i, err)
			return run
		}
		seq := binary.LittleEndian.Uint64(b[offSeq:])
		if seq == 0 {
			run.err = fmt.Errorf("%w: insert %s: record %d has seq 0", ErrGap, id.Short(), i)
			return run
		}
		prev := b[offPrev:offPayload]
		if i > 0 {
			if want := run.first + uint64(i); seq != want {
				run.err = fmt.Errorf("%w: insert %s: record %d has seq %d after %d", ErrGap, id.Short(), i, seq, want-1)
				return run
			}
			if !bytes.Equal(prev, sc[i-1].hash[:]) {
				run.err = fmt.Errorf("%w: insert %s: seq %d does not chain to seq %d", ErrChain, id.Short(), seq, seq-1)
				return run
			}
		} else {
			run.first = seq
			if seq == 1 && !isZero(prev) {
				run.err = fmt.Errorf("%w: insert %s: seq 1 has a previous hash", ErrChain, id.Short())
				return run
			}
		}
		runN++
		runBytes += len(b)
		if runN > MaxSignedRun || runBytes > MaxRunBytes {
			run.err = fmt.Errorf("%w: insert %s: %d records (%d bytes) without a signature at seq %d", ErrUnsigned, id.Short(), runN, runBytes, seq)
			return run
		}
		run.ok = i + 1
		switch c.state {
		case checkBadSig:
			run.err = fmt.Errorf("%w: insert %s: seq %d", ErrSignature, id.Short(), seq)
			run.ok = i // the bad record is not even a valid overlap
			return run
		case checkSigned:
			run.auth = i + 1
			runN, runBytes = 0, 0
		}
	}
	if run.auth < len(recs) {
		run.err = fmt.Errorf("%w: insert %s: seqs %d..%d are not followed by a signed record", ErrUnsigned, id.Short(), run.first+uint64(run.auth), run.first+uint64(len(recs))-1)
	}
	return run
}
