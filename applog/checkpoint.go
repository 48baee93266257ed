package applog

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// This file reads and writes the state file (see "State" in doc.go): a
// header and one fixed-size entry per log ordinal, each with its own
// CRC, read one at a time when a log is first used, and rewritten in
// place only for the logs that changed.

// stateFile is the state file as a DB holds it: its methods read and
// write the entries and the header. The entries are written by the
// commit leader (markDirty, an unload's writeEntries, a block's
// dropLog) and by Close (writeClean), which the committer's drain
// keeps apart; feed hints (writeFeedLen) write the header only, one at a
// time.
type stateFile struct {
	fs  fileSystem
	f   *os.File
	hdr *stateHeader // the header as Open found it; nil if none or damaged
	// all is every entry, read at once: by an Open that loads every
	// log, or by a lazy writer's first Heads (eachHead), which may run
	// while other goroutines load logs (checkpoint).
	all   atomic.Pointer[[]logCheckpoint]
	clean bool // writer leader: the header on disk still says clean (markDirty)
	// lazy: Open found a clean state, so a writer loads logs on first
	// use and a reader trusts the entries while unchanged.
	lazy bool

	dir      string     // the database's directory, which holds the state file
	readOnly bool       // a reader's state file is opened read-only, and never written
	repairs  *repairLog // where damaged entries are noted
	log      *slog.Logger

	exactMu sync.Mutex
	exact   []uint64 // bit ord: its entry was written by an unload, and the log not loaded since (unload.go)
}

// open opens the state file and reads its header. A missing or damaged
// header leaves st.hdr nil: every entry is then unknown.
func (st *stateFile) open() error {
	path := filepath.Join(st.dir, fileState)
	var f *os.File
	var err error
	if st.readOnly {
		f, err = st.fs.openFile(path, os.O_RDONLY, 0)
	} else {
		f, err = st.fs.openFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	}
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return fmt.Errorf("applog: open %s: %w", path, err)
	}
	st.f = f
	var b [stateHeaderSize]byte
	n, _ := readFull(st.fs, f, b[:], 0)
	if n == 0 {
		return nil
	}
	h, err := decodeStateHeader(b[:n])
	if err != nil {
		if n >= 8 && [8]byte(b[:8]) == magicState {
			st.repairs.note("state header is damaged (%v): every log's tail is scanned", err)
		} else {
			st.log.Warn("applog: ignoring an old state file", "file", path, "err", err)
		}
		return nil
	}
	st.hdr = &h
	// Exact as long as unchanged() holds, and if the feed and the log
	// table are as long as the clean Close left them (as a writer's
	// openClean checks): a feed cut short since (damage) names fewer
	// heads than the entries, so Feed.repairTail must look, and a table
	// of another length may have its records at other ordinals than the
	// entries.
	st.lazy = st.readOnly && h.clean && sizeOf(filepath.Join(st.dir, fileFeed)) == h.feedLen &&
		sizeOf(filepath.Join(st.dir, fileLogs)) == fileHeaderSize+int64(h.n)*logsRecordSize
	return nil
}

