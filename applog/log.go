package applog

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// logState is one log held by the database. Readers use only the atomic
// fields (head and the segment snapshot); the writer fields belong to the
// group-commit leader; refresh (read-only databases) holds rmu.
type logState struct {
	id  ID
	pub ed25519.PublicKey
	ord uint32
	dir string

	head   atomic.Uint64                // highest durable seq; always a signed record
	segs   atomic.Pointer[[]*segment]   // sorted by base, immutable snapshot
	broken atomic.Pointer[CorruptError] // set when open found corruption before the durable floor

	w        logWriter // the writer's (see submit)
	feedHead uint64    // highest head the feed names; guarded by db.qmu

	rmu  sync.Mutex // read-only refresh
	rOff int64      // offset after the head record in the tail segment
	rBuf []byte
}

// logWriter is the writer side of a log, touched only by the leader.
type logWriter struct {
	head     uint64
	hash     [hashSize]byte // hash of record head (zero if head is 0)
	tail     *segment
	seg, idx *os.File // open for writing
	segSize  int64
	wbuf     []byte // frames not yet written
	ibuf     []byte // index entries not yet written
	runN     int    // records since the last signed one
	runBytes int
	dirty    bool          // segment written since its last fdatasync
	idxDirty bool          // index written (or created) since its last fdatasync
	seal     *sealJob      // the previous segment being sealed, if any
	write    *pendingWrite // a buffer being written, if any
	spareW   []byte        // the other frame buffer
	spareI   []byte        // the other index buffer
	touched  bool          // part of the current commit
}

func (l *logState) segments() []*segment {
	if p := l.segs.Load(); p != nil {
		return *p
	}
	return nil
}

func (l *logState) corrupt(seq uint64, file string, off int64, err error) *CorruptError {
	return &CorruptError{Log: l.id, Seq: seq, File: file, Offset: off, Err: err}
}

// openLog opens the log of public key pub at ordinal ord. ck is the log's
// entry of the last clean checkpoint, or nil. A writer recovers the tail
// segment (cuts a torn tail, fixes the index); a reader only finds its
// durable head. A writer creates a missing log directory and first
// segment; with a round rd, it leaves their syncs to the round (see
// addLog).
func (db *DB) openLog(ord uint32, pub ed25519.PublicKey, ck *logCheckpoint, rd *round) (*logState, error) {
	id := idOf(pub)
	l := &logState{id: id, pub: pub, ord: ord, dir: filepath.Join(db.dir, string(id))}
	segs, err := listSegments(l.dir)
	if err != nil && !isNotExist(err) {
		return nil, fmt.Errorf("applog: open log %s: %w", id, err)
	}
	if len(segs) == 0 {
		l.segs.Store(&segs)
		if !db.readOnly {
			if err := os.MkdirAll(l.dir, 0o755); err != nil {
				return nil, fmt.Errorf("applog: %w", err)
			}
			if err := db.startSegment(l, 1, rd == nil); err != nil {
				return nil, err
			}
			if rd == nil {
				if err := syncDir(db.dir); err != nil {
					return nil, err
				}
			}
		}
		return l, nil
	}
	l.segs.Store(&segs)
	tail := segs[len(segs)-1]
	if db.readOnly {
		return l, db.openLogReader(l, tail, ck)
	}
	return l, db.recoverTail(l, segs, ck)
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
	return err == nil && ii.Size() == ck.idxSize && ck.idxSize == fileHeaderSize+int64(ck.head+1-tail.base)*indexEntrySize
}

