package applog

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// committer is the state of group commit (see submit): who leads, the
// batch queued, the rounds under way. Its mutex also guards the feed's
// writer state (the feedWriter's size, buf and hintLen, each log's feedHead),
// which publish updates.
type committer struct {
	mu      sync.Mutex
	cond    *sync.Cond // broadcast when the lead is freed or a round publishes
	next    *batch     // requests waiting for the round in progress
	writing bool       // the write lead is held or handed on (see submit)
	syncing int        // rounds written and not yet published (see maxSyncing)
	parked  bool       // the lead waits for a round to publish (see submit)
	last    *round     // the latest round, until it is published
	closing bool
	failed  error   // a write or sync failed, the writer is unusable
	hinting int     // feed hints being written (see feedHint)
	bufs    bufPool // the leader's spare write buffers, lent to the logs of a round

	commits atomic.Int64 // rounds made (for benchmarks)
}

// A request is one caller's part of a group commit: an append to the own
// log (data) or an insert into some log (ins).
type request struct {
	data    [][]byte
	one     [1][]byte // data of a single Append, so that it needs no allocation
	ins     []*insertRun
	drop    ID     // delete this blocked log's data (dropLog)
	first   uint64 // result of an append: seq of data[0]
	n       int    // result of an insert: records stored
	err     error
	forkErr error // an insert: the first run skipped as forked (fork.go)
	done    bool
}

// A batch is the requests queued while a round is in progress: the next
// round. Its first request is handed the lead when the round before it
// ends; the others wait for the whole batch to be done, so that one
// close wakes them all.
type batch struct {
	reqs []*request
	lead chan struct{} // closed: the first request leads the batch's round
	done chan struct{} // closed: the round is published (or failed)
}

// A round is one group commit between its write and its publication.
type round struct {
	batch     []*request
	heads     []logHead     // what becomes durable
	sync      []*cachedFile // tail segments to fdatasync, held until synced
	syncPlain []*os.File    // other files to fdatasync: the log table, the state file
	dirs      []string      // directories to fsync: of logs new in this round, and DIR
	hint      int64         // after publishing, write a feed hint at this feed length (0: none)
	err       error

	newLogs bool // logs were added: the table and DIR are in sync and dirs

	prev      *round        // the round before, if it was not yet published
	synced    chan struct{} // closed: the syncs of this round are done
	published chan struct{} // closed: this round is published (or failed)
}

type logHead struct {
	l    *logState
	head uint64
}

// submit queues r and returns once it is durable or failed.
//
// Group commit: the first caller to find no writer becomes the leader.
// It lets the callers just woken queue up (gather), takes the whole
// queue (the batch) as one round, encodes and writes it, fdatasyncs each
// touched log once (all at once, see syncAll), publishes the round
// (heads, feed records), then wakes the whole round with one close. So N
// concurrent appenders cost about one fdatasync per round, and no
// wake-up reaches a caller that cannot proceed.
//
// Rounds overlap: a leader passes the lead to the next batch as soon as
// its round is written, so the next round gathers, encodes and signs
// while this one syncs. At most maxSyncing rounds are written and not yet
// published: a leader that would make more parks the lead, and the next
// round to publish passes it on. Rounds publish in order: a round waits
// for the one before it, and a failure of the earlier one fails the
// later.
func (db *DB) submit(r *request) {
	b, lead := db.join(r)
	if !lead {
		return // done, by the round that led b
	}
	db.gather(b)
	rd := db.startRound(b)
	if rd == nil {
		return // closed meanwhile
	}
	if rd.err == nil {
		db.writeRound(rd)
	}
	db.written(rd)
	if rd.err == nil {
		rd.err = rd.syncFiles(db.fs)
	}
	for _, cf := range rd.sync {
		db.files.release(cf)
	}
	rd.sync = nil
	close(rd.synced)
	if rd.prev != nil {
		<-rd.prev.published
		rd.prev = nil // or every round would keep all before it reachable
	}
	db.publishRound(rd)
	close(b.done)
	if rd.hint > 0 {
		db.feedHint(rd.hint)
		db.gc.mu.Lock()
		db.gc.hinting--
		db.gc.cond.Broadcast()
		db.gc.mu.Unlock()
	}
}

