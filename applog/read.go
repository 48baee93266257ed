package applog

// This file reads records through the indexes, for readers (Get, Iter)
// and for the writer (fork and overlap checks, recovery).

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// recordReader reads records of segments through their indexes: a
// sealed segment's index through a memory map, the tail's with pread,
// and the segment itself when its index does not lead to the record.
type recordReader struct {
	fs      fileSystem
	files   *fileCache
	mapMu   sync.RWMutex // held for reading while a mapped index is used; Close unmaps under it
	closed  *atomic.Bool // the DB's: after Close, mapped indexes are not read
	repairs *repairLog   // where an index entry that misleads is noted
}

// recordHash reads record seq of segment s and returns its hash.
func (rr *recordReader) recordHash(l *logState, s *segment, seq uint64) ([hashSize]byte, error) {
	var buf []byte
	r, err := rr.read(l, s, seq, &buf)
	if err != nil {
		return [hashSize]byte{}, err
	}
	return r.hash(), nil
}

// read reads record seq of log l from its segment s through the index.
// buf is the caller's reusable buffer.
func (rr *recordReader) read(l *logState, s *segment, seq uint64, buf *[]byte) (record, error) {
	segs := l.segments()
	sealed := len(segs) > 0 && segs[len(segs)-1] != s
	off, next, ierr := rr.indexOffset(s, seq, sealed)
	if ierr == ErrClosed {
		return record{}, ierr
	}
	cf, err := rr.files.acquire(s.seg, false)
	if err != nil {
		return record{}, err
	}
	defer rr.files.release(cf)
	f := cf.File
	if ierr == nil {
		hint := 512
		if next > 0 {
			hint = int(next - off)
		}
		r, err := readFrame(rr.fs, f, off, buf, hint)
		if err == nil && r.seq == seq {
			return r, nil
		}
		if errors.Is(err, os.ErrClosed) {
			return record{}, ErrClosed
		}
	}
	// The index is derived data: if it does not lead to the record,
	// find the record in the segment, which is the truth.
	var found record
	var at int64
	stop, serr := scanFrames(rr.fs, f, fileHeaderSize, s.base, buf, func(r *record, o int64) error {
		if r.seq == seq {
			found, at = *r, o
			return errStopScan
		}
		return nil
	})
	if found.frame != nil {
		// the scan buffer moves on; copy the frame out of it
		fr := append([]byte(nil), found.frame...)
		r, _ := decodeRecord(fr)
		rr.repairs.note("index %s: the entry of seq %d of log %s does not lead to its record: found it in the segment at offset %d", s.idx, seq, l.id, at)
		return r, nil
	}
	if errors.Is(serr, os.ErrClosed) {
		return record{}, ErrClosed
	}
	if serr == nil || serr == errStopScan {
		serr = errShort
	}
	return record{}, l.corrupt(seq, s.seg, stop, serr)
}

// indexOffset returns the offset of record seq in segment s and, if the index
// has it, the offset of the record after it (else 0), so the caller can
// read the frame in one call. sealed says s is not the log's tail: its
// index is complete and immutable and is read through a memory map.
func (rr *recordReader) indexOffset(s *segment, seq uint64, sealed bool) (off, next int64, err error) {
	pos := indexPos(s.base, seq)
	var b []byte
	var arr [2 * indexEntrySize]byte
	if sealed {
		rr.mapMu.RLock()
		defer rr.mapMu.RUnlock()
		if rr.closed.Load() {
			return 0, 0, ErrClosed
		}
		if m := s.mapIndex(rr.fs); m != nil {
			if pos < int64(len(m)) {
				b = m[pos:min(int64(len(m)), pos+2*indexEntrySize)]
			}
			if len(b) < indexEntrySize {
				return 0, 0, errIndexMissing
			}
		}
	}
	if b == nil {
		cf, err := rr.files.acquire(s.idx, false)
		if err != nil {
			return 0, 0, err
		}
		n, err := readAt(rr.fs, cf.File, arr[:], pos)
		rr.files.release(cf)
		if n < indexEntrySize && err != nil && err != io.EOF {
			return 0, 0, err
		}
		b = arr[:n]
	}
	off, fl, err := decodeIndexEntry(b)
	if err != nil {
		return 0, 0, err
	}
	if fl > 0 {
		next = off + int64(fl)
	}
	return off, next, nil
}