// recoverTail is the writer's recovery of one log, run on every writer
// open:
//
//  1. If the tail files have the sizes of the clean checkpoint, trust
//     it: read the head record (through the index) for its hash. Done.
//  2. Otherwise scan the tail segment from its header, frame by frame
//     (length bounds, CRC, seq = previous+1), up to the first bad or
//     short frame or the end of the file.
//  3. Keep the records up to the last signed one; every durable batch
//     ends with a signed record, so the rest was never acknowledged.
//     If the cut would fall below the size the checkpoint recorded for
//     this segment (bytes known durable), that is corruption, not a torn
//     tail: nothing is cut, the log is marked broken (reads fail at that
//     seq, writes to it are refused) and Verify reports it.
//  4. Truncate the segment after the kept records, rewrite index entries
//     that differ from the scanned offsets, truncate the index, fsync
//     both if anything changed.
//  5. If the tail segment keeps no record, the head is the last record
//     of the previous segment (sealed segments end signed and were
//     fsynced when they were sealed).
func (db *DB) recoverTail(l *logState, segs []*segment, ck *logCheckpoint) error {
	tail := segs[len(segs)-1]
	seg, err := os.OpenFile(tail.seg, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	idx, err := os.OpenFile(tail.idx, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		seg.Close()
		return fmt.Errorf("applog: %w", err)
	}
	l.w.tail, l.w.seg, l.w.idx = tail, seg, idx
	if checkpointMatches(tail, ck) {
		if ck.head == tail.base-1 {
			l.w.segSize = ck.segSize
			return db.headFromPrevious(l, segs)
		}
		h, err := tailRecordHash(seg, idx, tail.base, ck.head)
		if err == nil {
			l.w.head, l.w.hash, l.w.segSize = ck.head, h, ck.segSize
			l.head.Store(ck.head)
			return nil
		}
		db.log.Warn("applog: checkpoint does not match the tail, scanning", "log", l.id, "err", err)
	}
	var floor int64
	if ck != nil && ck.tailBase == tail.base {
		floor = ck.segSize
	}
	var hdr [fileHeaderSize]byte
	n, _ := readFull(seg, hdr[:], 0)
	if err := checkFileHeader(hdr[:n], magicSegment, tail.base); err != nil {
		if floor > 0 {
			return db.markBroken(l, tail, ck, l.corrupt(tail.base, tail.seg, 0, err))
		}
		// A torn creation: start the segment afresh.
		db.log.Warn("applog: rewriting torn segment header", "log", l.id, "file", tail.seg, "err", err)
		if err := resetFile(seg, magicSegment, tail.base); err != nil {
			return err
		}
	}
	var res scanResult
	if fi, err := seg.Stat(); err == nil && fi.Size() <= fileHeaderSize {
		// a new segment (as prepareLog or a roll leaves it): nothing to
		// scan, and no scan buffer to allocate
		res = scanResult{end: fileHeaderSize, stop: fileHeaderSize}
	} else {
		res = scanSegment(seg, fileHeaderSize, tail.base, true, &l.rBuf)
		l.rBuf = nil
	}
	if res.end < floor {
		return db.markBroken(l, tail, ck, l.corrupt(res.last+1, tail.seg, res.end, fmt.Errorf("bad record below the durable size %d: %v", floor, res.stopErr)))
	}
	if res.stopErr != nil || res.end != res.stop {
		db.log.Warn("applog: cutting torn tail", "log", l.id, "file", tail.seg, "offset", res.end, "reason", res.stopErr)
	}
	if fi, err := seg.Stat(); err != nil {
		return fmt.Errorf("applog: %w", err)
	} else if fi.Size() != res.end {
		if err := seg.Truncate(res.end); err != nil {
			return fmt.Errorf("applog: truncate %s: %w", tail.seg, err)
		}
		if err := fdatasync(seg); err != nil {
			return err
		}
	}
	l.w.segSize = res.end
	if err := fixIndex(idx, tail.base, res.offsets); err != nil {
		return err
	}
	if res.last == 0 {
		return db.headFromPrevious(l, segs)
	}
	l.w.head, l.w.hash = res.last, res.lastHash
	l.head.Store(res.last)
	return nil
}

// fixIndex makes the index file hold exactly the given offsets.
func fixIndex(idx *os.File, base uint64, offsets []int64) error {
	want := make([]byte, fileHeaderSize+len(offsets)*indexEntrySize)
	h := fileHeader(magicIndex, base)
	copy(want, h[:])
	for i, o := range offsets {
		binary.LittleEndian.PutUint64(want[fileHeaderSize+i*indexEntrySize:], uint64(o))
	}
	fi, err := idx.Stat()
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	have := make([]byte, min(fi.Size(), int64(len(want))))
	if _, err := readFull(idx, have, 0); err != nil && err != io.EOF {
		return fmt.Errorf("applog: read index %s: %w", idx.Name(), err)
	}
	changed := fi.Size() != int64(len(want))
	// rewrite from the first differing byte
	first := 0
	for first < len(have) && have[first] == want[first] {
		first++
	}
	if first < len(want) {
		if _, err := idx.WriteAt(want[first:], int64(first)); err != nil {
			return fmt.Errorf("applog: fix index %s: %w", idx.Name(), err)
		}
		changed = true
	}
	if fi.Size() > int64(len(want)) {
		if err := idx.Truncate(int64(len(want))); err != nil {
			return fmt.Errorf("applog: %w", err)
		}
	}
	if changed {
		return fdatasync(idx)
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
			return db.markBroken(l, tail, nil, l.corrupt(1, tail.seg, 0, fmt.Errorf("first segment starts at seq %d", tail.base)))
		}
		return nil
	}
	prev := segs[len(segs)-2]
	h, err := db.recordHash(l, prev, tail.base-1)
	if err != nil {
		return db.markBroken(l, tail, nil, l.corrupt(tail.base-1, prev.seg, 0, err))
	}
	l.w.head, l.w.hash = tail.base-1, h
	l.head.Store(tail.base - 1)
	return nil
}

