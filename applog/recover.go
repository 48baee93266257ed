package applog

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"scuttle/applog/internal/parallel"
)

// This file is the writer's recovery, in the order of "Recovery" in
// doc.go: recover runs the steps, the functions after it are the steps.

// recover is the writer's Open after the lock and key pair:
//
//  1. Read the state header (openState) and the log table (readTable).
//  2. If the state says clean, lists every log of the table and the feed
//     has the length it records, nothing was committed since: load only
//     the own log now, and every other log on first use, cut back to
//     its state entry (logAt, openLog, cutToCheckpoint). Done.
//  3. Otherwise load every log now, recovering each tail (recoverTail,
//     several at once); find the logs the table does not list from
//     their directories (findLost, addLost); add the own log if missing.
//  4. Repair the feed (openFeed).
func (db *DB) recover() error {
	if err := db.openState(); err != nil {
		return err
	}
	f, err := db.fs.openFile(filepath.Join(db.dir, fileLogs), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	db.tab.f = f
	db.tab.fileMu.Lock()
	defer db.tab.fileMu.Unlock()
	if ok, err := db.openClean(); ok || err != nil {
		return err
	}
	db.lazy = false
	if err := db.readTable(); err != nil {
		return err
	}
	lost, err := db.findLost(true)
	if err != nil {
		return err
	}
	db.readAllCheckpoints()
	if err := db.loadAll(); err != nil {
		return err
	}
	if err := db.addLost(lost); err != nil {
		return err
	}
	defer func() { db.fw.end.Store(db.fw.size) }()
	if ord, ok := db.tab.lookup(db.sign.pub); ok {
		db.own = db.loadedLog(ord)
	}
	if db.own == nil {
		l, err := db.addLog(db.sign.pub, nil)
		if err != nil {
			return err
		}
		db.own = l
	}
	return db.openFeed(db.st.hdr)
}

// openClean is step 2 of recover: it reports false if the database was
// not closed cleanly (then nothing is changed).
func (db *DB) openClean() (bool, error) {
	h := db.st.hdr
	if h == nil || !h.clean {
		return false, nil
	}
	// the table as the state describes it, and the own log's record in
	// it, without reading the rest
	fi, err := db.tab.f.Stat()
	if err != nil || fi.Size() != fileHeaderSize+int64(h.n)*logsRecordSize {
		return false, nil
	}
	var b [fileHeaderSize]byte
	if _, err := readFull(db.fs, db.tab.f, b[:], 0); err != nil || checkFileHeader(b[:], magicLogs, 0) != nil {
		return false, nil
	}
	var rec [logsRecordSize]byte
	if _, err := readFull(db.fs, db.tab.f, rec[:], fileHeaderSize+int64(h.own)*logsRecordSize); err != nil {
		return false, nil
	}
	if pub, ok := decodeLogsRecord(rec[:]); !ok || !pub.Equal(db.sign.pub) {
		return false, nil
	}
	path := filepath.Join(db.dir, fileFeed)
	f, err := db.fs.openFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, nil
	}
	fi, err = f.Stat()
	var hb [fileHeaderSize]byte
	if err == nil {
		_, err = readFull(db.fs, f, hb[:], 0)
	}
	if err != nil || fi.Size() != h.feedLen || checkFileHeader(hb[:], magicFeed, 0) != nil {
		f.Close()
		return false, nil
	}
	db.fw.f = f
	db.fw.size, db.fw.synced, db.fw.hintLen = h.feedLen, h.feedLen, h.feedLen
	db.fw.end.Store(h.feedLen)
	db.lazy, db.st.clean = true, true
	t := db.tab
	t.n = int(h.n)
	t.loadFn = func() error {
		db.tab.fileMu.Lock()
		defer db.tab.fileMu.Unlock()
		if err := db.readTable(); err != nil {
			return err
		}
		// With a clean state the table has a record for every log of
		// an acknowledged entry, so every such log that findLost
		// finds has a hole; those it cannot place are orphans of an
		// insert never acknowledged, adopted when inserted again.
		lost, err := db.findLost(false)
		for _, l := range lost {
			db.noteRepair("log %s is not in the log table and has no hole to fill: left to be adopted by its next insert", idOf(l.pub))
		}
		return err
	}
	t.pending.Store(true)
	ck, _ := db.checkpointOf(h.own)
	own, err := db.openLog(h.own, db.sign.pub, ck, true, nil)
	if err != nil {
		return true, err
	}
	t.store(own)
	db.tab.nLoaded.Add(1)
	db.own = own
	return true, nil
}

