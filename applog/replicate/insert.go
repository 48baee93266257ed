package replicate

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"scuttle/applog"
	"scuttle/applog/internal/parallel"
)

// batchBytes bounds the records the receiver has ready for the store while
// the inserter is busy; when reached, the receiver stops reading (and TCP
// stops the peer) until the inserter takes them.
const batchBytes = 1 << 20

// inserter stores the runs the receiver completes, in two stages beside the
// receiver, so that parsing, verifying and syncing overlap: a checker
// verifies the ready batch (Checker.Check, if the store is one) while a
// committer stores the batch before it. Each stage takes all that is ready
// at once, so a slow sync makes batches larger, not queues longer: at most
// three batches of about batchBytes each (being filled, checked, stored).
type inserter struct {
	mu     sync.Mutex
	cond   sync.Cond // signals changes of ready, done and failed
	ready  *batch    // complete signed runs, not yet taken
	done   bool      // the receiver ended: drain ready and stop
	failed bool      // the inserter stopped: add fails
	// held is the highest seq handed to the inserter, per log, of the
	// logs with runs not yet stored: entries go once their runs are
	// stored (or refused), so it holds at most the runs of three
	// batches, not every log the peer ever sent.
	held map[applog.ID]uint64
}

// Checker is a Store that verifies records apart from storing them, as
// *applog.DB does: Serve then verifies the next records it received while
// the ones before are being synced. Check must not depend on stored state;
// InsertRuns stores runs made by Check as Insert would have, in order.
type Checker interface {
	Check(id applog.ID, recs [][]byte) *applog.Run
	InsertRuns(runs ...*applog.Run) (int, error)
}

// batch is a sequence of runs, each of one log, to store in order.
type batch struct {
	arena   []byte
	ends    []int // end offset in arena of each record
	runs    []run
	recs    [][]byte      // the records, sliced from arena (see slice)
	checked []*applog.Run // by a Checker, one per run
}

// run is records lo..hi-1 of a batch: seqs first… of log id.
type run struct {
	id     applog.ID
	first  uint64
	lo, hi int
}

// reset empties b for reuse, keeping its buffers only while they are
// no larger than a batch of maxKeptBatch bytes of records of about 1 KiB
// needs.
func (b *batch) reset() {
	const recs = maxKeptBatch >> 10
	if cap(b.arena) > maxKeptBatch || cap(b.recs) > recs || cap(b.runs) > recs {
		*b = batch{}
		return
	}
	clear(b.recs)
	clear(b.checked)
	b.arena, b.ends, b.runs = b.arena[:0], b.ends[:0], b.runs[:0]
	b.recs, b.checked = b.recs[:0], b.checked[:0]
}

// slice fills b.recs with the records of b, so that run r's are
// b.recs[r.lo:r.hi].
func (b *batch) slice() {
	start := 0
	for _, end := range b.ends {
		b.recs = append(b.recs, b.arena[start:end:end])
		start = end
	}
}

// add appends records (arena bytes, record end offsets in arena) of log id,
// starting at seq first, to the ready batch, waiting while it is full.
func (in *inserter) add(id applog.ID, first uint64, arena []byte, ends []int) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	for len(in.ready.arena) >= batchBytes && !in.failed {
		in.cond.Wait()
	}
	if in.failed {
		return errInserterStopped
	}
	b := in.ready
	base := len(b.arena)
	lo := len(b.ends)
	b.arena = append(b.arena, arena...)
	for _, e := range ends {
		b.ends = append(b.ends, base+e)
	}
	if n := len(b.runs); n > 0 && b.runs[n-1].id == id && b.runs[n-1].first+uint64(b.runs[n-1].hi-b.runs[n-1].lo) == first {
		b.runs[n-1].hi = len(b.ends)
	} else {
		b.runs = append(b.runs, run{id: id, first: first, lo: lo, hi: len(b.ends)})
	}
	if in.held == nil {
		in.held = make(map[applog.ID]uint64)
	}
	in.held[id] = max(in.held[id], first+uint64(len(ends))-1)
	in.cond.Broadcast()
	return nil
}

// errInserterStopped ends the receiver after the inserter failed; the
// inserter's error is the one Serve reports.
var errInserterStopped = errors.New("replicate: inserter stopped")

// queued returns the highest seq of log id handed to the inserter.
func (in *inserter) queued(id applog.ID) uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.held[id]
}

// closeInsert tells the inserter that no more records come.
func (c *session) closeInsert() {
	c.insert.mu.Lock()
	c.insert.done = true
	c.insert.cond.Broadcast()
	c.insert.mu.Unlock()
}