// markBroken records corruption found at open: the log stays readable up
// to the corruption, writes to it fail with c.
func (db *DB) markBroken(l *logState, tail *segment, ck *logCheckpoint, c *CorruptError) error {
	db.log.Error("applog: corruption found at open", "log", l.id, "err", c)
	l.broken.Store(c)
	if ck != nil {
		l.head.Store(ck.head)
	}
	return nil
}

// tailRecordHash reads record seq of the tail segment through the
// writer's own handles (so that opening a log for a single append opens
// each file once) and returns its hash.
func tailRecordHash(seg, idx *os.File, base, seq uint64) ([hashSize]byte, error) {
	var ib [2 * indexEntrySize]byte
	n, err := idx.ReadAt(ib[:], fileHeaderSize+int64(seq-base)*indexEntrySize)
	if n < indexEntrySize {
		if err == nil || err == io.EOF {
			err = errors.New("index entry missing")
		}
		return [hashSize]byte{}, err
	}
	off := int64(binary.LittleEndian.Uint64(ib[:]))
	hint := 512
	if n == len(ib) {
		if next := int64(binary.LittleEndian.Uint64(ib[indexEntrySize:])); next > off && next-off <= maxFrameSize {
			hint = int(next - off)
		}
	}
	if off < fileHeaderSize || off > 1<<62 {
		return [hashSize]byte{}, fmt.Errorf("index entry %d out of range", off)
	}
	var buf []byte
	r, err := readFrame(seg, off, &buf, hint)
	if err == nil && r.seq != seq {
		err = fmt.Errorf("%w: %d, want %d", errSeq, r.seq, seq)
	}
	if err != nil {
		return [hashSize]byte{}, err
	}
	return r.hash(), nil
}

// recordHash reads record seq of segment s and returns its hash.
func (db *DB) recordHash(l *logState, s *segment, seq uint64) ([hashSize]byte, error) {
	var buf []byte
	r, err := db.readRecord(l, s, seq, &buf)
	if err != nil {
		return [hashSize]byte{}, err
	}
	return r.hash(), nil
}

// readRecord reads record seq of segment s through the index.
func (db *DB) readRecord(l *logState, s *segment, seq uint64, buf *[]byte) (record, error) {
	segs := l.segments()
	sealed := len(segs) > 0 && segs[len(segs)-1] != s
	off, next, err := s.indexOffset(db, seq, sealed)
	if err != nil {
		if err == ErrClosed {
			return record{}, err
		}
		return record{}, l.corrupt(seq, s.idx, fileHeaderSize+int64(seq-s.base)*indexEntrySize, err)
	}
	f, cached, err := s.open(db, false)
	if err != nil {
		return record{}, err
	}
	if !cached {
		defer f.Close()
	}
	hint := 512
	if next > 0 {
		hint = int(next - off)
	}
	r, err := readFrame(f, off, buf, hint)
	if err == nil && r.seq != seq {
		err = fmt.Errorf("%w: %d, want %d", errSeq, r.seq, seq)
	}
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return record{}, ErrClosed
		}
		return record{}, l.corrupt(seq, s.seg, off, err)
	}
	return r, nil
}

