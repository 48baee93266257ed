package applog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Feed iterates every entry of every log in the order this database
// stored them: a stable change feed, where new entries only ever add at
// the end. Its state is one head per log, whatever the feed's length. A
// Feed is not safe for concurrent use.
type Feed struct {
	db  *DB
	f   *os.File
	off int64 // offset of the next feed record to read

	buf        []byte
	bpos, bend int

	last map[uint32]uint64 // per log ordinal: the highest seq returned
	it   Iter              // on the log of the current feed record
	to   uint64            // it runs up to this seq
	err  error
}

// Feed returns an iterator over every entry of every log, in store
// order, from the first.
func (db *DB) Feed() *Feed {
	return &Feed{db: db, off: fileHeaderSize, last: map[uint32]uint64{}, it: Iter{db: db}}
}

// Next advances to the next entry; false when none is left now (see Err,
// and Wait to block for more).
func (f *Feed) Next() bool {
	if f.err != nil {
		return false
	}
	if err := f.db.errIfClosed(); err != nil {
		f.err = err
		return false
	}
	for {
		if f.it.l != nil && f.it.next <= f.to {
			if f.it.Next() {
				return true
			}
			if f.it.err != nil {
				f.err = f.it.err
				return false
			}
			f.it.l = nil // clamped: the log holds less than the feed said
		}
		r, ok, err := f.read()
		if err != nil {
			f.err = err
			return false
		}
		if !ok {
			return false
		}
		if int(r.ord) >= f.db.tab.len() {
			f.db.refreshTable()
		}
		l, err := f.db.logAt(r.ord)
		if err != nil {
			f.err = err
			return false
		}
		if l == nil {
			// a hole, or a damaged record: the log's entries join the
			// feed under its new ordinal (see recoverHoles)
			f.db.log.Debug("applog: feed names no log", "offset", f.off-feedRecordSize, "ordinal", r.ord)
			continue
		}
		from := f.last[r.ord] + 1
		if r.head < from {
			continue
		}
		if l.head.Load() < r.head {
			f.db.refresh(l)
		}
		to := min(r.head, l.head.Load())
		if to < from {
			continue
		}
		f.last[r.ord] = to
		if f.it.l != l || f.it.next != from || f.it.seg == nil {
			buf := f.it.buf
			f.it.reset(l, from)
			f.it.buf = buf
		}
		f.to = to
	}
}

// read returns the next feed record, ok false if none is complete yet.
func (f *Feed) read() (feedRecord, bool, error) {
	if f.bend-f.bpos < feedRecordSize {
		if f.f == nil {
			fh, err := os.Open(filepath.Join(f.db.dir, fileFeed))
			if err != nil {
				if isNotExist(err) {
					return feedRecord{}, false, nil
				}
				return feedRecord{}, false, fmt.Errorf("applog: %w", err)
			}
			f.f = fh
		}
		if f.buf == nil {
			f.buf = make([]byte, 64<<10)
		}
		n, _ := f.f.ReadAt(f.buf, f.off)
		f.bpos, f.bend = 0, n-n%feedRecordSize
		if f.bend == 0 {
			return feedRecord{}, false, nil
		}
	}
	r, ok := decodeFeedRecord(f.buf[f.bpos:f.bend])
	if !ok {
		// torn or in progress: look again later
		f.bpos, f.bend = 0, 0
		return feedRecord{}, false, nil
	}
	f.bpos += feedRecordSize
	f.off += feedRecordSize
	return r, true, nil
}

// Entry returns the current entry; Data is valid until the next Next.
func (f *Feed) Entry() Entry { return f.it.Entry() }

// Err returns the error that stopped the feed, if any.
func (f *Feed) Err() error { return f.err }

// Close releases the feed's file and buffers; it is idempotent.
func (f *Feed) Close() error {
	f.it.Close()
	f.buf = nil
	if f.f != nil {
		err := f.f.Close()
		f.f = nil
		return err
	}
	return nil
}

// feedPoll is how often Wait looks at the feed file for appends made by
// another process.
const feedPoll = 25 * time.Millisecond

// Wait blocks until the feed holds records beyond those Next has read,
// or ctx ends (returning ctx.Err()). It wakes at once on appends and
// inserts through this DB and polls the feed file for those of another
// process.
func (f *Feed) Wait(ctx context.Context) error {
	if f.err != nil {
		return f.err
	}
	t := time.NewTimer(feedPoll)
	defer t.Stop()
	for {
		ch := f.db.Changed()
		if f.pending() {
			return nil
		}
		if err := f.db.errIfClosed(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		case <-t.C:
			t.Reset(feedPoll)
		}
	}
}

// pending reports whether Next may have something to return.
func (f *Feed) pending() bool {
	if f.it.l != nil && f.it.next <= f.to && f.it.next <= f.it.l.head.Load() {
		return true
	}
	if f.bend-f.bpos >= feedRecordSize {
		return true
	}
	fi, err := os.Stat(filepath.Join(f.db.dir, fileFeed))
	return err == nil && fi.Size() >= f.off+feedRecordSize
}
