package applog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// Entry is one entry of a log as a reader sees it.
type Entry struct {
	Log  ID
	Seq  uint64    // 1, 2, 3… with no gaps
	Time time.Time // the author's timestamp
	// Data is the payload. From Get it is the caller's; from Iter.Entry
	// and Feed.Entry it is valid until the next call of Next.
	Data []byte
}

// Get returns entry seq of log id, reading one index entry and one
// frame. It returns an error wrapping ErrNotFound if the database does
// not hold it, and a *CorruptError if the stored record fails its checks.
func (db *DB) Get(id ID, seq uint64) (Entry, error) {
	if err := db.errIfClosed(); err != nil {
		return Entry{}, err
	}
	l, err := db.logOf(id, true)
	if err != nil {
		return Entry{}, err
	}
	if l == nil || seq == 0 {
		return Entry{}, fmt.Errorf("%w: log %s seq %d", ErrNotFound, id, seq)
	}
	if seq > l.head.Load() {
		db.lo.refresh(l)
		if seq > l.head.Load() {
			return Entry{}, fmt.Errorf("%w: log %s seq %d (head %d)", ErrNotFound, id, seq, l.head.Load())
		}
	}
	s := findSegment(l.segments(), seq)
	if s == nil {
		return Entry{}, l.corrupt(seq, l.dir, 0, errors.New("no segment holds it"))
	}
	var buf []byte
	r, err := db.rr.read(l, s, seq, &buf)
	if err != nil {
		if db.closed.Load() {
			return Entry{}, ErrClosed
		}
		return Entry{}, err
	}
	return Entry{Log: id, Seq: seq, Time: time.Unix(0, r.time), Data: r.payload}, nil
}

// Iter reads one log in seq order. It sees records stored after it was
// made: each Next reads up to the log's durable head at that moment. An
// Iter is not safe for concurrent use; Close releases its buffer.
type Iter struct {
	db   *DB
	id   ID
	l    *logState
	next uint64 // the seq Next returns next

	seg    *segment
	segEnd uint64 // base of the following segment; 0 if s was the tail when positioned

	buf     []byte
	bufOff  int64  // file offset of buf[0]
	pos     int    // next frame in buf
	end     int    // bytes valid in buf
	validTo uint64 // buf holds immutable bytes only for seqs <= validTo

	cur       record
	err       error
	closed    bool
	fromIndex bool // positioned through the index, not yet confirmed by a record
	skip      bool // skipping records before it.next (positioned without the index)
}

// iterBufSize is an Iter's read size.
const iterBufSize = 256 << 10

// Iter returns an iterator over log id from seq from (from <= 1: the
// start).
func (db *DB) Iter(id ID, from uint64) *Iter {
	return &Iter{db: db, id: id, next: max(from, 1)}
}

// reset repositions it on log l at seq from, keeping its buffer.
func (it *Iter) reset(l *logState, from uint64) {
	it.dropFile()
	it.l, it.id, it.next, it.seg = l, l.id, from, nil
	it.pos, it.end = 0, 0
	it.cur = record{}
}

// Next advances to the next entry; false at the current head, on error
// (see Err) or after Close. Next may return true again later, once more
// records are stored. Its common path (the next record is in the
// buffer) makes no call but decodeRecord; the other steps are the
// functions after it.
func (it *Iter) Next() bool {
	if it.err != nil || it.closed {
		return false
	}
	if it.db.closed.Load() {
		it.err = ErrClosed
		return false
	}
	var head uint64
	if it.l != nil {
		head = it.l.head.Load()
	}
	if it.l == nil || it.next > head {
		var ok bool
		if head, ok = it.readableHead(); !ok {
			return false
		}
	}
	if it.seg == nil || (it.segEnd != 0 && it.next >= it.segEnd) || it.next > it.validTo {
		if err := it.reposition(); err != nil {
			it.fail(err)
			return false
		}
	}
	for {
		r, err := decodeRecord(it.buf[it.pos:it.end])
		if (it.skip || it.fromIndex) && it.realign(&r, err) {
			continue
		}
		if err != nil {
			if err := it.more(head, err); err != nil {
				it.fail(err)
				return false
			}
			continue
		}
		if r.seq != it.next {
			it.fail(it.corrupt(fmt.Errorf("%w: %d, want %d", errSeq, r.seq, it.next)))
			return false
		}
		it.fromIndex, it.skip = false, false
		it.cur = r
		it.pos += len(r.frame)
		it.next++
		return true
	}
}

