package applog

import (
	"context"
	"errors"
	"fmt"
	"io"
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

	// A read-only feed that first reaches the end of the feed file
	// while a writer has committed since the last clean Close adds, in
	// memory, what the writer's repair would add after a crash: every
	// log whose head is past what the feed named (see repairTail).
	repaired bool
	repair   []feedRecord
	sawBad   bool // a feed record failed its CRC

	wakes int // Wait's wake-ups, for tests
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
			if errors.Is(f.it.err, ErrBlocked) {
				// deleted while read: hidden from now on
				f.it.dropFile()
				f.it.l, f.it.err = nil, nil
				continue
			}
			if f.it.err != nil {
				f.err = f.it.err
				return false
			}
			f.it.l = nil // clamped: the log holds less than the feed said
		}
		r, ok, err := f.nextRecord()
		if err == nil && ok {
			err = f.seek(r)
		}
		if err != nil {
			f.err = err
			return false
		}
		if !ok {
			return false
		}
	}
}

// nextRecord returns the next feed record: from the file, or once at
// its end, from what repairTail found missing; ok false if none is left
// now.
func (f *Feed) nextRecord() (feedRecord, bool, error) {
	r, ok, err := f.read()
	if err != nil {
		return feedRecord{}, false, err
	}
	if !ok && !f.repaired && (f.db.readOnly || f.sawBad || f.db.tab.damaged.Load()) {
		f.repaired = true
		if err := f.repairTail(); err != nil {
			return feedRecord{}, false, err
		}
	}
	if !ok && len(f.repair) > 0 {
		r, ok = f.repair[0], true
		f.repair = f.repair[1:]
	}
	return r, ok, nil
}

// seek points the feed's iterator at the entries of record r not
// returned yet, if any: those of its log past the highest seq returned,
// up to r's head (or the log's head, if it holds less).
func (f *Feed) seek(r feedRecord) error {
	if int(r.ord) >= f.db.tab.fileCount() {
		f.db.refreshTable()
	}
	l, err := f.db.logAt(r.ord)
	if err != nil {
		return err
	}
	if l == nil {
		// a hole, or a damaged record: the log's entries join the
		// feed under its new ordinal (see addLost) or from
		// repairTail
		f.db.log.Debug("applog: feed names no log", "offset", f.off-feedRecordSize, "ordinal", r.ord)
		return nil
	}
	if f.db.Blocked(l.id) {
		f.last[r.ord] = max(f.last[r.ord], r.head) // hidden (block.go)
		return nil
	}
	from := f.last[r.ord] + 1
	if r.head < from {
		return nil
	}
	if l.head.Load() < r.head {
		f.db.lo.refresh(l)
	}
	to := min(r.head, l.head.Load())
	if to < from {
		return nil
	}
	f.last[r.ord] = to
	if f.it.l != l || f.it.next != from || f.it.seg == nil {
		buf := f.it.buf
		f.it.reset(l, from)
		f.it.buf = buf
	}
	f.to = to
	return nil
}

// read returns the next feed record, ok false if none is complete yet.
func (f *Feed) read() (feedRecord, bool, error) {
	if f.bend-f.bpos < feedRecordSize {
		if f.f == nil {
			fh, err := f.db.fs.openFile(filepath.Join(f.db.dir, fileFeed), os.O_RDONLY, 0)
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
		b := f.buf
		if !f.db.readOnly {
			// in the writer's process, only what publish wrote in full
			b = b[:max(0, min(int64(len(b)), f.db.fw.end.Load()-f.off))]
		}
		n, err := readAt(f.db.fs, f.f, b, f.off)
		if err != nil && err != io.EOF {
			return feedRecord{}, false, fmt.Errorf("applog: read feed at offset %d: %w", f.off, err)
		}
		f.bpos, f.bend = 0, n-n%feedRecordSize
		if f.bend == 0 {
			return feedRecord{}, false, nil
		}
	}
	r, ok := decodeFeedRecord(f.buf[f.bpos:f.bend])
	if !ok {
		f.sawBad = true
		if f.bend-f.bpos < 2*feedRecordSize {
			f.bpos, f.bend = 0, 0
			return feedRecord{}, false, nil // torn or in progress: look again later
		}
		if _, next := decodeFeedRecord(f.buf[f.bpos+feedRecordSize : f.bend]); next {
			// damaged, not torn: a good record follows. Skip it; the
			// entries it named come with a later record of that log
			// or from repairTail.
			f.db.repairs.note("feed record at offset %d is damaged: skipped, its entries come from a later record or the logs' heads", f.off)
			f.bpos += feedRecordSize
			f.off += feedRecordSize
			return f.read()
		}
		// torn or in progress: look again later
		f.bpos, f.bend = 0, 0
		return feedRecord{}, false, nil
	}
	f.bpos += feedRecordSize
	f.off += feedRecordSize
	return r, true, nil
}

// repairTail queues, for a read-only feed at the end of the feed file,
// a record (ord, head) for every log whose durable head is past the
// highest seq the feed returned of it: entries a writer made durable
// whose feed records a crash lost, a damaged record skipped, or a log
// found from its directory after its table record was damaged. After a
// clean Close the feed names every head, so while the database is
// unchanged and undamaged there is nothing to look at.
func (f *Feed) repairTail() error {
	db := f.db
	if !f.sawBad && !db.tab.damaged.Load() && (!db.readOnly || db.st.unchanged()) {
		return nil
	}
	db.refreshTable()
	for ord := range uint32(db.tab.len()) {
		l, err := db.logAt(ord)
		if err != nil {
			return err
		}
		if l == nil {
			continue
		}
		db.lo.refresh(l)
		if h := l.head.Load(); h > f.last[ord] {
			f.repair = append(f.repair, feedRecord{ord: ord, head: h})
		}
	}
	return nil
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

// Cross-process feed readers look at the feed file with a backoff from
// feedPollMin to feedPollMax.
const (
	feedPollMin = 2 * time.Millisecond
	feedPollMax = 100 * time.Millisecond
)

// Wait blocks until the feed holds records beyond those Next has read,
// or ctx ends (returning ctx.Err()). In the writer's process it waits for
// the commit notification only; a read-only database, where another
// process writes, looks at the feed file after 2 ms, then twice as long
// each time, up to every 100 ms.
func (f *Feed) Wait(ctx context.Context) error {
	if f.err != nil {
		return f.err
	}
	var t *time.Timer
	var tc <-chan time.Time
	delay := feedPollMin
	if f.db.readOnly {
		t = time.NewTimer(delay)
		defer t.Stop()
		tc = t.C
	}
	for {
		f.wakes++
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
		case <-tc:
			delay = min(2*delay, feedPollMax)
			t.Reset(delay)
		}
	}
}

// pending reports whether Next may have something to return.
func (f *Feed) pending() bool {
	if f.it.l != nil && f.it.next <= f.to && f.it.next <= f.it.l.head.Load() {
		return true
	}
	if f.bend-f.bpos >= feedRecordSize || len(f.repair) > 0 {
		return true
	}
	if !f.db.readOnly {
		return f.db.fw.end.Load() >= f.off+feedRecordSize
	}
	fi, err := os.Stat(filepath.Join(f.db.dir, fileFeed))
	return err == nil && fi.Size() >= f.off+feedRecordSize
}
