package replicate

import (
	"errors"
	"fmt"
	"sync"

	"scuttle/applog"
)

// batchBytes bounds the records the receiver has ready for the store while
// the inserter is busy; when reached, the receiver stops reading (and TCP
// stops the peer) until the inserter takes them.
const batchBytes = 1 << 20

// inserter stores the runs the receiver completes. It runs beside the
// receiver so that parsing and verifying+syncing overlap, and it takes all
// that is ready at once, so that a slow sync makes batches larger, not
// queues longer: a double buffer of at most batchBytes each.
type inserter struct {
	mu     sync.Mutex
	cond   sync.Cond            // signals changes of ready, busy and done
	ready  batch                // complete signed runs, not yet taken
	spare  batch                // the other buffer
	done   bool                 // the receiver ended: drain ready and stop
	failed bool                 // the inserter stopped: add fails
	held   map[applog.ID]uint64 // highest seq handed to the inserter, per log
}

// batch is a sequence of runs, each of one log, to store in order.
type batch struct {
	arena []byte
	ends  []int // end offset in arena of each record
	runs  []run
}

// run is records lo..hi-1 of a batch: seqs first… of log id.
type run struct {
	id     applog.ID
	first  uint64
	lo, hi int
}

func (b *batch) reset() {
	b.arena, b.ends, b.runs = b.arena[:0], b.ends[:0], b.runs[:0]
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
	b := &in.ready
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

// insertLoop stores ready batches until the receiver is done and all is
// stored, or an insert fails; then it cancels the session with the error.
func (c *session) insertLoop() {
	in := &c.insert
	defer func() {
		in.mu.Lock()
		in.failed = true
		in.cond.Broadcast()
		in.mu.Unlock()
	}()
	var recs [][]byte
	for {
		in.mu.Lock()
		for len(in.ready.runs) == 0 && !in.done {
			in.cond.Wait()
		}
		if len(in.ready.runs) == 0 {
			in.mu.Unlock()
			return
		}
		in.ready, in.spare = in.spare, in.ready
		in.cond.Broadcast()
		in.mu.Unlock()

		b := &in.spare
		if err := c.storeBatch(b, &recs); err != nil {
			c.cancel(err)
			return
		}
		clear(recs)
		b.reset()
	}
}

// insertParallel bounds how many logs' runs of one batch are inserted at
// once. The store's group commit shares syncs among concurrent inserts, and
// each insert's verification runs in its caller, so inserting different
// logs concurrently overlaps their verification and syncs.
const insertParallel = 8

// storeBatch inserts the runs of b: the runs of one log in order, those of
// different logs concurrently.
func (c *session) storeBatch(b *batch, recs *[][]byte) error {
	single := true
	for _, r := range b.runs[1:] {
		if r.id != b.runs[0].id {
			single = false
			break
		}
	}
	if single {
		for _, r := range b.runs {
			if err := c.storeRun(b, r, recs); err != nil {
				return err
			}
		}
		return nil
	}
	// Group the runs by log, keeping their order within each log.
	byLog := make(map[applog.ID][]run)
	var order []applog.ID
	for _, r := range b.runs {
		if _, ok := byLog[r.id]; !ok {
			order = append(order, r.id)
		}
		byLog[r.id] = append(byLog[r.id], r)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, insertParallel)
	)
	for _, id := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var recs [][]byte
			for _, r := range byLog[id] {
				if err := c.storeRun(b, r, &recs); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// storeRun inserts one run of b, using *recs as scratch.
func (c *session) storeRun(b *batch, r run, recs *[][]byte) error {
	rs := (*recs)[:0]
	start := 0
	if r.lo > 0 {
		start = b.ends[r.lo-1]
	}
	for _, end := range b.ends[r.lo:r.hi] {
		rs = append(rs, b.arena[start:end:end])
		start = end
	}
	*recs = rs
	n, err := c.st.Insert(r.id, rs)
	if err != nil {
		last := r.first + uint64(len(rs)) - 1
		return fmt.Errorf("log %s seqs %d..%d (%d stored): %w", r.id, r.first, last, n, err)
	}
	return nil
}