// join queues r in the next batch. It reports lead if r's caller leads
// that batch's round (it found no writer, or was handed the lead);
// otherwise it returns once the round is done (or at once after Close,
// with r.err set).
func (db *DB) join(r *request) (b *batch, lead bool) {
	db.gc.mu.Lock()
	if db.gc.closing {
		db.gc.mu.Unlock()
		r.err = ErrClosed
		return nil, false
	}
	b = db.gc.next
	if b == nil {
		b = &batch{lead: make(chan struct{}), done: make(chan struct{})}
		db.gc.next = b
	}
	b.reqs = append(b.reqs, r)
	first := len(b.reqs) == 1
	lead = !db.gc.writing
	db.gc.writing = true
	db.gc.mu.Unlock()
	if !lead {
		if !first {
			<-b.done
			return b, false
		}
		<-b.lead // handed the lead of b
	}
	return b, true
}

// startRound takes batch b as the next round; nil if the DB is closing
// (then every request of b fails with ErrClosed and the lead is passed).
func (db *DB) startRound(b *batch) *round {
	db.gc.mu.Lock()
	defer db.gc.mu.Unlock()
	// b is still db.gc.next: only a leader takes it, and r leads it now
	db.gc.next = nil
	if db.gc.closing {
		for _, x := range b.reqs {
			x.err, x.done = ErrClosed, true
		}
		db.passLead()
		close(b.done)
		return nil
	}
	rd := &round{batch: b.reqs, err: db.gc.failed, prev: db.gc.last,
		synced: make(chan struct{}), published: make(chan struct{})}
	db.gc.last = rd
	return rd
}

// written ends the write of round rd: a failed write fails the writer;
// the lead passes to the next batch unless maxSyncing rounds are syncing
// (then it is parked until one publishes).
func (db *DB) written(rd *round) {
	db.gc.mu.Lock()
	defer db.gc.mu.Unlock()
	if rd.err != nil && db.gc.failed == nil {
		// the writer's state is unknown after a failed write: no round
		// after this one writes
		db.fail(rd.err)
	}
	db.gc.syncing++
	if db.gc.syncing < maxSyncing {
		db.passLead()
	} else {
		db.gc.parked = true
	}
}

// publishRound publishes the synced round rd (after the one before it)
// and passes a parked lead on.
func (db *DB) publishRound(rd *round) {
	db.gc.mu.Lock()
	db.publish(rd)
	db.gc.syncing--
	if db.gc.last == rd {
		db.gc.last = nil
	}
	if db.gc.parked {
		db.gc.parked = false
		db.passLead()
	}
	db.gc.cond.Broadcast()
	db.gc.mu.Unlock()
	close(rd.published)
}

// syncFiles fdatasyncs the round's files, all at once, then fsyncs its
// directories.
func (rd *round) syncFiles(fs fileSystem) error {
	files := make([]*os.File, 0, len(rd.sync)+len(rd.syncPlain))
	for _, cf := range rd.sync {
		files = append(files, cf.File)
	}
	files = append(files, rd.syncPlain...)
	return syncAll(fs, files, rd.dirs)
}

// maxSyncing bounds the rounds written and not yet published.
const maxSyncing = 2

// passLead hands the write lead to the batch queued meanwhile, if any,
// or leaves it free. Called under gc.mu by the holder of the lead.
func (db *DB) passLead() {
	if next := db.gc.next; next != nil {
		close(next.lead) // leads the next round (or fails it after Close)
		return
	}
	db.gc.writing = false
	db.gc.cond.Broadcast()
}

