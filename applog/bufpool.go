package applog

// bufPool keeps a few large write buffers between commit rounds. A log's
// two frame buffers and two index buffers grow to the size of a big round
// (several hundred KiB for a receiver's batch); keeping them for the
// log's whole life would hold that much per log, while dropping them
// makes every such round allocate, fault in and collect them again. So a
// round hands the big ones back here, and the next log that needs one
// takes it. Used by the commit leader only, so not locked.
type bufPool struct{ free [][]byte }

const (
	maxPooledBufs = 4       // buffers kept: at most 8 MiB held
	maxPooledBuf  = 2 << 20 // larger ones (a huge AppendBatch's) are dropped
	bigBuf        = 256 << 10
)

// get returns an empty buffer, pooled if one is free.
func (p *bufPool) get() []byte {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return b
	}
	return nil
}

// put keeps b for reuse if there is room.
func (p *bufPool) put(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledBuf || len(p.free) >= maxPooledBufs {
		return
	}
	p.free = append(p.free, b[:0])
}

// lend gives l's writer pooled buffers where it has none.
func (p *bufPool) lend(w *logWriter) {
	for _, b := range []*[]byte{&w.wbuf, &w.spareW, &w.ibuf, &w.spareI} {
		if cap(*b) == 0 {
			*b = p.get()
		}
	}
}

// reclaim takes back l's buffers after a round if they are big, so an
// idle log holds no big buffer. No write may be in flight.
func (p *bufPool) reclaim(w *logWriter) {
	if cap(w.wbuf)+cap(w.spareW) <= bigBuf {
		return
	}
	for _, b := range []*[]byte{&w.wbuf, &w.spareW, &w.ibuf, &w.spareI} {
		p.put(*b)
		*b = nil
	}
}
