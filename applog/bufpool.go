package applog

// bufPool keeps write buffers between commit rounds. A log's two frame
// buffers and two index buffers grow to the size of its part of a round
// (a receiver's batch gives each of several new logs some hundred KiB).
// A log that kept them between rounds would hold that much for the rest
// of its life, so RAM would grow with the number of logs (173 MiB after
// receiving 1,000 logs of 1,000 entries), and dropping them would make
// every round allocate, fault in and collect them again. So every
// round hands the buffers of the logs it touched back here, and the next
// round lends them out again: an idle log holds none, and the pool holds
// at most maxPooledBytes. Used by the commit leader only, so not locked.
type bufPool struct {
	free  [][]byte
	bytes int // total capacity of free
}

const (
	maxPooledBufs  = 64      // enough for the 4 buffers of each log of a large round
	maxPooledBytes = 8 << 20 // held while idle, in all
	maxPooledBuf   = 2 << 20 // larger ones (a huge AppendBatch's) are dropped
)

// get returns an empty buffer, pooled if one is free.
func (p *bufPool) get() []byte {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.bytes -= cap(b)
		return b
	}
	return nil
}

// put keeps b for reuse if there is room.
func (p *bufPool) put(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledBuf || len(p.free) >= maxPooledBufs || p.bytes+cap(b) > maxPooledBytes {
		return
	}
	p.free = append(p.free, b[:0])
	p.bytes += cap(b)
}

// lend gives l's writer pooled buffers where it has none.
func (p *bufPool) lend(w *logWriter) {
	for _, b := range []*[]byte{&w.wbuf, &w.spareW, &w.ibuf, &w.spareI} {
		if cap(*b) == 0 {
			*b = p.get()
		}
	}
}

// reclaim takes back w's buffers after a round, so that an idle log
// holds none. No write may be in flight.
func (p *bufPool) reclaim(w *logWriter) {
	for _, b := range []*[]byte{&w.wbuf, &w.spareW, &w.ibuf, &w.spareI} {
		p.put(*b)
		*b = nil
	}
}
