package applog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"scuttle/applog/internal/osfile"
)

// openFeed opens the feed file for writing and repairs it (writer Open):
//
//  1. Start from the checkpoint's feed length and per-log feed heads if
//     the checkpoint is usable (the feed was fsynced up to there before
//     the checkpoint was written, and the feed only ever grows past it);
//     otherwise from the header with every head 0.
//  2. Scan the records after that point; the first one that is short,
//     fails its CRC or names an unknown log ends the feed: cut it there.
//  3. For every log whose durable head is beyond the last head the feed
//     names for it, append a feed record (ord, head): entries made
//     durable just before a crash join the feed at its end.
func (db *DB) openFeed(ck *checkpoint) error {
	path := filepath.Join(db.dir, fileFeed)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	db.feedF = f
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	size := fi.Size()
	var h [fileHeaderSize]byte
	n, _ := readFull(f, h[:], 0)
	if err := checkFileHeader(h[:n], magicFeed, 0); err != nil {
		if size > fileHeaderSize {
			// keep the damaged feed for inspection, start a new one
			aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().UnixNano())
			db.log.Error("applog: feed header damaged, starting a new feed", "moved", aside, "err", err)
			f.Close()
			db.feedF = nil
			if err := osfile.Rename(path, aside); err != nil {
				return fmt.Errorf("applog: %w", err)
			}
			return db.openFeed(nil)
		}
		if err := resetFile(f, magicFeed, 0); err != nil {
			return err
		}
		if err := syncDir(db.dir); err != nil {
			return err
		}
		size = fileHeaderSize
		ck = nil
	}
	list := db.logs.Load().list
	heads := make([]uint64, len(list))
	off := int64(fileHeaderSize)
	if ck != nil && ck.feedLen >= fileHeaderSize && ck.feedLen <= size && (ck.feedLen-fileHeaderSize)%feedRecordSize == 0 && len(ck.logs) <= len(list) {
		off = ck.feedLen
		for i, lc := range ck.logs {
			heads[i] = lc.feedHead
		}
	}
	buf := make([]byte, 64<<10)
	for off < size {
		n, err := readFull(f, buf[:min(int64(len(buf)), size-off)], off)
		if err != nil && n == 0 {
			return fmt.Errorf("applog: read feed: %w", err)
		}
		b := buf[:n-n%feedRecordSize]
		bad := false
		for len(b) > 0 {
			r, ok := decodeFeedRecord(b)
			if !ok || int(r.ord) >= len(list) {
				bad = true
				break
			}
			heads[r.ord] = max(heads[r.ord], r.head)
			b = b[feedRecordSize:]
			off += feedRecordSize
		}
		if bad || n < feedRecordSize {
			break
		}
	}
	if off != size {
		db.log.Warn("applog: cutting feed tail", "offset", off, "size", size)
		if err := f.Truncate(off); err != nil {
			return fmt.Errorf("applog: %w", err)
		}
	}
	db.feedLen = off
	db.hintLen = off
	db.feedSync = -1 // unknown: the next checkpoint syncs it
	if ck != nil && ck.feedLen == size && off == size {
		db.feedSync = off // as the last clean Close left it
	}
	var repair []byte
	for i, l := range list {
		l.feedHead = heads[i]
		if l.w.head > heads[i] {
			repair = appendFeedRecord(repair, feedRecord{ord: l.ord, head: l.w.head})
			l.feedHead = l.w.head
		}
	}
	if len(repair) > 0 {
		db.log.Info("applog: feed repaired", "records", len(repair)/feedRecordSize)
		if _, err := f.WriteAt(repair, db.feedLen); err != nil {
			return fmt.Errorf("applog: repair feed: %w", err)
		}
		db.feedLen += int64(len(repair))
	}
	return nil
}

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
		t := f.db.logs.Load()
		if int(r.ord) >= len(t.list) {
			t = f.db.table(true)
			if int(r.ord) >= len(t.list) {
				f.err = fmt.Errorf("%w: feed offset %d names log %d, only %d known", ErrCorrupt, f.off-feedRecordSize, r.ord, len(t.list))
				return false
			}
		}
		l := t.list[r.ord]
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
		if f.it.l != l || f.it.next != from || f.it.f == nil {
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
