package applog

import (
	"fmt"
	"io"
	"os"
)

// This file is the writer's recovery of one log's tail (recoverTail),
// run when the log is loaded: at Open, or on first use after a clean
// Open.

// recoverTail is the writer's recovery of one log, run whenever a
// writer loads it:
//
//  1. If the tail files have the sizes of the clean checkpoint, trust
//     it: read the head record (through the index) for its hash. Done.
//     (trustCheckpoint)
//  2. Otherwise scan the tail segment from its header, frame by frame
//     (length bounds, CRC, seq = previous+1), up to the first bad or
//     short frame or the end of the file.
//  3. Keep the records up to the last signed one; every durable batch
//     ends with a signed record, so the rest was never acknowledged.
//     If the cut would fall below the size the checkpoint recorded for
//     this segment (bytes known durable), that is corruption, not a torn
//     tail: nothing is cut, the log is marked broken (reads fail at that
//     seq, writes to it are refused) and Verify reports it. (scanTail)
//  4. Truncate the segment after the kept records, rewrite index entries
//     that differ from the scanned offsets, truncate the index, fsync
//     both if anything changed. (cutTail, fixIndex)
//  5. If the tail segment keeps no record, the head is the last record
//     of the previous segment (sealed segments end signed and were
//     fsynced when they were sealed). (headFromPrevious)
func (db *DB) recoverTail(l *logState, segs []*segment, ck *logCheckpoint, exact bool) error {
	tail := segs[len(segs)-1]
	if exact && ck != nil {
		var err error
		if segs, tail, err = db.cutToCheckpoint(l, segs, ck); err != nil {
			return err
		}
	}
	segF, err := db.files.acquire(tail.seg, false)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	defer db.files.release(segF)
	idxF, err := db.files.acquire(tail.idx, true)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	defer db.files.release(idxF)
	seg, idx := segF.File, idxF.File
	l.w.tail = tail
	if done, err := db.trustCheckpoint(l, segs, seg, idx, ck); done {
		return err
	}
	res, broken, err := db.scanTail(l, tail, seg, ck)
	if broken || err != nil {
		return err
	}
	if err := cutTail(db.fs, seg, tail, res.end); err != nil {
		return err
	}
	l.w.segSize = res.end
	if err := fixIndex(db.fs, idx, tail.base, res.offsets); err != nil {
		return err
	}
	if res.last == 0 {
		return db.headFromPrevious(l, segs)
	}
	l.w.head, l.w.hash = res.last, res.lastHash
	l.head.Store(res.last)
	return nil
}

// checkpointMatches reports whether the tail files have exactly the sizes
// the clean checkpoint recorded: then nothing was written since.
func checkpointMatches(tail *segment, ck *logCheckpoint) bool {
	if ck == nil || ck.tailBase != tail.base || ck.head < tail.base-1 {
		return false
	}
	si, err := os.Stat(tail.seg)
	if err != nil || si.Size() != ck.segSize {
		return false
	}
	ii, err := os.Stat(tail.idx)
	return err == nil && ii.Size() == ck.idxSize && ck.idxSize == indexSize(tail.base, ck.head)
}

// trustCheckpoint is step 1 of recoverTail: if the tail files have the
// sizes of the checkpoint, it takes the head from it and reports done.
func (db *DB) trustCheckpoint(l *logState, segs []*segment, seg, idx *os.File, ck *logCheckpoint) (done bool, err error) {
	tail := segs[len(segs)-1]
	if !checkpointMatches(tail, ck) {
		return false, nil
	}
	if ck.head == tail.base-1 {
		l.w.segSize = ck.segSize
		return true, db.headFromPrevious(l, segs)
	}
	h, err := tailRecordHash(db.fs, seg, idx, tail.base, ck.head)
	if err != nil {
		db.log.Warn("applog: checkpoint does not match the tail, scanning", "log", l.id, "err", err)
		return false, nil
	}
	l.w.head, l.w.hash, l.w.segSize = ck.head, h, ck.segSize
	l.head.Store(ck.head)
	return true, nil
}

