package applog

import (
	"fmt"
	"io"
	"log/slog"
	"os"
)

// This file is the writer's recovery of one log's tail (tailRecovery),
// run when the log is loaded: at Open, or on first use after a clean
// Open.

// tailRecovery recovers the tail of a log a writer loads (recover and
// its steps): it reads and mends the tail's files, and reads the record
// before the tail segment when the tail holds none.
type tailRecovery struct {
	fs    fileSystem
	files *fileCache
	rr    *recordReader
	log   *slog.Logger
}

// recover is the writer's recovery of log l, run whenever a writer
// loads it, from its segments segs and its state entry ck (exact: from a
// clean state):
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
func (tr tailRecovery) recover(l *logState, segs []*segment, ck *logCheckpoint, exact bool) error {
	tail := segs[len(segs)-1]
	if exact && ck != nil {
		var err error
		if segs, tail, err = tr.cutToCheckpoint(l, segs, ck); err != nil {
			return err
		}
	}
	segF, err := tr.files.acquire(tail.seg, false)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	defer tr.files.release(segF)
	idxF, err := tr.files.acquire(tail.idx, true)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	defer tr.files.release(idxF)
	seg, idx := segF.File, idxF.File
	l.w.tail = tail
	if done, err := tr.trustCheckpoint(l, segs, seg, idx, ck); done {
		return err
	}
	res, broken, err := tr.scanTail(l, tail, seg, ck)
	if broken || err != nil {
		return err
	}
	if err := cutTail(tr.fs, seg, tail, res.end); err != nil {
		return err
	}
	l.w.segSize = res.end
	if err := fixIndex(tr.fs, idx, tail.base, res.offsets); err != nil {
		return err
	}
	if res.last == 0 {
		return tr.headFromPrevious(l, segs)
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

// trustCheckpoint is step 1 of recover: if the tail files have the
// sizes of the checkpoint, it takes the head from it and reports done.
func (tr tailRecovery) trustCheckpoint(l *logState, segs []*segment, seg, idx *os.File, ck *logCheckpoint) (done bool, err error) {
	tail := segs[len(segs)-1]
	if !checkpointMatches(tail, ck) {
		return false, nil
	}
	if ck.head == tail.base-1 {
		l.w.segSize = ck.segSize
		return true, tr.headFromPrevious(l, segs)
	}
	h, err := tailRecordHash(tr.fs, seg, idx, tail.base, ck.head)
	if err != nil {
		tr.log.Warn("applog: checkpoint does not match the tail, scanning", "log", l.id, "err", err)
		return false, nil
	}
	l.w.head, l.w.hash, l.w.segSize = ck.head, h, ck.segSize
	l.head.Store(ck.head)
	return true, nil
}

// scanTail is steps 2 and 3 of recover: it scans the tail segment
// (after mending a torn header) for the records up to the last signed
// one. broken reports a bad record below the durable floor: the log is
// marked broken and nothing may be cut.
func (tr tailRecovery) scanTail(l *logState, tail *segment, seg *os.File, ck *logCheckpoint) (res scanResult, broken bool, err error) {
	var floor int64
	if ck != nil && ck.tailBase == tail.base {
		floor = ck.segSize
	}
	var hdr [fileHeaderSize]byte
	n, _ := readFull(tr.fs, seg, hdr[:], 0)
	if err := checkFileHeader(hdr[:n], magicSegment, tail.base); err != nil {
		if floor > 0 {
			tr.markBroken(l, ck, l.corrupt(tail.base, tail.seg, 0, err))
			return res, true, nil
		}
		// A torn creation: start the segment afresh.
		tr.log.Warn("applog: rewriting torn segment header", "log", l.id, "file", tail.seg, "err", err)
		if err := resetFile(tr.fs, seg, magicSegment, tail.base); err != nil {
			return res, false, err
		}
	}
	if fi, err := seg.Stat(); err == nil && fi.Size() <= fileHeaderSize {
		// a new segment (as prepare or a roll leaves it): nothing to
		// scan, and no scan buffer to allocate
		res = scanResult{end: fileHeaderSize, stop: fileHeaderSize}
	} else {
		res = scanSegment(tr.fs, seg, fileHeaderSize, tail.base, true, &l.rBuf)
		l.rBuf = nil
	}
	if res.end < floor {
		tr.markBroken(l, ck, l.corrupt(res.last+1, tail.seg, res.end, fmt.Errorf("bad record below the durable size %d: %v", floor, res.stopErr)))
		return res, true, nil
	}
	if res.stopErr != nil || res.end != res.stop {
		tr.log.Warn("applog: cutting torn tail", "log", l.id, "file", tail.seg, "offset", res.end, "reason", res.stopErr)
	}
	return res, false, nil
}

// cutTail is step 4 of recover for the segment: truncate it to end
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
func (tr tailRecovery) headFromPrevious(l *logState, segs []*segment) error {
	tail := segs[len(segs)-1]
	if len(segs) == 1 {
		l.w.head, l.w.hash = 0, [hashSize]byte{}
		l.head.Store(0)
		if tail.base != 1 {
			tr.markBroken(l, nil, l.corrupt(1, tail.seg, 0, fmt.Errorf("first segment starts at seq %d", tail.base)))
		}
		return nil
	}
	prev := segs[len(segs)-2]
	h, err := tr.rr.recordHash(l, prev, tail.base-1)
	if err != nil {
		tr.markBroken(l, nil, l.corrupt(tail.base-1, prev.seg, 0, err))
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
func (tr tailRecovery) markBroken(l *logState, ck *logCheckpoint, c *CorruptError) {
	tr.log.Error("applog: corruption found at open", "log", l.id, "err", c)
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
func (tr tailRecovery) cutToCheckpoint(l *logState, segs []*segment, ck *logCheckpoint) ([]*segment, *segment, error) {
	removed := false
	for len(segs) > 1 && segs[len(segs)-1].base > ck.tailBase {
		s := segs[len(segs)-1]
		tr.log.Warn("applog: removing a segment past the clean state", "log", l.id, "file", s.seg)
		for _, p := range []string{s.seg, s.idx} {
			if err := tr.fs.remove(p); err != nil && !isNotExist(err) {
				return nil, nil, fmt.Errorf("applog: %w", err)
			}
		}
		segs = segs[:len(segs)-1]
		removed = true
	}
	if removed {
		l.segs.Store(&segs)
		if err := tr.fs.syncDir(l.dir); err != nil {
			return nil, nil, err
		}
	}
	tail := segs[len(segs)-1]
	if tail.base != ck.tailBase {
		return segs, tail, nil // not the recorded tail: recover scans
	}
	for _, c := range []struct {
		path string
		size int64
	}{{tail.seg, ck.segSize}, {tail.idx, ck.idxSize}} {
		fi, err := os.Stat(c.path)
		if err != nil || c.size == 0 || fi.Size() <= c.size {
			continue
		}
		tr.log.Warn("applog: cutting bytes past the clean state", "log", l.id, "file", c.path, "size", fi.Size(), "state", c.size)
		if err := tr.truncatePath(c.path, c.size); err != nil {
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
func (tr tailRecovery) truncatePath(path string, size int64) error {
	cf, err := tr.files.acquire(path, false)
	if err != nil {
		return fmt.Errorf("applog: truncate %s: %w", path, err)
	}
	defer tr.files.release(cf)
	if err := tr.fs.truncate(cf.File, size); err != nil {
		return fmt.Errorf("applog: truncate %s: %w", path, err)
	}
	return nil
}