// maxGather bounds the scheduler yields of gather.
const maxGather = 8

// gather lets the callers that are runnable join batch b before its
// leader takes it: the callers just released by the previous round come
// back with their next request within a yield or a few. It yields while
// the batch keeps growing, at most maxGather times, so a lone caller
// pays one yield and a crowd joins one round instead of two.
func (db *DB) gather(b *batch) {
	n := 0
	for range maxGather {
		runtime.Gosched()
		db.gc.mu.Lock()
		m := len(b.reqs)
		db.gc.mu.Unlock()
		if m == n {
			return
		}
		n = m
	}
}

// Append adds one entry to the own log and returns its seq once it is
// durable. Concurrent callers share one fsync (group commit).
func (db *DB) Append(data []byte) (uint64, error) {
	r := &request{}
	r.one[0] = data
	r.data = r.one[:]
	return db.appendRequest(r)
}

// AppendBatch adds entries to the own log as seqs first, first+1, … and
// returns once all are durable. The caller may reuse data after return.
func (db *DB) AppendBatch(data [][]byte) (first uint64, err error) {
	if len(data) == 0 {
		if db.readOnly {
			return 0, ErrReadOnly
		}
		return 0, db.errIfClosed()
	}
	return db.appendRequest(&request{data: data})
}

// appendRequest checks and submits an append.
func (db *DB) appendRequest(r *request) (uint64, error) {
	if db.readOnly {
		return 0, ErrReadOnly
	}
	if err := db.errIfClosed(); err != nil {
		return 0, err
	}
	for i, d := range r.data {
		if len(d) > MaxEntrySize {
			return 0, fmt.Errorf("%w: entry %d is %d bytes, max %d", ErrTooLarge, i, len(d), MaxEntrySize)
		}
	}
	db.submit(r)
	return r.first, r.err
}

// writeRound encodes and writes one round. Only the writer runs it; it
// owns every logWriter meanwhile.
func (db *DB) writeRound(rd *round) {
	db.gc.commits.Add(1)
	var touched []*logState
	touch := func(l *logState) error {
		if !l.w.touched {
			if len(touched) >= maxRoundLogs {
				if err := db.finishLogs(rd, touched, nil, true); err != nil {
					return err
				}
				touched = touched[:0]
			}
			if err := db.holdFiles(l); err != nil {
				return err
			}
			l.w.touched = true
			touched = append(touched, l)
			db.gc.bufs.lend(&l.w)
		}
		return nil
	}
	own := db.own
	appends := 0
	for _, r := range rd.batch {
		if r.data != nil {
			appends++
		}
	}
	err := db.markDirty(rd)
	for _, r := range rd.batch {
		if r.drop != "" && err == nil {
			r.err = db.dropLog(rd, r.drop)
		}
	}
	if err == nil {
		db.unloadIdle(rd)
	}
	// Own appends first, as one run: the last record of the round is
	// signed (and more on the way, as limits require).
	if appends > 0 && err == nil {
		if c := own.broken.Load(); c != nil {
			for _, r := range rd.batch {
				if r.data != nil {
					r.err = c
				}
			}
		} else if err = touch(own); err == nil {
			now := time.Now().UnixNano()
			left := appends
			for _, r := range rd.batch {
				if r.data == nil {
					continue
				}
				left--
				r.first = own.w.head + 1
				if err = db.appendOwn(own, r.data, now, left == 0); err != nil {
					break
				}
			}
		}
	}
	if err == nil {
		for _, r := range rd.batch {
			if r.ins != nil {
				if err = db.applyInserts(rd, r, touch); err != nil {
					break
				}
			}
		}
	}
	rd.err = db.finishLogs(rd, touched, err, false)
}

// maxRoundLogs bounds the logs a round holds the files of: a round that
// touches more writes and syncs the first ones early and lets go of
// their files (nothing is acknowledged before the round ends anyway), so
// that a round inserting into thousands of logs holds a bounded number of
// files.
const maxRoundLogs = 32

