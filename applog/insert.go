package applog

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
)

// insertRun is an Insert after its checks that need no stored state.
// It keeps no per-record structure: the caller's frames are read in
// place (they stay valid until Insert returns, after the round).
type insertRun struct {
	id    ID
	pub   ed25519.PublicKey
	recs  [][]byte // the caller's frames, recs[i] has seq first+i for i < ok
	first uint64
	ok    int   // recs[:ok] decode, are consecutive and chain
	auth  int   // recs[:auth] also end with a verified signature
	err   error // why recs[auth:] are not stored (nil if auth == len)
}

// A Run is records of one log that went through the checks of Insert
// that need no stored state; InsertRuns stores it. Check makes one.
type Run struct {
	run *insertRun
	err error // the run cannot be inserted at all (closed, bad id)
}

// Insert verifies records of log id received from a peer (as Iter.Record
// returned them on the peer) and stores the new ones, durably, in the
// same group commit as appends.
//
// recs must be consecutive and each must chain to the one before it
// (ErrGap, ErrChain). Records at seqs already held must equal the stored
// ones and are skipped; the first new record must be head+1 (ErrGap) and
// chain to the stored head. Authenticated records that do not are a fork
// (a *ForkError, matching ErrFork; see Forks in the package
// documentation): the log is marked forked and frozen, and later Inserts
// of it fail with ErrForked. Every
// signature must verify (ErrSignature) and the records stored must end
// with a signed one (ErrUnsigned); runs may not exceed MaxSignedRun
// records or MaxRunBytes bytes. Undecodable records fail with an error
// matching ErrCorrupt. Nothing unauthenticated is stored: on error, n
// counts the records of the authenticated prefix that were stored.
//
// Insert is Check followed by InsertRuns.
func (db *DB) Insert(id ID, recs [][]byte) (n int, err error) {
	return db.InsertRuns(db.Check(id, recs))
}

// Check runs the checks of Insert that need no stored state: framing,
// consecutive seqs and the chain between them, run limits and every
// signature, on all CPUs for a long run. These are most of an Insert's
// work, and Check takes no lock, so a caller can check the next records
// while the ones before are being stored. For a log the database does
// not hold yet, Check also creates its files, unsynced (InsertRuns syncs
// them). The Run reads recs in place: they must not change until
// InsertRuns returns.
func (db *DB) Check(id ID, recs [][]byte) *Run {
	if db.readOnly {
		return &Run{err: ErrReadOnly}
	}
	if err := db.errIfClosed(); err != nil {
		return &Run{err: err}
	}
	pub, ok := id.publicKey()
	if !ok {
		return &Run{err: fmt.Errorf("applog: insert: bad log id %q", id)}
	}
	if len(recs) == 0 {
		return &Run{}
	}
	_, held := db.tab.lookup(pub)
	if err := db.refusal(id, held); err != nil {
		return &Run{err: err}
	}
	run := db.checks.check(id, pub, recs)
	if run.auth > 0 && run.first == 1 {
		if _, held := db.tab.lookup(pub); !held {
			db.lo.prepare(id)
		}
	}
	return &Run{run: run}
}

// InsertRuns stores the runs made by Check, in order and in one group
// commit, with the checks that need the stored log (see Insert). It is
// Insert of each run in turn, stopping at the first error, but with one
// sync for all: n counts the new records stored, and on error the
// records stored before it. A run of a forked log (ErrFork, ErrForked)
// does not stop the others: it is skipped, and its error returned if no
// other run failed.
func (db *DB) InsertRuns(runs ...*Run) (n int, err error) {
	if db.readOnly {
		return 0, ErrReadOnly
	}
	if err := db.errIfClosed(); err != nil {
		return 0, err
	}
	r := &request{}
	var forkErr error // a run of a refused log (forked, blocked, …): skipped, the others go on
	for _, x := range runs {
		if x.err != nil && IsRefused(x.err) {
			forkErr = cmp.Or(forkErr, x.err)
			continue
		}
		if x.err != nil {
			r.err = x.err
			break
		}
		if x.run == nil {
			continue // no records
		}
		if x.run.auth == 0 && x.run.ok == 0 {
			r.err = x.run.err // nothing in it to store or skip
			break
		}
		r.ins = append(r.ins, x.run)
	}
	if len(r.ins) == 0 {
		return 0, cmp.Or(r.err, forkErr)
	}
	// a run that failed before the first to submit only shortens it
	stop := r.err
	r.err = nil
	db.submit(r)
	if r.err == nil {
		r.err = stop
	}
	return r.n, cmp.Or(r.err, r.forkErr, forkErr)
}