// insertLoop runs the inserter until the receiver is done and all is
// stored, or an insert fails; then it cancels the session with the error.
// It checks batches in a goroutine of its own and stores them itself.
func (c *session) insertLoop() {
	in := &c.insert
	ck, _ := c.st.(Checker)
	checked := make(chan *batch) // a checked batch, taken when the last is stored
	free := make(chan *batch, 1) // a stored batch, for the checker to reuse
	free <- &batch{}
	stopped := make(chan struct{}) // the committer stopped early
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(checked)
		spare := &batch{}
		for {
			in.mu.Lock()
			for len(in.ready.runs) == 0 && !in.done && !in.failed {
				in.cond.Wait()
			}
			if len(in.ready.runs) == 0 || in.failed {
				in.mu.Unlock()
				return
			}
			b := in.ready
			in.ready = spare
			in.cond.Broadcast()
			in.mu.Unlock()

			b.slice()
			if ck != nil {
				check(ck, b)
			}
			select {
			case checked <- b:
			case <-stopped:
				return
			}
			spare = <-free
		}
	})
	defer func() {
		in.mu.Lock()
		in.failed = true
		in.cond.Broadcast()
		in.mu.Unlock()
		close(stopped)
		wg.Wait()
	}()
	for b := range checked {
		var err error
		if ck != nil {
			err = commit(ck, b)
		} else {
			err = c.storeBatch(b)
		}
		if err != nil {
			c.cancel(err)
			return
		}
		c.stored(b)
		b.reset()
		free <- b
	}
}

// stored forgets, of the logs of batch b, just stored, those that the
// inserter holds no more runs of: the store holds what was handed over,
// or refuses the log (so that the receiver skips it from now on).
func (c *session) stored(b *batch) {
	in := &c.insert
	if c.key != "" {
		// The tree hears of what was stored before the log leaves
		// held (the tree's sync leaves alone the logs in held).
		for _, r := range b.runs {
			last := r.first + uint64(r.hi-r.lo) - 1
			if head := c.st.Head(r.id); head >= r.first {
				c.tree.received(c, r.id, r.first, min(head, last))
			}
		}
	}
	for i, r := range b.runs {
		if i > 0 && b.runs[i-1].id == r.id {
			continue
		}
		in.mu.Lock()
		q, ok := in.held[r.id]
		in.mu.Unlock()
		if !ok || (c.st.Head(r.id) < q && !c.refuses(r.id)) {
			continue
		}
		in.mu.Lock()
		if in.held[r.id] == q { // no newer run was handed over meanwhile
			delete(in.held, r.id)
		}
		in.mu.Unlock()
	}
}

// insertParallel bounds how many runs of one batch are checked, or for a
// Store that is not a Checker inserted, at once. Checks of one long run
// already use every CPU; this is for many short runs of different logs,
// and for the file creations of new logs that come with them.
const insertParallel = 8

// check runs ck's checks on every run of b, several runs at once.
func check(ck Checker, b *batch) {
	b.checked = slices.Grow(b.checked[:0], len(b.runs))[:len(b.runs)]
	parallel.Each(len(b.runs), insertParallel, func(i int) error {
		r := b.runs[i]
		b.checked[i] = ck.Check(r.id, b.recs[r.lo:r.hi])
		return nil
	})
}

// commit stores the checked runs of b in one group commit.
func commit(ck Checker, b *batch) error {
	n, err := ck.InsertRuns(b.checked...)
	if err != nil && applog.IsRefused(err) {
		return nil // a forked log is frozen; the others were stored
	}
	if err != nil {
		return fmt.Errorf("store %d runs of %d records (%d stored): %w", len(b.runs), len(b.ends), n, err)
	}
	return nil
}

// storeBatch inserts the runs of b with Store.Insert, for a Store that is
// not a Checker: the runs of one log in order, those of different logs
// concurrently.
func (c *session) storeBatch(b *batch) error {
	// Group the runs by log, keeping their order within each log.
	byLog := make(map[applog.ID][]run)
	var order []applog.ID
	for _, r := range b.runs {
		if _, ok := byLog[r.id]; !ok {
			order = append(order, r.id)
		}
		byLog[r.id] = append(byLog[r.id], r)
	}
	return parallel.Each(len(order), insertParallel, func(i int) error {
		for _, r := range byLog[order[i]] {
			if err := c.storeRun(b, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// storeRun inserts one run of b.
func (c *session) storeRun(b *batch, r run) error {
	n, err := c.st.Insert(r.id, b.recs[r.lo:r.hi])
	if err != nil && applog.IsRefused(err) {
		return nil // a forked log is frozen
	}
	if err != nil {
		last := r.first + uint64(r.hi-r.lo) - 1
		return fmt.Errorf("log %s seqs %d..%d (%d stored): %w", r.id, r.first, last, n, err)
	}
	return nil
}