// sizeOf returns the size of the file at path; -1 if it cannot be read.
func sizeOf(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// unchanged reports, for a read-only database, whether the state file
// still says clean in the generation Open found: then no writer has
// committed since, and the state entries are exact. It costs one pread.
func (st *stateFile) unchanged() bool {
	return st.readOnly && st.lazy && st.stillClean()
}

// stillClean reports whether the header on disk says clean in the
// generation Open found.
func (st *stateFile) stillClean() bool {
	if st.f == nil || st.hdr == nil {
		return false
	}
	var b [stateHeaderSize]byte
	if _, err := readFull(st.fs, st.f, b[:], 0); err != nil {
		return false
	}
	h, err := decodeStateHeader(b[:])
	return err == nil && h.clean && h.gen == st.hdr.gen
}

// checkpoint returns the entry for ordinal ord, or nil if there is none
// or it is damaged, or recovered(ord) says the log at ord was found from
// its directory (logTable.isRecovered), so the entry is not known to be
// its own. exact reports that the entry describes the log exactly (a
// clean Close wrote it and no commit happened since), not just a durable
// floor.
func (st *stateFile) checkpoint(ord uint32, recovered func(uint32) bool) (ck *logCheckpoint, exact bool) {
	if st.isExact(ord) {
		// written when the log was unloaded, and unchanged since
		if e, ok := st.readEntry(ord); ok {
			return &e, true
		}
		return nil, false
	}
	h := st.hdr
	if h == nil || ord >= h.n || st.f == nil || recovered(ord) {
		return nil, false
	}
	if all := st.all.Load(); all != nil {
		if e := (*all)[ord]; e.tailBase != 0 {
			return &e, st.lazy
		}
		return nil, false
	}
	var b [stateEntrySize]byte
	if _, err := readFull(st.fs, st.f, b[:], stateEntryOffset(ord)); err != nil {
		return nil, false
	}
	e, ok := decodeStateEntry(b[:])
	if !ok {
		if !isZero(b[:]) {
			st.repairs.note("state entry %d is damaged: the log's tail is scanned", ord)
		}
		return nil, false
	}
	return &e, st.lazy
}

// readEntry reads the state entry of ord from the file.
func (st *stateFile) readEntry(ord uint32) (logCheckpoint, bool) {
	var b [stateEntrySize]byte
	if st.f == nil {
		return logCheckpoint{}, false
	}
	if _, err := readFull(st.fs, st.f, b[:], stateEntryOffset(ord)); err != nil {
		return logCheckpoint{}, false
	}
	return decodeStateEntry(b[:])
}

// setAll caches every entry (nil: none).
func (st *stateFile) setAll(all []logCheckpoint) {
	if all == nil {
		st.all.Store(nil)
		return
	}
	st.all.Store(&all)
}

// allEntries returns the cached entries, nil if none are.
func (st *stateFile) allEntries() []logCheckpoint {
	if p := st.all.Load(); p != nil {
		return *p
	}
	return nil
}

// readAll reads every entry of the state file; damaged entries are left
// zero (unknown).
func (st *stateFile) readAll() []logCheckpoint {
	if st.hdr == nil {
		return nil
	}
	return st.readN(st.hdr.n)
}

// readN reads the first count entries of the state file, as far as it
// has them; damaged or missing ones are left zero (unknown).
func (st *stateFile) readN(count uint32) []logCheckpoint {
	if st.f == nil || count == 0 {
		return nil
	}
	b := make([]byte, int64(count)*stateEntrySize)
	n, _ := readFull(st.fs, st.f, b, stateHeaderSize)
	all := make([]logCheckpoint, count)
	for i := range all {
		if (i+1)*stateEntrySize > n {
			break
		}
		if e, ok := decodeStateEntry(b[i*stateEntrySize:]); ok {
			all[i] = e
		}
	}
	return all
}

// readRaw returns the bytes of every entry of the state file (for
// Verify); nil if there is no usable header.
func (st *stateFile) readRaw() [][]byte {
	h := st.hdr
	if h == nil || st.f == nil || h.n == 0 {
		return nil
	}
	b := make([]byte, int64(h.n)*stateEntrySize)
	n, _ := readFull(st.fs, st.f, b, stateHeaderSize)
	out := make([][]byte, 0, h.n)
	for i := 0; (i+1)*stateEntrySize <= n; i++ {
		out = append(out, b[i*stateEntrySize:(i+1)*stateEntrySize])
	}
	return out
}

// markDirty makes the state file say "not clean" before the first commit
// after a clean Open becomes durable: the round writes the header and
// syncs the state file with its own files (so it costs no extra wait).
// Until that sync completes, nothing of the round is acknowledged, so a
// header still saying clean after a crash describes every acknowledged
// record. Leader only.
func (st *stateFile) markDirty(rd *round) error {
	if !st.clean {
		return nil
	}
	st.clean = false
	h := *st.hdr
	h.clean = false
	b := encodeStateHeader(h)
	if _, err := st.fs.writeAt(st.f, b[:], 0); err != nil {
		return fmt.Errorf("applog: write state: %w", err)
	}
	rd.syncPlain = append(rd.syncPlain, st.f)
	return nil
}

// writeCheckpoint, at Close, syncs the feed and every tail index written
// since its last sync, writes the entries of the logs that changed
// since Open, syncs them, and then writes the header saying clean.
//
// A tail index that was closed while idle (see fileCache) is not opened
// again to be synced: its entry records the index as not known synced
// (idxSize 0), so the next Open checks it against the segment. If no
// log changed since a clean Open, nothing is written.
func (db *DB) writeCheckpoint() error {
	db.tab.loadMu.Lock() // no log is loaded meanwhile (logAt fails after Close anyway)
	defer db.tab.loadMu.Unlock()
	if err := db.sw.flushAll(db.tab.loadedLogs()); err != nil {
		return err
	}
	if db.st.f == nil {
		return nil
	}
	// entries made durable but not yet in the feed join it now, so that
	// a clean state means the feed names every head
	loaded := db.tab.loadedLogs()
	feedUnsynced, feedLen, err := db.fw.catchUp(loaded)
	if err != nil {
		return err
	}
	var files []*os.File
	var held []*cachedFile
	defer func() {
		for _, cf := range held {
			db.files.release(cf)
		}
	}()
	if feedUnsynced {
		files = append(files, db.fw.f)
	}
	var changes []entryChange
	for _, l := range loaded {
		e := l.entry(db.files, &files, &held)
		if l.ck == nil || *l.ck != e || l.ord >= db.st.count() {
			changes = append(changes, entryChange{l.ord, e})
		}
	}
	n := uint32(db.tab.count())
	if len(changes) == 0 && db.st.stillTrue(n) && len(files) == 0 {
		return nil // still true as it is
	}
	if err := syncAll(db.fs, files, nil); err != nil {
		return err
	}
	db.fw.markSynced(feedLen)
	for _, l := range loaded {
		l.w.idxDirty = false
	}
	return db.st.writeClean(stateHeader{clean: true, own: db.own.ord, n: n, feedLen: feedLen}, changes)
}

// stillTrue reports whether a clean state of n entries is on disk as it
// is. st.clean, not the header read at Open: a round that changed no
// entry (one that only deleted a blocked log, see dropLog) still marked
// the state dirty on disk.
func (st *stateFile) stillTrue(n uint32) bool {
	return st.clean && st.hdr != nil && st.hdr.n == n
}

// writeClean writes the state of Close: the changed entries (every
// entry, if the header Open found was unusable), cut to h.n entries and
// synced, and then header h, saying clean, of the next generation.
func (st *stateFile) writeClean(h stateHeader, changes []entryChange) error {
	n := h.n
	if st.hdr != nil {
		h.gen = st.hdr.gen + 1
	}
	if st.hdr == nil {
		if err := st.writeFull(n, changes); err != nil {
			return err
		}
	} else if err := st.writeEntries(changes); err != nil {
		return err
	}
	if err := st.fs.truncate(st.f, stateEntryOffset(n)); err != nil {
		return fmt.Errorf("applog: write state: %w", err)
	}
	// the entries are durable before the header says clean
	if err := st.fs.sync(st.f); err != nil {
		return err
	}
	b := encodeStateHeader(h)
	if _, err := st.fs.writeAt(st.f, b[:], 0); err != nil {
		return fmt.Errorf("applog: write state: %w", err)
	}
	return nil
}

// writeFull writes all n entries when no entry on disk is known good
// but those of unloaded logs (unload.go): those are kept, the changed
// ones written from memory, and the rest (holes) left unknown.
func (st *stateFile) writeFull(n uint32, changes []entryChange) error {
	full := make([]byte, int64(n)*stateEntrySize)
	for ord := range n {
		if st.isExact(ord) {
			if e, ok := st.readEntry(ord); ok {
				appendStateEntry(full[stateEntryOffset(ord)-stateHeaderSize:][:0], e)
			}
		}
	}
	for _, c := range changes {
		appendStateEntry(full[stateEntryOffset(c.ord)-stateHeaderSize:][:0], c.e)
	}
	if _, err := st.fs.writeAt(st.f, full, stateHeaderSize); err != nil {
		return fmt.Errorf("applog: write state: %w", err)
	}
	return nil
}

// entry returns the state entry that describes the idle log l exactly,
// once the tail index files it appends to files (held in held, from the
// file cache c) are synced; a tail index the cache closed unsynced gets
// index size 0, so that the next load checks it against the segment.
// Leader only.
func (l *logState) entry(c *fileCache, files *[]*os.File, held *[]*cachedFile) logCheckpoint {
	e := logCheckpoint{feedHead: l.feedHead}
	if l.w.tail == nil || l.broken.Load() != nil {
		return e
	}
	e.tailBase = l.w.tail.base
	e.segSize = l.w.segSize
	e.head = l.w.head
	e.idxSize = indexSize(l.w.tail.base, l.w.head)
	if l.w.idxDirty {
		if cf, err := c.acquireOpen(l.w.tail.idx); cf != nil && err == nil {
			*held = append(*held, cf)
			*files = append(*files, cf.File)
		} else {
			e.idxSize = 0 // closed unsynced: the next load checks it
		}
	}
	return e
}

// entryChange is a state entry to write.
type entryChange struct {
	ord uint32
	e   logCheckpoint
}

// writeEntries writes changed entries in place, in ordinal order,
// merging neighbours into one write.
func (st *stateFile) writeEntries(changes []entryChange) error {
	var buf []byte
	start := uint32(0)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if _, err := st.fs.writeAt(st.f, buf, stateEntryOffset(start)); err != nil {
			return fmt.Errorf("applog: write state: %w", err)
		}
		buf = buf[:0]
		return nil
	}
	for i, c := range changes {
		if i == 0 || c.ord != changes[i-1].ord+1 {
			if err := flush(); err != nil {
				return err
			}
			start = c.ord
		}
		buf = appendStateEntry(buf, c.e)
	}
	return flush()
}

