package applog

// This file is the writing of one commit round: the own appends and
// the inserts of its requests, and the publication of what it made
// durable.

import (
	"fmt"
	"os"
	"time"
)

// Append adds one entry to the own log and returns its seq once it is
// durable. Concurrent callers share one fsync (group commit).
func (db *DB) Append(data []byte) (uint64, error) {
	r := &request{}
	r.one[0] = data
	r.data = r.one[:]
	return db.appendRequest(r)
}

// AppendBatch adds entries to the own log as seqs first, first+1, … and
// returns once all are durable. The caller may reuse data after return.
func (db *DB) AppendBatch(data [][]byte) (first uint64, err error) {
	if len(data) == 0 {
		if db.readOnly {
			return 0, ErrReadOnly
		}
		return 0, db.errIfClosed()
	}
	return db.appendRequest(&request{data: data})
}

// appendRequest checks and submits an append.
func (db *DB) appendRequest(r *request) (uint64, error) {
	if db.readOnly {
		return 0, ErrReadOnly
	}
	if err := db.errIfClosed(); err != nil {
		return 0, err
	}
	for i, d := range r.data {
		if len(d) > MaxEntrySize {
			return 0, fmt.Errorf("%w: entry %d is %d bytes, max %d", ErrTooLarge, i, len(d), MaxEntrySize)
		}
	}
	db.submit(r)
	return r.first, r.err
}

// roundWriter writes one commit round into the logs' write buffers:
// the deletions of blocked logs and the unloading of idle ones first,
// then the own appends, then the inserts. Only the leader makes one (see
// submit); it owns every logWriter meanwhile, and tracks the logs the
// round touched, whose files it holds and to which it lent buffers.
type roundWriter struct {
	db      *DB
	rd      *round
	touched []*logState
}

// write encodes and writes the round, and leaves its error in rw.rd.err.
func (rw *roundWriter) write() {
	db, rd := rw.db, rw.rd
	db.gc.commits.Add(1)
	err := db.st.markDirty(rd)
	for _, r := range rd.batch {
		if r.drop != "" && err == nil {
			r.err = rw.dropLog(r.drop)
		}
	}
	if err == nil {
		rw.unloadIdle()
		err = rw.appendOwn()
	}
	if err == nil {
		for _, r := range rd.batch {
			if r.ins != nil {
				if err = rw.applyInserts(r); err != nil {
					break
				}
			}
		}
	}
	rd.err = rw.finish(err, false)
}

// appendOwn encodes the round's appends as one run of the own log: the
// last record of the round is signed (and more on the way, as limits
// require). A broken own log fails the appends, not the round.
func (rw *roundWriter) appendOwn() error {
	own, batch := rw.db.own, rw.rd.batch
	appends := 0
	for _, r := range batch {
		if r.data != nil {
			appends++
		}
	}
	if appends == 0 {
		return nil
	}
	if c := own.broken.Load(); c != nil {
		for _, r := range batch {
			if r.data != nil {
				r.err = c
			}
		}
		return nil
	}
	if err := rw.touch(own); err != nil {
		return err
	}
	now := time.Now().UnixNano()
	left := appends
	for _, r := range batch {
		if r.data == nil {
			continue
		}
		left--
		r.first = own.w.head + 1
		if err := rw.db.sw.appendOwn(own, r.data, now, left == 0); err != nil {
			return err
		}
	}
	return nil
}

// touch makes l part of the round, once: it holds l's tail files and
// lends it write buffers. Beyond maxRoundLogs logs, it first finishes
// the ones touched so far (finish, early).
func (rw *roundWriter) touch(l *logState) error {
	if l.w.touched {
		return nil
	}
	if len(rw.touched) >= maxRoundLogs {
		if err := rw.finish(nil, true); err != nil {
			return err
		}
		rw.touched = rw.touched[:0]
	}
	if err := rw.db.files.holdTail(l); err != nil {
		return err
	}
	l.w.touched = true
	rw.touched = append(rw.touched, l)
	rw.db.gc.bufs.lend(&l.w)
	return nil
}

// maxRoundLogs bounds the logs a round holds the files of: a round that
// touches more writes and syncs the first ones early and lets go of
// their files (nothing is acknowledged before the round ends anyway), so
// that a round inserting into thousands of logs holds a bounded number of
// files.
const maxRoundLogs = 32

// finish ends the round's work on the logs touched so far: it writes
// what they buffered, lets go of their buffers and files, and leaves
// their segments to sync in rd.sync, or with early, syncs them now. It
// returns err, or the first error it met.
func (rw *roundWriter) finish(err error, early bool) error {
	db, rd := rw.db, rw.rd
	var segs []*cachedFile
	for _, l := range rw.touched {
		l.w.touched = false
		if err == nil {
			err = db.sw.flush(l)
		}
		if err != nil {
			l.waitWrite() // no goroutine outlives the round
			l.waitSeal(db.files)
		}
		db.gc.bufs.reclaim(&l.w)
		if l.w.dirty && l.w.seg != nil {
			// held until it is synced
			segs = append(segs, l.w.seg)
			l.w.seg = nil
		}
		l.w.dirty = false
		db.files.dropTail(l)
		rd.heads = append(rd.heads, logHead{l, l.w.head})
	}
	if !early {
		rd.sync = append(rd.sync, segs...)
		return err
	}
	if err == nil {
		files := make([]*os.File, len(segs))
		for i, cf := range segs {
			files[i] = cf.File
		}
		err = syncAll(db.fs, files, nil)
	}
	for _, cf := range segs {
		db.files.release(cf)
	}
	return err
}

// publishHeads makes the synced round rd visible: heads first, then the
// feed records (a feed reader that sees a record finds its head
// published). It reports whether a feed hint is due (rd.hint). The
// committer calls it in round order, unless the writer failed, before
// it releases the callers.
func (db *DB) publishHeads(rd *round) (hint bool) {
	grew := false
	for _, h := range rd.heads {
		if h.l.head.Load() != h.head {
			h.l.head.Store(h.head)
			grew = true
		}
	}
	rd.hint = db.fw.publish(rd.heads, db.st.f != nil)
	if grew {
		db.changed.notify()
	}
	return rd.hint > 0
}
