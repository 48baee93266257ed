package applog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"scuttle/applog/internal/osfile"
)

// A segment is one segment file and its index, named by the seq of its
// first record. Records in it are immutable once written; their files
// are opened through the DB's fileCache.
type segment struct {
	base     uint64
	seg, idx string // paths

	imap atomic.Pointer[[]byte] // the index, memory-mapped once sealed
}

func segName(base uint64) string { return fmt.Sprintf("%020d.seg", base) }
func idxName(base uint64) string { return fmt.Sprintf("%020d.idx", base) }

func newSegment(dir string, base uint64) *segment {
	return &segment{base: base, seg: filepath.Join(dir, segName(base)), idx: filepath.Join(dir, idxName(base))}
}

// parseSegName returns the base seq of a segment file name.
func parseSegName(name string) (uint64, bool) {
	s, ok := strings.CutSuffix(name, ".seg")
	if !ok || len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}

// listSegments returns the segments in dir sorted by base.
func listSegments(dir string) ([]*segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []*segment
	for _, e := range ents {
		if base, ok := parseSegName(e.Name()); ok {
			segs = append(segs, newSegment(dir, base))
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].base < segs[j].base })
	return segs, nil
}

// findSegment returns the segment holding seq (the last with base <= seq).
func findSegment(segs []*segment, seq uint64) *segment {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > seq })
	if i == 0 {
		return nil
	}
	return segs[i-1]
}

// unmap drops the index's memory map. The caller holds
// recordReader.mapMu for writing.
func (s *segment) unmap() {
	if m := s.imap.Swap(nil); m != nil {
		osfile.Unmap(*m)
	}
}

// mapIndex maps a sealed segment's index (immutable from then on) so
// that lookups cost no system call; nil if it cannot (then the caller
// reads the index instead).
func (s *segment) mapIndex(fs fileSystem) []byte {
	if m := s.imap.Load(); m != nil {
		return *m
	}
	f, err := fs.openFile(s.idx, os.O_RDONLY, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() < fileHeaderSize || fi.Size() > 1<<40 {
		return nil
	}
	m, err := osfile.Map(f, int(fi.Size()))
	if err != nil {
		return nil
	}
	if !s.imap.CompareAndSwap(nil, &m) {
		osfile.Unmap(m)
		return *s.imap.Load()
	}
	return m
}

// readFrame reads the frame at off in f into *buf (grown as needed) and
// decodes it. hint is how many bytes to read at first.
func readFrame(fs fileSystem, f *os.File, off int64, buf *[]byte, hint int) (record, error) {
	if cap(*buf) < hint {
		*buf = make([]byte, hint)
	}
	b := (*buf)[:hint]
	n, err := readFull(fs, f, b, off)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return record{}, err
	}
	b = b[:n]
	fl, err := frameLen(b)
	if err != nil {
		return record{}, err
	}
	if fl > len(b) {
		if n < hint {
			return record{}, errShort
		}
		if cap(*buf) < fl {
			nb := make([]byte, fl)
			copy(nb, b)
			*buf = nb
		}
		b = (*buf)[:fl]
		m, err := readFull(fs, f, b[n:], off+int64(n))
		if err != nil {
			if m < fl-n && (err == io.EOF || err == io.ErrUnexpectedEOF) {
				return record{}, errShort
			}
			return record{}, err
		}
	}
	return decodeRecord(b)
}

// scanResult is what scanSegment found.
type scanResult struct {
	last     uint64         // seq of the last signed record found; 0 if none
	lastHash [hashSize]byte // its hash
	end      int64          // offset after it (from, if none)
	stop     int64          // offset where decoding stopped
	stopErr  error          // why (nil: clean end of file right after a record)
	offsets  []int64        // offsets of records up to and including last, if asked
}

// scanSegment decodes frames of f from offset from on, expecting seq
// first, first+1, …, and stops at the end of the file or at the first
// frame that is short, fails its checks or has another seq. Only the
// records up to the last signed one count (the rest is an unfinished or
// torn run).
func scanSegment(fs fileSystem, f *os.File, from int64, first uint64, wantOffsets bool, buf *[]byte) scanResult {
	res := scanResult{end: from}
	var offs []int64
	res.stop, res.stopErr = scanFrames(fs, f, from, first, buf, func(r *record, off int64) error {
		if wantOffsets {
			offs = append(offs, off)
		}
		if r.signed() {
			res.last = r.seq
			res.lastHash = r.hash()
			res.end = off + int64(len(r.frame))
			if wantOffsets {
				res.offsets = offs
			}
		}
		return nil
	})
	if !wantOffsets || res.last == 0 {
		res.offsets = nil
	}
	return res
}

// errStopScan ends scanFrames early without an error.
var errStopScan = errors.New("stop")

// scanFrames calls fn for each frame of f from offset from on, expecting
// seqs first, first+1, …, until the end of the file, a frame that is
// short, fails its checks or has another seq, or fn's error. It returns
// where and why it stopped (nil error at a clean end of file or
// errStopScan). It reads in chunks of up to 1 MiB (more for a larger
// frame).
func scanFrames(fs fileSystem, f *os.File, from int64, first uint64, buf *[]byte, fn func(r *record, off int64) error) (int64, error) {
	// The buffer starts small, so that scanning the tail of a short
	// log (most of them, with many logs) costs no large allocation, and
	// doubles with each refill up to 1 MiB.
	const maxChunk = 1 << 20
	chunk := 4 << 10
	if cap(*buf) < chunk {
		*buf = make([]byte, chunk)
	}
	seq := first
	off := from // file offset of b[0]
	b := (*buf)[:0]
	pos := 0
	eof := false
	refill := func() error {
		rest := copy((*buf)[:cap(*buf)], b[pos:])
		off += int64(pos)
		pos = 0
		if rest > 0 || cap(*buf) == chunk {
			chunk = min(2*chunk, maxChunk)
		}
		need := chunk
		if fl, err := frameLen((*buf)[:rest]); err == nil && fl > need {
			need = fl
		}
		if cap(*buf) < need {
			nb := make([]byte, need)
			copy(nb, (*buf)[:rest])
			*buf = nb
		}
		full := (*buf)[:cap(*buf)]
		n, err := readFull(fs, f, full[rest:], off+int64(rest))
		b = full[:rest+n]
		if err != nil {
			eof = true
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				return err
			}
		}
		return nil
	}
	for {
		if pos == len(b) && !eof {
			if err := refill(); err != nil {
				return off + int64(pos), err
			}
		}
		cur := off + int64(pos)
		if pos == len(b) {
			return cur, nil
		}
		r, err := decodeRecord(b[pos:])
		if errors.Is(err, errShort) && !eof {
			if err := refill(); err != nil {
				return cur, err
			}
			continue
		}
		if err == nil && r.seq != seq {
			err = fmt.Errorf("%w: %d, want %d", errSeq, r.seq, seq)
		}
		if err != nil {
			return cur, err
		}
		if err := fn(&r, cur); err != nil {
			return cur, err
		}
		pos += len(r.frame)
		seq++
	}
}