// scanTail is steps 2 and 3 of recoverTail: it scans the tail segment
// (after mending a torn header) for the records up to the last signed
// one. broken reports a bad record below the durable floor: the log is
// marked broken and nothing may be cut.
func (db *DB) scanTail(l *logState, tail *segment, seg *os.File, ck *logCheckpoint) (res scanResult, broken bool, err error) {
	var floor int64
	if ck != nil && ck.tailBase == tail.base {
		floor = ck.segSize
	}
	var hdr [fileHeaderSize]byte
	n, _ := readFull(db.fs, seg, hdr[:], 0)
	if err := checkFileHeader(hdr[:n], magicSegment, tail.base); err != nil {
		if floor > 0 {
			db.markBroken(l, ck, l.corrupt(tail.base, tail.seg, 0, err))
			return res, true, nil
		}
		// A torn creation: start the segment afresh.
		db.log.Warn("applog: rewriting torn segment header", "log", l.id, "file", tail.seg, "err", err)
		if err := resetFile(db.fs, seg, magicSegment, tail.base); err != nil {
			return res, false, err
		}
	}
	if fi, err := seg.Stat(); err == nil && fi.Size() <= fileHeaderSize {
		// a new segment (as prepareLog or a roll leaves it): nothing to
		// scan, and no scan buffer to allocate
		res = scanResult{end: fileHeaderSize, stop: fileHeaderSize}
	} else {
		res = scanSegment(db.fs, seg, fileHeaderSize, tail.base, true, &l.rBuf)
		l.rBuf = nil
	}
	if res.end < floor {
		db.markBroken(l, ck, l.corrupt(res.last+1, tail.seg, res.end, fmt.Errorf("bad record below the durable size %d: %v", floor, res.stopErr)))
		return res, true, nil
	}
	if res.stopErr != nil || res.end != res.stop {
		db.log.Warn("applog: cutting torn tail", "log", l.id, "file", tail.seg, "offset", res.end, "reason", res.stopErr)
	}
	return res, false, nil
}

// cutTail is step 4 of recoverTail for the segment: truncate it to end
// and sync, if it is longer.
func cutTail(fs fileSystem, seg *os.File, tail *segment, end int64) error {
	fi, err := seg.Stat()
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	if fi.Size() == end {
		return nil
	}
	if err := fs.truncate(seg, end); err != nil {
		return fmt.Errorf("applog: cut torn tail of %s: %w", tail.seg, err)
	}
	if err := fs.sync(seg); err != nil {
		return fmt.Errorf("applog: cut torn tail of %s: %w", tail.seg, err)
	}
	return nil
}

// fixIndex makes the index file hold exactly the given offsets.
func fixIndex(fs fileSystem, idx *os.File, base uint64, offsets []int64) error {
	want := encodeIndex(base, offsets)
	fi, err := idx.Stat()
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	have := make([]byte, min(fi.Size(), int64(len(want))))
	if _, err := readFull(fs, idx, have, 0); err != nil && err != io.EOF {
		return fmt.Errorf("applog: read index %s: %w", idx.Name(), err)
	}
	changed := fi.Size() != int64(len(want))
	// rewrite from the first differing byte
	first := 0
	for first < len(have) && have[first] == want[first] {
		first++
	}
	if first < len(want) {
		if _, err := fs.writeAt(idx, want[first:], int64(first)); err != nil {
			return fmt.Errorf("applog: fix index %s: %w", idx.Name(), err)
		}
		changed = true
	}
	if fi.Size() > int64(len(want)) {
		if err := fs.truncate(idx, int64(len(want))); err != nil {
			return fmt.Errorf("applog: fix index %s: %w", idx.Name(), err)
		}
	}
	if changed {
		if err := fs.sync(idx); err != nil {
			return fmt.Errorf("applog: fix index %s: %w", idx.Name(), err)
		}
	}
	return nil
}

// headFromPrevious sets the writer head to the last record before the
// (empty) tail segment.
func (db *DB) headFromPrevious(l *logState, segs []*segment) error {
	tail := segs[len(segs)-1]
	if len(segs) == 1 {
		l.w.head, l.w.hash = 0, [hashSize]byte{}
		l.head.Store(0)
		if tail.base != 1 {
			db.markBroken(l, nil, l.corrupt(1, tail.seg, 0, fmt.Errorf("first segment starts at seq %d", tail.base)))
		}
		return nil
	}
	prev := segs[len(segs)-2]
	h, err := db.recordHash(l, prev, tail.base-1)
	if err != nil {
		db.markBroken(l, nil, l.corrupt(tail.base-1, prev.seg, 0, err))
		return nil
	}
	l.w.head, l.w.hash = tail.base-1, h
	l.head.Store(tail.base - 1)
	return nil
}

