package applog

// This file writes a log's records: encoding into the write buffers,
// background writes, and rolling to a new segment.

import "fmt"

// segWriter writes logs' records into their tail segments, for the
// commit leader (and Close): it encodes the own appends, writes the
// buffers in the background and rolls full segments. The state of each
// log's writing is its logWriter (logState.w); segWriter holds what the
// writing of every log shares.
type segWriter struct {
	fs          fileSystem
	files       *fileCache
	segmentSize int64   // Options.SegmentSize
	sign        *signer // the own key, set by a writer's Open
}

// appendOwn encodes data as the next records of the own log into its
// write buffer. A record is signed when it is the last of the group
// (last), when the run would otherwise exceed MaxSignedRun or
// MaxRunBytes, or when the next record would overflow the segment (so
// that every segment ends signed).
func (sw *segWriter) appendOwn(l *logState, data [][]byte, now int64, last bool) error {
	for i, d := range data {
		size := offPayload + len(d)
		// the worst next record: known within this request, the largest
		// possible at a request boundary
		next := offPayload + MaxEntrySize + sigSize
		if i+1 < len(data) {
			next = offPayload + len(data[i+1]) + sigSize
		}
		sign := (last && i == len(data)-1) ||
			l.w.runN+1 >= MaxSignedRun ||
			l.w.runBytes+size+next > MaxRunBytes ||
			l.w.segSize+int64(len(l.w.wbuf)+size+sigSize) >= sw.segmentSize
		var s *signer
		if sign {
			s = sw.sign
		}
		off := l.w.segSize + int64(len(l.w.wbuf))
		var h [hashSize]byte
		l.w.wbuf, h = appendRecord(l.w.wbuf, l.w.head+1, now, &l.w.hash, d, s)
		l.w.ibuf = appendIndexEntry(l.w.ibuf, off)
		l.w.head++
		l.w.hash = h
		if sign {
			l.w.runN, l.w.runBytes = 0, 0
			if err := sw.afterSigned(l); err != nil {
				return err
			}
		} else {
			l.w.runN++
			l.w.runBytes += len(l.w.wbuf) - int(off-l.w.segSize)
		}
	}
	return nil
}

// writeBytes is how much a log buffers before afterSigned starts a write.
const writeBytes = 1 << 20

// afterSigned is called after a signed record entered the write buffer:
// it rolls the segment when it is full and writes the buffer out when it
// is large (or keeps buffering, up to a bound, while the previous
// segment is being sealed).
func (sw *segWriter) afterSigned(l *logState) error {
	if l.w.segSize+int64(len(l.w.wbuf)) >= sw.segmentSize {
		return sw.roll(l)
	}
	if len(l.w.wbuf) >= writeBytes {
		if j := l.w.seal; j != nil && len(l.w.wbuf) < 8<<20 {
			select {
			case <-j.done:
			default:
				return nil // keep encoding while the disk seals
			}
		}
		return sw.startWrite(l)
	}
	return nil
}

// flush writes the buffered index entries, then the buffered frames (in
// that order, so a reader that sees a frame finds its index entry), and
// waits until they are written.
func (sw *segWriter) flush(l *logState) error {
	if err := sw.startWrite(l); err != nil {
		return err
	}
	return l.waitWrite()
}

// startWrite hands the buffered bytes to a goroutine that writes them
// while the writer encodes the next ones into a second buffer; at most
// one such write is in flight per log.
func (sw *segWriter) startWrite(l *logState) error {
	if err := l.waitWrite(); err != nil {
		return err
	}
	if err := l.waitSeal(sw.files); err != nil {
		return err
	}
	if len(l.w.wbuf) == 0 {
		return nil
	}
	first := l.w.head + 1 - uint64(len(l.w.ibuf)/indexEntrySize)
	ioff := indexPos(l.w.tail.base, first)
	w := &pendingWrite{done: make(chan struct{})}
	seg, idx, tail, wbuf, ibuf, off := l.w.seg.File, l.w.idx.File, l.w.tail, l.w.wbuf, l.w.ibuf, l.w.segSize
	go func() {
		defer close(w.done)
		if _, err := sw.fs.writeAt(idx, ibuf, ioff); err != nil {
			w.err = fmt.Errorf("applog: write %s: %w", tail.idx, err)
			return
		}
		if _, err := sw.fs.writeAt(seg, wbuf, off); err != nil {
			w.err = fmt.Errorf("applog: write %s: %w", tail.seg, err)
		}
	}()
	l.w.write = w
	l.w.segSize += int64(len(wbuf))
	l.w.wbuf, l.w.spareW = l.w.spareW[:0], wbuf
	l.w.ibuf, l.w.spareI = l.w.spareI[:0], ibuf
	l.w.dirty, l.w.idxDirty = true, true
	return nil
}

