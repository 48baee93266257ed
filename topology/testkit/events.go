package testkit

import (
	"container/heap"
	"time"
)

// Events is the clock and event queue of a seeded simulator: it runs
// functions at times on a simulated clock, in the order of their times,
// and of their scheduling at equal times, so that a run is a function of
// its seed alone. The zero value is ready, at time 0.
type Events struct {
	now time.Duration
	seq uint64
	q   eventQueue
}

// Now returns the simulated time: that of the event running, or where
// the last RunUntil stopped.
func (e *Events) Now() time.Duration { return e.now }

// After schedules fn to run d after Now.
func (e *Events) After(d time.Duration, fn func()) {
	e.seq++
	heap.Push(&e.q, &event{at: e.now + d, seq: e.seq, fn: fn})
}

// RunUntil runs the events due up to end, those they schedule included,
// then sets the clock to end.
func (e *Events) RunUntil(end time.Duration) {
	for len(e.q) > 0 && e.q[0].at <= end {
		ev := heap.Pop(&e.q).(*event)
		e.now = ev.at
		ev.fn()
	}
	e.now = end
}

type event struct {
	at  time.Duration
	seq uint64
	fn  func()
}

// eventQueue is a heap of events, earliest (then first scheduled) first.
type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	ev := old[len(old)-1]
	*q = old[:len(old)-1]
	return ev
}