// frameLenOf returns the length the frame at b claims (0 if none).
func frameLenOf(b []byte) int {
	n, _ := frameLen(b)
	return n
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// applyInserts stores the runs of r in order, up to the first that
// fails. Leader only. It returns an error only when the writer must stop
// (I/O).
func (rw *roundWriter) applyInserts(r *request) error {
	for _, run := range r.ins {
		n, err := rw.applyInsert(r, run)
		r.n += n
		if err == nil && r.err != nil && IsRefused(r.err) {
			// a forked log is frozen; the other logs' runs go on
			r.forkErr = cmp.Or(r.forkErr, r.err)
			r.err = nil
			continue
		}
		if err != nil || r.err != nil {
			return err
		}
	}
	return nil
}

// forkFound marks l forked at seq s (see detectFork) and returns the
// fork, or the error that kept it from being recorded: one that stops
// the writer (I/O) is marked by writerStop.
func (rw *roundWriter) forkFound(l *logState, run *insertRun, s uint64) error {
	err := rw.detectFork(l, run, s)
	if IsRefused(err) {
		return err
	}
	var c *CorruptError
	if errors.As(err, &c) {
		return err
	}
	return writerStop(err)
}

// stopError marks an error of an insert after which the writer must
// stop (I/O), as opposed to one that only refuses the records.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// writerStop marks err as stopping the writer.
func writerStop(err error) error { return &stopError{err} }

// applyInsert stores the authenticated new records of run into r's
// round, sets r.err if not all of run is stored, and returns how many
// records it stored. Leader only. It returns an error only when the
// writer must stop (I/O).
func (rw *roundWriter) applyInsert(r *request, run *insertRun) (int, error) {
	r.err = run.err
	n, err := rw.storeRun(run)
	var stop *stopError
	switch {
	case errors.As(err, &stop):
		r.err = stop.err
		return 0, stop.err
	case err != nil:
		r.err = err
		return 0, nil
	}
	return n, nil
}

// storeRun is applyInsert's work, in three steps: admission (is the
// log held, or may it be added, and is it refused), overlap (the
// records the log holds already must match it), and append. It returns
// the records stored (none, with a nil error, if none is new or the run
// has no authenticated record to start a log with), or why it stored
// none, marked by writerStop if the writer must stop. With a nil error,
// the run's own error (if any) says why the rest is not stored.
func (rw *roundWriter) storeRun(run *insertRun) (int, error) {
	l, err := rw.admitRun(run)
	if l == nil || err != nil {
		return 0, err
	}
	k, err := rw.overlap(l, run)
	if err != nil {
		return 0, err
	}
	return rw.appendRun(l, run, k)
}

// admitRun returns the log run goes to, adding it if it is new and run
// may start it, or why run is not stored at all; nil and no error if
// the log is new and run has no authenticated record.
func (rw *roundWriter) admitRun(run *insertRun) (*logState, error) {
	db := rw.db
	if db.Blocked(run.id) {
		// checked again here: the log's data may have been deleted
		// since the run was checked (dropLog)
		return nil, fmt.Errorf("%w: insert %s", ErrBlocked, run.id.Short())
	}
	l, err := db.logOf(run.id, false)
	if err != nil {
		return nil, writerStop(err)
	}
	if l == nil {
		if run.auth == 0 {
			return nil, nil
		}
		if run.first != 1 {
			return nil, fmt.Errorf("%w: insert %s: first record is seq %d, log is empty", ErrGap, run.id.Short(), run.first)
		}
		if err := db.refusal(run.id, false); err != nil {
			return nil, err // the log limit, counted exactly here
		}
		var err error
		if l, err = db.addLog(run.pub, rw.rd); err != nil {
			return nil, writerStop(err)
		}
		// Sync and publish the new log in this round even if nothing
		// is written to it: its segment may be an orphan's, adopted with
		// records a crash left unsynced.
		if err := rw.touch(l); err != nil {
			return nil, writerStop(err)
		}
		l.w.dirty = true
	}
	if c := l.broken.Load(); c != nil {
		return nil, c
	}
	if err := db.refusal(run.id, true); err != nil {
		return nil, err
	}
	return l, nil
}

// overlap checks the records of run at seqs l holds already: the last
// of them must equal the stored record (else, if authenticated, it is a
// fork). It returns the index in run of the first new record.
func (rw *roundWriter) overlap(l *logState, run *insertRun) (int, error) {
	db := rw.db
	recs := run.recs[:run.ok]
	head := l.w.head
	if len(recs) == 0 || run.first > head {
		return 0, nil
	}
	last := min(head, run.first+uint64(len(recs))-1)
	j := int(last - run.first)
	var stored [hashSize]byte
	if last == head {
		stored = l.w.hash
	} else {
		if err := db.sw.flush(l); err != nil {
			return 0, writerStop(err)
		}
		var buf []byte
		s := findSegment(l.segments(), last)
		if s == nil {
			return 0, l.corrupt(last, l.dir, 0, fmt.Errorf("no segment holds it"))
		}
		rec, err := db.rr.read(l, s, last, &buf)
		if err != nil {
			return 0, err
		}
		stored = rec.hash()
	}
	if stored != frameHash(recs[j]) {
		if j >= run.auth {
			// not authenticated: no proof that the author signed it
			return 0, fmt.Errorf("%w: insert %s: seq %d differs from the stored one: %w", ErrUnsigned, run.id.Short(), last, run.err)
		}
		return 0, rw.forkFound(l, run, last)
	}
	return j + 1, nil
}

// appendRun appends the authenticated records of run from index k on to
// l's write buffers, once they follow its head and chain to it.
func (rw *roundWriter) appendRun(l *logState, run *insertRun, k int) (int, error) {
	if k >= run.auth {
		return 0, nil
	}
	head := l.w.head
	recs := run.recs[:run.ok]
	if seq := run.first + uint64(k); seq != head+1 {
		return 0, fmt.Errorf("%w: insert %s: record has seq %d, head is %d", ErrGap, run.id.Short(), seq, head)
	}
	if k == 0 && !bytes.Equal(recs[0][offPrev:offPayload], l.w.hash[:]) {
		// authenticated (k < auth) and not chaining to the signed head
		return 0, rw.forkFound(l, run, head)
	}
	if err := rw.touch(l); err != nil {
		return 0, writerStop(err)
	}
	growFor(&l.w, recs[k:run.auth])
	for i := k; i < run.auth; i++ {
		b := recs[i]
		off := l.w.segSize + int64(len(l.w.wbuf))
		l.w.wbuf = append(l.w.wbuf, b...)
		l.w.ibuf = appendIndexEntry(l.w.ibuf, off)
		l.w.head = run.first + uint64(i)
		if b[offFlags]&flagSigned != 0 {
			// only a signed record can end a round or a segment, so
			// only its hash is ever needed as the chain head
			l.w.hash = frameHash(b)
			if err := rw.db.sw.afterSigned(l); err != nil {
				return 0, writerStop(err)
			}
		}
	}
	l.w.runN, l.w.runBytes = 0, 0
	return run.auth - k, nil
}

// growFor makes room in w's buffers for recs, up to writeBytes of
// them, at once, rather than letting appends grow the buffers by
// doubling: a new log's records would otherwise cost a dozen
// allocations and copies each round.
func growFor(w *logWriter, recs [][]byte) {
	n, i := 0, 0
	for i < len(recs) && n < writeBytes {
		n += len(recs[i])
		i++
	}
	w.wbuf = slices.Grow(w.wbuf, n)
	w.ibuf = slices.Grow(w.ibuf, i*indexEntrySize)
}