// A pendingWrite is a buffer being written by startWrite's goroutine.
type pendingWrite struct {
	done chan struct{}
	err  error
}

// waitWrite waits for the log's write in flight, if any.
func (l *logState) waitWrite() error {
	w := l.w.write
	if w == nil {
		return nil
	}
	<-w.done
	l.w.write = nil
	return w.err
}

// holdTail takes the tail files of l for a round (or for Close), unless
// a seal job is making them (waitSeal takes them then).
func (c *fileCache) holdTail(l *logState) error {
	if l.w.seal != nil || l.w.seg != nil {
		return nil
	}
	seg, err := c.acquire(l.w.tail.seg, false)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	idx, err := c.acquire(l.w.tail.idx, true)
	if err != nil {
		c.release(seg)
		return fmt.Errorf("applog: %w", err)
	}
	l.w.seg, l.w.idx = seg, idx
	return nil
}

// dropTail lets go of the tail files of l; idle, they may be closed.
func (c *fileCache) dropTail(l *logState) {
	c.release(l.w.seg)
	c.release(l.w.idx)
	l.w.seg, l.w.idx = nil, nil
}

// flushAll finishes what a failed round may have left of every one
// of logs (used by Close): rounds end with every buffer written and
// every seal done, so this only waits.
func (sw *segWriter) flushAll(logs []*logState) error {
	var first error
	for _, l := range logs {
		if err := l.waitWrite(); err != nil && first == nil {
			first = err
		}
		if err := l.waitSeal(sw.files); err != nil && first == nil {
			first = err
		}
		sw.files.dropTail(l)
	}
	return first
}

// A sealJob seals a full segment in the background: fdatasync its index
// and segment, let go of them, then create the next segment's files and
// sync the directory. The writer keeps encoding meanwhile but writes
// nothing to the new segment before the job is done, so on disk a
// segment is always sealed before the next one exists. A round still
// syncing the old segment holds it, so it stays open for that sync.
type sealJob struct {
	done     chan struct{}
	seg, idx *cachedFile // the new segment's, held, once done
	err      error
}

// roll seals the tail segment (its last record is signed) and starts a
// new one at head+1; see sealJob.
func (sw *segWriter) roll(l *logState) error {
	if err := sw.flush(l); err != nil {
		return err
	}
	oldSeg, oldIdx := l.w.seg, l.w.idx // the job holds them now
	l.w.seg, l.w.idx, l.w.dirty, l.w.idxDirty = nil, nil, false, false
	s := newSegment(l.dir, l.w.head+1)
	l.installTail(s)
	j := &sealJob{done: make(chan struct{})}
	l.w.seal = j
	go func() {
		defer close(j.done)
		// both syncs at once: the file system can commit them together
		idxErr := make(chan error, 1)
		go func() { idxErr <- sw.fs.sync(oldIdx.File) }()
		j.err = sw.fs.sync(oldSeg.File)
		if err := <-idxErr; j.err == nil {
			j.err = err
		}
		sw.files.release(oldSeg)
		sw.files.release(oldIdx)
		if j.err == nil {
			j.seg, j.idx, j.err = sw.files.createSegment(s, true)
		}
	}()
	return nil
}

// waitSeal waits for the log's seal job, if any, and takes the new
// segment's files.
func (l *logState) waitSeal(files *fileCache) error {
	j := l.w.seal
	if j == nil {
		return nil
	}
	<-j.done
	l.w.seal = nil
	if j.err != nil {
		return j.err
	}
	files.dropTail(l)
	l.w.seg, l.w.idx = j.seg, j.idx
	l.w.idxDirty = true // its header is not synced yet
	return nil
}
