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
