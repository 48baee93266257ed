package applog

import (
	"crypto/ed25519"
	"fmt"
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

	head     atomic.Uint64                // highest durable seq; always a signed record
	segs     atomic.Pointer[[]*segment]   // sorted by base, immutable snapshot
	broken   atomic.Pointer[CorruptError] // set when open found corruption before the durable floor
	dropped  atomic.Bool                  // its data was deleted by a block (see dropLog)
	unloaded atomic.Bool                  // no longer the loaded state of its log (see unload.go)
	used     atomic.Bool                  // looked up since the unload sweep last passed it

	w        logWriter      // the writer's (see submit)
	feedHead uint64         // highest head the feed names; written under feedWriter.mu, read by the leader between rounds
	ck       *logCheckpoint // the state entry found when loaded; nil if none

	rmu  sync.Mutex // read-only refresh
	rOff int64      // offset after the head record in the tail segment
	rBuf []byte
}

// logWriter is the writer side of a log, touched only by the leader.
type logWriter struct {
	head     uint64
	hash     [hashSize]byte // hash of record head (zero if head is 0)
	tail     *segment
	seg, idx *cachedFile // the tail's files, held while a round writes the log
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
// state entry, or nil; exact says it describes the log exactly (a clean
// state), else it is a durable floor. A writer recovers the tail
// segment (cuts a torn tail, fixes the index); a reader only finds its
// durable head. A writer creates a missing log directory and first
// segment; with a round rd, it leaves their syncs to the round (see
// addLog).
func (db *DB) openLog(ord uint32, pub ed25519.PublicKey, ck *logCheckpoint, exact bool, rd *round) (*logState, error) {
	id := idOf(pub)
	l := &logState{id: id, pub: pub, ord: ord, dir: filepath.Join(db.dir, string(id)), ck: ck}
	if ck != nil {
		l.feedHead = ck.feedHead
	}
	if db.readOnly && exact && ck != nil && ck.tailBase == 1 {
		// one segment, exactly as the state describes it: no need to
		// look at the files until the writer changes something
		segs := []*segment{newSegment(l.dir, 1)}
		l.segs.Store(&segs)
		l.head.Store(ck.head)
		l.rOff = ck.segSize
		return l, nil
	}
	segs, err := listSegments(l.dir)
	if err != nil && !isNotExist(err) {
		return nil, fmt.Errorf("applog: open log %s: %w", id, err)
	}
	if len(segs) == 0 {
		l.segs.Store(&segs)
		if !db.readOnly {
			if err := db.fs.mkdirAll(l.dir, 0o755); err != nil {
				return nil, fmt.Errorf("applog: %w", err)
			}
			if err := db.files.startSegment(l, 1, rd == nil); err != nil {
				return nil, err
			}
			if rd == nil {
				if err := db.fs.syncDir(db.dir); err != nil {
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
	tr := tailRecovery{fs: db.fs, files: db.files, rr: &db.rr, log: db.log}
	return l, tr.recover(l, segs, ck, exact)
}

// startSegment creates the segment and index starting at base and makes
// them the writer's tail; with sync, it also syncs their directory. The
// files stay open in the cache, idle.
func (c *fileCache) startSegment(l *logState, base uint64, sync bool) error {
	s := newSegment(l.dir, base)
	seg, idx, err := c.createSegment(s, sync)
	if err != nil {
		return err
	}
	c.release(seg)
	c.release(idx)
	l.w.idxDirty = true // its header is not synced yet
	l.installTail(s)
	return nil
}

// createSegment creates the files of s with their headers and, with
// sync, syncs the directory so that they exist after a crash. It returns
// them held.
func (c *fileCache) createSegment(s *segment, sync bool) (seg, idx *cachedFile, err error) {
	mk := func(path string, magic [8]byte) (*cachedFile, error) {
		f, err := c.fs.openFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("applog: %w", err)
		}
		h := fileHeader(magic, s.base)
		if _, err := c.fs.writeAt(f, h[:], 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("applog: %w", err)
		}
		return c.adopt(path, f)
	}
	if seg, err = mk(s.seg, magicSegment); err != nil {
		return nil, nil, err
	}
	if idx, err = mk(s.idx, magicIndex); err != nil {
		c.release(seg)
		return nil, nil, err
	}
	if !sync {
		return seg, idx, nil
	}
	if err := c.fs.syncDir(filepath.Dir(s.seg)); err != nil {
		c.release(seg)
		c.release(idx)
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
	if !db.readOnly || db.st.unchanged() {
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
		cf, err := db.files.acquire(tail.seg, false)
		if err != nil {
			return err
		}
		head := l.head.Load()
		if head+1 >= tail.base {
			res := scanSegment(db.fs, cf.File, l.rOff, head+1, false, &l.rBuf)
			if res.last > 0 {
				l.head.Store(res.last)
				l.rOff = res.end
				head = res.last
			}
		}
		db.files.release(cf)
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