// finishLogs ends the round's work on the logs touched: it writes what
// they buffered, lets go of their buffers and files, and leaves their
// segments to sync in rd.sync, or with early, syncs them now. It returns
// err, or the first error it met.
func (db *DB) finishLogs(rd *round, touched []*logState, err error, early bool) error {
	var segs []*cachedFile
	for _, l := range touched {
		l.w.touched = false
		if err == nil {
			err = db.flush(l)
		}
		if err != nil {
			l.waitWrite() // no goroutine outlives the round
			l.waitSeal(db)
		}
		db.gc.bufs.reclaim(&l.w)
		if l.w.dirty && l.w.seg != nil {
			// held until it is synced
			segs = append(segs, l.w.seg)
			l.w.seg = nil
		}
		l.w.dirty = false
		db.dropFiles(l)
		rd.heads = append(rd.heads, logHead{l, l.w.head})
	}
	if !early {
		rd.sync = append(rd.sync, segs...)
		return err
	}
	if err == nil {
		files := make([]*os.File, len(segs))
		for i, cf := range segs {
			files[i] = cf.File
		}
		err = syncAll(db.fs, files, nil)
	}
	for _, cf := range segs {
		db.files.release(cf)
	}
	return err
}

// fail stops the writer after err. The files may now hold records that
// are not durable; the next writer open cuts them. Called under gc.mu.
func (db *DB) fail(err error) {
	db.gc.failed = fmt.Errorf("applog: writer failed, reopen the database: %w", err)
	db.log.Error("applog: commit failed", "err", err)
}

// publish makes a synced round visible: heads first, then the feed
// records (a feed reader that sees a record finds its head published),
// then the callers are released. Called under gc.mu, in round order.
func (db *DB) publish(rd *round) {
	if rd.err != nil && db.gc.failed == nil {
		db.fail(rd.err)
	}
	if db.gc.failed != nil {
		for _, r := range rd.batch {
			if r.err == nil {
				r.err = db.gc.failed
			}
			r.done = true
		}
		return
	}
	grew := false
	db.fw.buf = db.fw.buf[:0]
	for _, h := range rd.heads {
		if h.l.head.Load() != h.head {
			h.l.head.Store(h.head)
			grew = true
		}
		if h.head > h.l.feedHead {
			db.fw.buf = appendFeedRecord(db.fw.buf, feedRecord{ord: h.l.ord, head: h.head})
			h.l.feedHead = h.head
		}
	}
	if len(db.fw.buf) > 0 {
		if _, ferr := db.fs.writeAt(db.fw.f, db.fw.buf, db.fw.size); ferr != nil {
			// The logs are durable; the next open repairs the feed.
			db.log.Error("applog: feed write failed", "err", ferr)
		} else {
			db.fw.size += int64(len(db.fw.buf))
			db.fw.end.Store(db.fw.size)
			if db.fw.size-db.fw.hintLen >= db.fw.hintStep && db.st.f != nil {
				db.fw.hintLen = db.fw.size
				rd.hint = db.fw.size
				db.gc.hinting++
			}
		}
	}
	for _, r := range rd.batch {
		r.done = true
	}
	if grew {
		db.notifyChanged()
	}
}