// readableHead returns the head Next may read up to when the log is not
// known yet or it.next is past its head: the log's durable head,
// refreshed, and taken from the log's loaded state if the one it holds
// was unloaded. ok is false if there is nothing to read: no such log,
// it.next past the head, or an error (recorded with fail).
func (it *Iter) readableHead() (head uint64, ok bool) {
	db := it.db
	if it.l == nil {
		l, err := db.logOf(it.id, true)
		if err != nil {
			it.fail(err)
			return 0, false
		}
		if it.l = l; l == nil {
			return 0, false
		}
	}
	l := it.l
	if head = l.head.Load(); it.next <= head {
		return head, true
	}
	db.lo.refresh(l)
	if head = l.head.Load(); it.next > head && l.unloaded.Load() {
		// unloaded (unload.go): its head no longer moves; the log's
		// loaded state may be further on
		nl, err := db.logOf(it.id, true)
		if err != nil {
			it.fail(err)
			return 0, false
		}
		if nl != nil && nl != l {
			it.reset(nl, it.next)
			head = nl.head.Load()
		}
	}
	return head, it.next <= head
}

// reposition moves to the segment of it.next if the iterator is not in
// it, and drops the buffered bytes past the head of the last read: they
// may have been cut and rewritten since.
func (it *Iter) reposition() error {
	if it.seg == nil || (it.segEnd != 0 && it.next >= it.segEnd) {
		if err := it.position(); err != nil {
			return err
		}
	}
	if it.next > it.validTo {
		it.bufOff += int64(it.pos)
		it.pos, it.end = 0, 0
	}
	return nil
}

// realign handles a decoded record (or err) while the iterator looks for
// it.next after positioning: it skips records before it.next when
// scanning from the segment's header, and starts that scan when the
// index led astray (the index is derived data, the segment the truth).
// It reports whether it consumed the record, so that Next decodes again.
func (it *Iter) realign(r *record, err error) bool {
	if err == nil && it.skip && r.seq < it.next {
		it.pos += len(r.frame)
		return true
	}
	if it.fromIndex && !errors.Is(err, errShort) && (err != nil || r.seq != it.next) {
		it.fromIndex, it.skip = false, true
		it.bufOff, it.pos, it.end = fileHeaderSize, 0, 0
		return true
	}
	return false
}

// more handles err from decoding at the buffer's position: a record cut
// short by the end of the buffer makes it read more of the log (the
// rest of the segment or, at the end of its file, the segment the log
// rolled to at it.next); anything else is corruption.
func (it *Iter) more(head uint64, err error) error {
	if !errors.Is(err, errShort) {
		return it.corrupt(err)
	}
	n, err := it.fill(head)
	if err != nil || n > 0 {
		return err
	}
	if s := findSegment(it.l.segments(), it.next); s != nil && s != it.seg && s.base == it.next {
		return it.position()
	}
	return it.corrupt(errShort)
}

// corrupt returns a *CorruptError for err met at it.next, at the
// buffer's position in the segment.
func (it *Iter) corrupt(err error) error {
	return it.l.corrupt(it.next, it.seg.seg, it.bufOff+int64(it.pos), err)
}