// clearEntries makes the entries of ords unknown on disk, durably, so
// that no later Open trusts them (the logs they described were moved or
// deleted: mendHoles, dropLog), and drops the cached entries. Ordinals
// past the file's entries have none to clear.
func (st *stateFile) clearEntries(ords []uint32) error {
	if st.f == nil || st.hdr == nil {
		return nil
	}
	var zero [stateEntrySize]byte
	n := 0
	for _, ord := range ords {
		if ord < st.hdr.n {
			if _, err := st.fs.writeAt(st.f, zero[:], stateEntryOffset(ord)); err != nil {
				return fmt.Errorf("applog: write state entry %d: %w", ord, err)
			}
			n++
		}
	}
	if n > 0 {
		if err := st.fs.sync(st.f); err != nil {
			return err
		}
	}
	st.setAll(nil) // read again without the entries made unknown
	return nil
}

// count is the number of entries in the state file.
func (st *stateFile) count() uint32 {
	if st.hdr == nil {
		return 0
	}
	return st.hdr.n
}

// writeFeedLen records, while the writer runs, that the feed is durable
// up to feedLen (see feedWriter.hint); the header keeps saying not clean, and
// the entries are left as Open found them: still true durable floors.
func (st *stateFile) writeFeedLen(own uint32, feedLen int64) error {
	h := stateHeader{own: own, feedLen: feedLen}
	if st.hdr != nil {
		h.n, h.gen = st.hdr.n, st.hdr.gen
	}
	b := encodeStateHeader(h)
	_, err := st.fs.writeAt(st.f, b[:], 0)
	return err
}