// startSegment creates the segment and index starting at base and makes
// them the writer's tail; with sync, it also syncs their directory.
func (db *DB) startSegment(l *logState, base uint64, sync bool) error {
	s := newSegment(l.dir, base)
	seg, idx, err := createSegment(s, sync)
	if err != nil {
		return err
	}
	if l.w.seg != nil {
		l.w.seg.Close()
		l.w.idx.Close()
	}
	l.w.seg, l.w.idx = seg, idx
	l.w.idxDirty = true // its header is not synced yet
	l.installTail(s)
	return nil
}

// createSegment creates the files of s with their headers and, with
// sync, syncs the directory so that they exist after a crash.
func createSegment(s *segment, sync bool) (seg, idx *os.File, err error) {
	mk := func(path string, magic [8]byte) (*os.File, error) {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("applog: %w", err)
		}
		h := fileHeader(magic, s.base)
		if _, err := f.Write(h[:]); err != nil {
			f.Close()
			return nil, fmt.Errorf("applog: %w", err)
		}
		return f, nil
	}
	if seg, err = mk(s.seg, magicSegment); err != nil {
		return nil, nil, err
	}
	if idx, err = mk(s.idx, magicIndex); err != nil {
		seg.Close()
		return nil, nil, err
	}
	if !sync {
		return seg, idx, nil
	}
	if err := syncDir(filepath.Dir(s.seg)); err != nil {
		seg.Close()
		idx.Close()
		return nil, nil, err
	}
	return seg, idx, nil
}

// installTail makes s the writer's tail segment and adds it to the
// readers' snapshot (they read it only up to the published head).
func (l *logState) installTail(s *segment) {
	l.w.tail, l.w.segSize = s, fileHeaderSize
	old := l.segments()
	segs := make([]*segment, len(old), len(old)+1)
	copy(segs, old)
	segs = append(segs, s)
	l.segs.Store(&segs)
}

// openLogReader finds the durable head of a log for a read-only
// database: the checkpoint's if the tail is unchanged since, else the
// last signed record of the tail segment (or of the one before).
func (db *DB) openLogReader(l *logState, tail *segment, ck *logCheckpoint) error {
	if checkpointMatches(tail, ck) {
		l.head.Store(ck.head)
		l.rOff = ck.segSize
		return nil
	}
	l.rmu.Lock()
	defer l.rmu.Unlock()
	return db.refreshLocked(l, true)
}

// refresh looks for records a writer in another process made durable
// since the last look (read-only databases only).
func (db *DB) refresh(l *logState) {
	if !db.readOnly {
		return
	}
	l.rmu.Lock()
	defer l.rmu.Unlock()
	if err := db.refreshLocked(l, false); err != nil {
		db.log.Debug("applog: refresh", "log", l.id, "err", err)
	}
}

func (db *DB) refreshLocked(l *logState, initial bool) error {
	segs := l.segments()
	if len(segs) == 0 {
		s, err := listSegments(l.dir)
		if err != nil || len(s) == 0 {
			return nil
		}
		segs = s
		l.segs.Store(&segs)
		initial = true
	}
	tail := segs[len(segs)-1]
	if initial {
		l.rOff = fileHeaderSize
		if len(segs) > 1 || tail.base > 1 {
			// until the tail shows a signed record, the head is the end
			// of the previous segment
			l.head.Store(tail.base - 1)
		}
	}
	for {
		f, err := os.Open(tail.seg)
		if err != nil {
			return err
		}
		head := l.head.Load()
		if head+1 >= tail.base {
			res := scanSegment(f, l.rOff, head+1, false, &l.rBuf)
			if res.last > 0 {
				l.head.Store(res.last)
				l.rOff = res.end
				head = res.last
			}
		}
		f.Close()
		// has the writer rolled to a new segment?
		next := newSegment(l.dir, head+1)
		if _, err := os.Stat(next.seg); err != nil || head+1 == tail.base {
			break
		}
		segs = append(segs[:len(segs):len(segs)], next)
		l.segs.Store(&segs)
		tail = next
		l.rOff = fileHeaderSize
	}
	l.rBuf = nil // a reader holds no buffer between looks
	return nil
}