// maxLoading bounds the logs loadAll recovers at once.
const maxLoading = 8

// loadAll loads every log of the table (step 3 of recover).
func (db *DB) loadAll() error {
	n := db.tab.len()
	logs := make([]*logState, n)
	err := parallel.Each(n, maxLoading, func(i int) error {
		pub, ok := db.tab.key(uint32(i))
		if !ok || db.skipsBlocked(pub) {
			return nil // a hole, or a blocked log: not loaded (see logAt)
		}
		ck, _ := db.checkpointOf(uint32(i))
		l, err := db.openLog(uint32(i), pub, ck, false, nil)
		logs[i] = l
		return err
	})
	if err != nil {
		return err
	}
	seen := make(map[ID]bool, n)
	for _, l := range logs {
		if l == nil {
			continue
		}
		if seen[l.id] {
			return fmt.Errorf("applog: %s: log %s listed twice", fileLogs, l.id)
		}
		seen[l.id] = true
		db.tab.store(l)
	}
	db.tab.nLoaded.Store(int64(len(seen)))
	return nil
}

// addLost adds, at new ordinals, the logs findLost found and could not
// put in a hole (a table cut short, or more lost logs than holes).
// Their records are adopted from their files (see addLog), so a damaged
// table costs a log its place in the feed, never an entry.
func (db *DB) addLost(lost []lostLog) error {
	for _, l := range lost {
		db.noteRepair("log %s was not in the log table: re-added from its directory", idOf(l.pub))
		if _, err := db.addLog(l.pub, nil); err != nil {
			return err
		}
	}
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

// recoverTail is the writer's recovery of one log, run on every writer
// open:
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
	n, err := fs.readAt(idx, ib[:], indexPos(base, seq))
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

// openFeed opens the feed file for writing and repairs it (writer Open):
//
//  1. Open it and check its header (openFeedFile). Start from the state
//     header's feed length and the entries' feed heads if the state is
//     usable (the feed was fsynced up to there before that length was
//     written, and the feed only ever grows past it; an entry's feed
//     head may be older, which costs at most a repeated feed record);
//     otherwise from the header with every head 0.
//  2. Scan the records after that point (scanFeed); the first one that
//     is short, fails its CRC or names an unknown log ends the feed: cut
//     it there.
//  3. For every log whose durable head is beyond the last head the feed
//     names for it, append a feed record (ord, head) (repairFeed):
//     entries made durable just before a crash join the feed at its end.
func (db *DB) openFeed(ck *stateHeader) error {
	size, ck, err := db.openFeedFile(ck)
	if err != nil {
		return err
	}
	nlogs := db.tab.len()
	heads := make([]uint64, nlogs)
	off := int64(fileHeaderSize)
	if ck != nil && ck.feedLen >= fileHeaderSize && ck.feedLen <= size && (ck.feedLen-fileHeaderSize)%feedRecordSize == 0 && int(ck.n) <= nlogs {
		off = ck.feedLen
		for i, lc := range db.st.allEntries() {
			heads[i] = lc.feedHead
		}
	}
	if off, err = db.scanFeed(off, size, heads); err != nil {
		return err
	}
	if off != size {
		if size-off > feedRecordSize {
			// more than a torn last record: damage
			db.noteRepair("feed record at offset %d is damaged: the feed is cut there (%d bytes) and repaired from the logs' heads", off, size-off)
		}
		db.log.Warn("applog: cutting feed tail", "offset", off, "size", size)
		if err := db.fs.truncate(db.fw.f, off); err != nil {
			return fmt.Errorf("applog: %w", err)
		}
	}
	db.fw.size = off
	db.fw.hintLen = off
	db.fw.synced = -1 // unknown: the next checkpoint syncs it
	if ck != nil && ck.feedLen == size && off == size {
		db.fw.synced = off // as the last clean Close left it
	}
	return db.repairFeed(heads)
}

// openFeedFile opens (or creates) the feed file for writing and checks
// its header (step 1 of openFeed). It returns the file's size, and ck,
// or nil if the feed was made anew: a feed whose header is damaged is
// moved aside (feed.corrupt-<time>) and a new one made.
func (db *DB) openFeedFile(ck *stateHeader) (int64, *stateHeader, error) {
	path := filepath.Join(db.dir, fileFeed)
	f, err := db.fs.openFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, nil, fmt.Errorf("applog: %w", err)
	}
	db.fw.f = f
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, fmt.Errorf("applog: %w", err)
	}
	size := fi.Size()
	var h [fileHeaderSize]byte
	n, _ := readFull(db.fs, f, h[:], 0)
	err = checkFileHeader(h[:n], magicFeed, 0)
	if err == nil {
		return size, ck, nil
	}
	if size > fileHeaderSize {
		// keep the damaged feed for inspection, start a new one
		aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().UnixNano())
		db.noteRepair("feed header was damaged (%v): moved to %s, a new feed made from the logs' heads", err, aside)
		f.Close()
		db.fw.f = nil
		if err := db.fs.rename(path, aside); err != nil {
			return 0, nil, fmt.Errorf("applog: %w", err)
		}
		return db.openFeedFile(nil)
	}
	if err := resetFile(db.fs, f, magicFeed, 0); err != nil {
		return 0, nil, err
	}
	if err := db.fs.syncDir(db.dir); err != nil {
		return 0, nil, err
	}
	return fileHeaderSize, nil, nil
}