// appendOwn encodes data as the next records of the own log into its
// write buffer. A record is signed when it is the last of the group
// (last), when the run would otherwise exceed MaxSignedRun or
// MaxRunBytes, or when the next record would overflow the segment (so
// that every segment ends signed).
func (db *DB) appendOwn(l *logState, data [][]byte, now int64, last bool) error {
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
			l.w.segSize+int64(len(l.w.wbuf)+size+sigSize) >= db.opts.SegmentSize
		var s *signer
		if sign {
			s = db.sign
		}
		off := l.w.segSize + int64(len(l.w.wbuf))
		var h [hashSize]byte
		l.w.wbuf, h = appendRecord(l.w.wbuf, l.w.head+1, now, &l.w.hash, d, s)
		l.w.ibuf = appendIndexEntry(l.w.ibuf, off)
		l.w.head++
		l.w.hash = h
		if sign {
			l.w.runN, l.w.runBytes = 0, 0
			if err := db.afterSigned(l); err != nil {
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
func (db *DB) afterSigned(l *logState) error {
	if l.w.segSize+int64(len(l.w.wbuf)) >= db.opts.SegmentSize {
		return db.roll(l)
	}
	if len(l.w.wbuf) >= writeBytes {
		if j := l.w.seal; j != nil && len(l.w.wbuf) < 8<<20 {
			select {
			case <-j.done:
			default:
				return nil // keep encoding while the disk seals
			}
		}
		return db.startWrite(l)
	}
	return nil
}

// flush writes the buffered index entries, then the buffered frames (in
// that order, so a reader that sees a frame finds its index entry), and
// waits until they are written.
func (db *DB) flush(l *logState) error {
	if err := db.startWrite(l); err != nil {
		return err
	}
	return l.waitWrite()
}

// startWrite hands the buffered bytes to a goroutine that writes them
// while the writer encodes the next ones into a second buffer; at most
// one such write is in flight per log.
func (db *DB) startWrite(l *logState) error {
	if err := l.waitWrite(); err != nil {
		return err
	}
	if err := l.waitSeal(db); err != nil {
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
		if _, err := db.fs.writeAt(idx, ibuf, ioff); err != nil {
			w.err = fmt.Errorf("applog: write %s: %w", tail.idx, err)
			return
		}
		if _, err := db.fs.writeAt(seg, wbuf, off); err != nil {
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

// holdFiles takes the tail files of l for a round (or for Close), unless
// a seal job is making them (waitSeal takes them then).
func (db *DB) holdFiles(l *logState) error {
	if l.w.seal != nil || l.w.seg != nil {
		return nil
	}
	seg, err := db.files.acquire(l.w.tail.seg, false)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	idx, err := db.files.acquire(l.w.tail.idx, true)
	if err != nil {
		db.files.release(seg)
		return fmt.Errorf("applog: %w", err)
	}
	l.w.seg, l.w.idx = seg, idx
	return nil
}

// dropFiles lets go of the tail files of l; idle, they may be closed.
func (db *DB) dropFiles(l *logState) {
	db.files.release(l.w.seg)
	db.files.release(l.w.idx)
	l.w.seg, l.w.idx = nil, nil
}

// flushAll finishes what a failed round may have left of every log
// (used by Close): rounds end with every buffer written and every seal
// done, so this only waits.
func (db *DB) flushAll() error {
	var first error
	db.eachLoaded(func(l *logState) {
		if err := l.waitWrite(); err != nil && first == nil {
			first = err
		}
		if err := l.waitSeal(db); err != nil && first == nil {
			first = err
		}
		db.dropFiles(l)
	})
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
func (db *DB) roll(l *logState) error {
	if err := db.flush(l); err != nil {
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
		go func() { idxErr <- db.fs.sync(oldIdx.File) }()
		j.err = db.fs.sync(oldSeg.File)
		if err := <-idxErr; j.err == nil {
			j.err = err
		}
		db.files.release(oldSeg)
		db.files.release(oldIdx)
		if j.err == nil {
			j.seg, j.idx, j.err = db.createSegment(s, true)
		}
	}()
	return nil
}

// waitSeal waits for the log's seal job, if any, and takes the new
// segment's files.
func (l *logState) waitSeal(db *DB) error {
	j := l.w.seal
	if j == nil {
		return nil
	}
	<-j.done
	l.w.seal = nil
	if j.err != nil {
		return j.err
	}
	db.dropFiles(l)
	l.w.seg, l.w.idx = j.seg, j.idx
	l.w.idxDirty = true // its header is not synced yet
	return nil
}
