package applog

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// This file is group commit's protocol: who leads, how requests join a
// round, how rounds overlap and publish in order, and how Close drains
// them (see DB.submit). round.go writes a round; logwrite.go writes a
// log's records.

// committer is the state of group commit (see DB.submit): who leads, the
// batch queued, the rounds under way. Its methods are the only code
// that takes its mutex; the feed's writing end has its own (feedWriter).
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
	hinting int     // feed hints being written (see feedWriter.hint)
	bufs    bufPool // the leader's spare write buffers, lent to the logs of a round

	commits atomic.Int64 // rounds made (for benchmarks)
	log     *slog.Logger // where fail reports
}

// init readies a committer that reports to log.
func (c *committer) init(log *slog.Logger) {
	c.cond = sync.NewCond(&c.mu)
	c.log = log
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
	b, lead := db.gc.join(r)
	if !lead {
		return // done, by the round that led b
	}
	db.gc.gather(b)
	rd := db.gc.startRound(b)
	if rd == nil {
		return // closed meanwhile
	}
	if rd.err == nil {
		(&roundWriter{db: db, rd: rd}).write()
	}
	db.gc.written(rd)
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
	db.gc.publish(rd, db.publishHeads)
	close(b.done)
	if rd.hint > 0 {
		db.fw.hint(rd.hint, &db.st, db.own.ord)
		db.gc.hinted()
	}
}

// join queues r in the next batch. It reports lead if r's caller leads
// that batch's round (it found no writer, or was handed the lead);
// otherwise it returns once the round is done (or at once after Close,
// with r.err set).
func (c *committer) join(r *request) (b *batch, lead bool) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		r.err = ErrClosed
		return nil, false
	}
	b = c.next
	if b == nil {
		b = &batch{lead: make(chan struct{}), done: make(chan struct{})}
		c.next = b
	}
	b.reqs = append(b.reqs, r)
	first := len(b.reqs) == 1
	lead = !c.writing
	c.writing = true
	c.mu.Unlock()
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
func (c *committer) startRound(b *batch) *round {
	c.mu.Lock()
	defer c.mu.Unlock()
	// b is still c.next: only a leader takes it, and r leads it now
	c.next = nil
	if c.closing {
		for _, x := range b.reqs {
			x.err = ErrClosed
		}
		c.passLead()
		close(b.done)
		return nil
	}
	rd := &round{batch: b.reqs, err: c.failed, prev: c.last,
		synced: make(chan struct{}), published: make(chan struct{})}
	c.last = rd
	if c.failed == nil {
		c.commits.Add(1) // a round that will write (see DB.submit)
	}
	return rd
}

// written ends the write of round rd: a failed write fails the writer;
// the lead passes to the next batch unless maxSyncing rounds are syncing
// (then it is parked until one publishes).
func (c *committer) written(rd *round) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rd.err != nil && c.failed == nil {
		// the writer's state is unknown after a failed write: no round
		// after this one writes
		c.fail(rd.err)
	}
	c.syncing++
	if c.syncing < maxSyncing {
		c.passLead()
	} else {
		c.parked = true
	}
}

// publish ends the synced round rd (after the one before it): if the
// writer has failed, by rd or by a round after it, every request of rd
// fails; else publishHeads makes it visible, and reports whether a feed
// hint is due (it runs under the committer's lock, so rounds publish one
// at a time and Close waits for them). It then passes a parked lead on.
func (c *committer) publish(rd *round, publishHeads func(*round) (hint bool)) {
	c.mu.Lock()
	if rd.err != nil && c.failed == nil {
		c.fail(rd.err)
	}
	if c.failed != nil {
		for _, r := range rd.batch {
			if r.err == nil {
				r.err = c.failed
			}
		}
	} else if publishHeads(rd) {
		c.hinting++
	}
	c.syncing--
	if c.last == rd {
		c.last = nil
	}
	if c.parked {
		c.parked = false
		c.passLead()
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	close(rd.published)
}

// hinted ends a feed hint that publish counted.
func (c *committer) hinted() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hinting--
	c.cond.Broadcast()
}

// drain makes every later request fail with ErrClosed and waits for the
// rounds under way and their feed hints to end (used by Close). It
// returns the error that failed the writer, if any.
func (c *committer) drain() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	c.cond.Broadcast()
	for c.writing || c.syncing > 0 || c.hinting > 0 {
		c.cond.Wait()
	}
	return c.failed
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
// or leaves it free. Called under c.mu by the holder of the lead.
func (c *committer) passLead() {
	if next := c.next; next != nil {
		close(next.lead) // leads the next round (or fails it after Close)
		return
	}
	c.writing = false
	c.cond.Broadcast()
}

// maxGather bounds the scheduler yields of gather.
const maxGather = 8

// gather lets the callers that are runnable join batch b before its
// leader takes it: the callers just released by the previous round come
// back with their next request within a yield or a few. It yields while
// the batch keeps growing, at most maxGather times, so a lone caller
// pays one yield and a crowd joins one round instead of two.
func (c *committer) gather(b *batch) {
	n := 0
	for range maxGather {
		runtime.Gosched()
		c.mu.Lock()
		m := len(b.reqs)
		c.mu.Unlock()
		if m == n {
			return
		}
		n = m
	}
}

// fail stops the writer after err. The files may now hold records that
// are not durable; the next writer open cuts them. Called under c.mu.
func (c *committer) fail(err error) {
	c.failed = fmt.Errorf("applog: writer failed, reopen the database: %w", err)
	c.log.Error("applog: commit failed", "err", err)
}