// scanFeed reads the feed's records from off up to size into heads (the
// highest head each names per ordinal), and returns the offset after
// the last good one: the first that is short, fails its CRC or names an
// unknown log ends the feed (step 2 of openFeed).
func (db *DB) scanFeed(off, size int64, heads []uint64) (int64, error) {
	buf := make([]byte, 64<<10)
	for off < size {
		n, err := readFull(db.fs, db.fw.f, buf[:min(int64(len(buf)), size-off)], off)
		if err != nil && n == 0 {
			return off, fmt.Errorf("applog: read feed: %w", err)
		}
		b := buf[:n-n%feedRecordSize]
		for len(b) > 0 {
			r, ok := decodeFeedRecord(b)
			if !ok || int(r.ord) >= len(heads) {
				return off, nil
			}
			heads[r.ord] = max(heads[r.ord], r.head)
			b = b[feedRecordSize:]
			off += feedRecordSize
		}
		if n < feedRecordSize {
			break
		}
	}
	return off, nil
}

// repairFeed appends (ord, head) for every loaded log whose durable head
// is beyond heads[ord], the last the feed names for it (step 3 of
// openFeed).
func (db *DB) repairFeed(heads []uint64) error {
	var repair []byte
	db.eachLoaded(func(l *logState) {
		l.feedHead = heads[l.ord]
		if l.w.head > heads[l.ord] {
			repair = appendFeedRecord(repair, feedRecord{ord: l.ord, head: l.w.head})
			l.feedHead = l.w.head
		}
	})
	if len(repair) == 0 {
		return nil
	}
	db.log.Info("applog: feed repaired", "records", len(repair)/feedRecordSize)
	if _, err := db.fs.writeAt(db.fw.f, repair, db.fw.size); err != nil {
		return fmt.Errorf("applog: repair feed: %w", err)
	}
	db.fw.size += int64(len(repair))
	return nil
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
