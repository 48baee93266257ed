package applog

import (
	"crypto/ed25519"
	"crypto/sha256"
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