// fail ends the iteration with err: ErrClosed once the DB is closed, an
// error matching ErrBlocked if the log's files were deleted under it.
func (it *Iter) fail(err error) {
	switch {
	case it.db.closed.Load() || errors.Is(err, os.ErrClosed):
		err = ErrClosed
	case it.l != nil && (it.l.dropped.Load() || errors.Is(err, fs.ErrNotExist) && it.db.Blocked(it.l.id)):
		// a running writer (this process's, or another's for a
		// read-only DB) deleted the log's files under it: not damage
		err = fmt.Errorf("%w: log %s deleted while read: %w", ErrBlocked, it.l.id.Short(), err)
	}
	it.err = err
}

// position finds the segment and offset of it.next.
func (it *Iter) position() error {
	segs := it.l.segments()
	s := findSegment(segs, it.next)
	if s == nil {
		return it.l.corrupt(it.next, it.l.dir, 0, errors.New("no segment holds it"))
	}
	it.segEnd = 0
	for i := len(segs) - 1; i >= 0 && segs[i].base > s.base; i-- {
		it.segEnd = segs[i].base
	}
	off := int64(fileHeaderSize)
	it.fromIndex, it.skip = false, false
	if it.next != s.base {
		o, _, err := it.db.rr.indexOffset(s, it.next, s != segs[len(segs)-1])
		switch {
		case err == ErrClosed:
			return err
		case err != nil:
			it.skip = true // no usable index entry: scan from the start
		default:
			off, it.fromIndex = o, true
		}
	}
	it.seg = s
	it.bufOff, it.pos, it.end = off, 0, 0
	it.validTo = 0
	return nil
}

// fill reads more of the segment into the buffer after the unparsed
// bytes; it returns how many bytes it added.
func (it *Iter) fill(head uint64) (int, error) {
	rest := copy(it.buf, it.buf[it.pos:it.end])
	if it.buf == nil {
		it.buf = make([]byte, iterBufSize)
	}
	it.bufOff += int64(it.pos)
	it.pos, it.end = 0, rest
	if rest > 0 {
		if fl, err := frameLen(it.buf[:rest]); err == nil && fl > len(it.buf) {
			nb := make([]byte, fl)
			copy(nb, it.buf[:rest])
			it.buf = nb
		}
	}
	if rest == len(it.buf) {
		return 0, it.corrupt(errLength)
	}
	it.validTo = head
	cf, err := it.db.files.acquire(it.seg.seg, false)
	if err != nil {
		return 0, fmt.Errorf("applog: %w", err)
	}
	n, err := readAt(it.db.fs, cf.File, it.buf[rest:], it.bufOff+int64(rest))
	it.db.files.release(cf)
	it.end += n
	if n == 0 && err != nil && !errors.Is(err, os.ErrClosed) && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("applog: read %s: %w", it.seg.seg, err)
	}
	if errors.Is(err, os.ErrClosed) {
		return 0, ErrClosed
	}
	return n, nil
}

// dropFile forgets the segment, so that the next Next positions anew.
func (it *Iter) dropFile() {
	it.seg = nil
}

// Entry returns the current entry; Data is valid until the next Next.
func (it *Iter) Entry() Entry {
	return Entry{Log: it.id, Seq: it.cur.seq, Time: time.Unix(0, it.cur.time), Data: it.cur.payload}
}

// Record returns the current record encoded as stored and as Insert takes
// it on a peer: self-delimiting, with seq, time, previous hash, payload
// and the signature if any. Valid until the next Next.
func (it *Iter) Record() []byte { return it.cur.frame }

// Signed reports whether the current record carries the author's
// signature over the chain up to it.
func (it *Iter) Signed() bool { return it.cur.signed() }

// Err returns the error that ended the iteration, if any; a corruption
// is a *CorruptError naming log, seq, file and offset.
func (it *Iter) Err() error { return it.err }

// Close releases the iterator; it is idempotent.
func (it *Iter) Close() error {
	it.dropFile()
	it.closed = true
	it.buf = nil
	return nil
}