// markBroken records corruption found at open, which is not an error of
// Open: the log stays readable up to the corruption (its head is the
// durable floor ck, if known), writes to it fail with c, and Verify
// reports it.
func (db *DB) markBroken(l *logState, ck *logCheckpoint, c *CorruptError) {
	db.log.Error("applog: corruption found at open", "log", l.id, "err", c)
	l.broken.Store(c)
	if ck != nil {
		l.head.Store(ck.head)
	}
}

// cutToCheckpoint cuts a log back to its exact state entry (a clean
// state): whatever lies past it was written by a session that crashed
// before its first commit was acknowledged (see markDirty). It removes
// segments after the recorded tail and truncates the tail to the
// recorded sizes; it returns the segments left.
func (db *DB) cutToCheckpoint(l *logState, segs []*segment, ck *logCheckpoint) ([]*segment, *segment, error) {
	removed := false
	for len(segs) > 1 && segs[len(segs)-1].base > ck.tailBase {
		s := segs[len(segs)-1]
		db.log.Warn("applog: removing a segment past the clean state", "log", l.id, "file", s.seg)
		for _, p := range []string{s.seg, s.idx} {
			if err := db.fs.remove(p); err != nil && !isNotExist(err) {
				return nil, nil, fmt.Errorf("applog: %w", err)
			}
		}
		segs = segs[:len(segs)-1]
		removed = true
	}
	if removed {
		l.segs.Store(&segs)
		if err := db.fs.syncDir(l.dir); err != nil {
			return nil, nil, err
		}
	}
	tail := segs[len(segs)-1]
	if tail.base != ck.tailBase {
		return segs, tail, nil // not the recorded tail: recoverTail scans
	}
	for _, c := range []struct {
		path string
		size int64
	}{{tail.seg, ck.segSize}, {tail.idx, ck.idxSize}} {
		fi, err := os.Stat(c.path)
		if err != nil || c.size == 0 || fi.Size() <= c.size {
			continue
		}
		db.log.Warn("applog: cutting bytes past the clean state", "log", l.id, "file", c.path, "size", fi.Size(), "state", c.size)
		if err := db.truncatePath(c.path, c.size); err != nil {
			return nil, nil, err
		}
	}
	return segs, tail, nil
}

// tailRecordHash reads record seq of the tail segment through the
// writer's own handles (so that opening a log for a single append opens
// each file once) and returns its hash.
func tailRecordHash(fs fileSystem, seg, idx *os.File, base, seq uint64) ([hashSize]byte, error) {
	var ib [2 * indexEntrySize]byte
	n, err := readAt(fs, idx, ib[:], indexPos(base, seq))
	if n < indexEntrySize && err != nil && err != io.EOF {
		return [hashSize]byte{}, err
	}
	off, hint, err := decodeIndexEntry(ib[:n])
	if err != nil {
		return [hashSize]byte{}, err
	}
	if hint == 0 {
		hint = 512
	}
	var buf []byte
	r, err := readFrame(fs, seg, off, &buf, hint)
	if err == nil && r.seq != seq {
		err = fmt.Errorf("%w: %d, want %d", errSeq, r.seq, seq)
	}
	if err != nil {
		return [hashSize]byte{}, err
	}
	return r.hash(), nil
}

// truncatePath cuts the file at path to size, through the file cache
// (the writer reads and writes it next).
func (db *DB) truncatePath(path string, size int64) error {
	cf, err := db.files.acquire(path, false)
	if err != nil {
		return fmt.Errorf("applog: truncate %s: %w", path, err)
	}
	defer db.files.release(cf)
	if err := db.fs.truncate(cf.File, size); err != nil {
		return fmt.Errorf("applog: truncate %s: %w", path, err)
	}
	return nil
}
