package ebt

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// This file is a seeded discrete-event simulator of a room of peers, each
// running one Machine: messages are delivered in order per connection
// with that connection's latency, ticks come every NoteInterval (each
// peer at its own phase), and connections come and go as the test says.
// Everything runs from one seed, on simulated time: a run is a pure
// function of its seed and configuration.

// epoch is simulated time zero.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type simEvent struct {
	at  time.Duration
	seq uint64
	fn  func()
}

type simQueue []*simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simConn is one connection: its latency, and the time of the last
// delivery each way, so that messages arrive in the order sent (TCP).
type simConn struct {
	lat  time.Duration
	last [2]time.Duration // [0]: low → high index, [1]: high → low
	up   bool
}

type simNode struct {
	m       *Machine
	up      bool
	stalled bool           // forwards no entry (an eager peer that stalls)
	hops    map[Log][]int8 // hops[l][seq]: hops the entry took to reach this peer
}

// sim is one simulated room.
type sim struct {
	t      testing.TB
	r      *rand.Rand
	p      Params
	now    time.Duration
	seq    uint64
	q      simQueue
	nodes  []*simNode
	conns  map[[2]int]*simConn
	born   map[Log][]time.Duration // born[l][seq]: when the author appended it
	reach  map[Log][]int           // reach[l][seq]: peers holding it
	lastAt map[Log][]time.Duration // lastAt[l][seq]: when the last peer got it
	heads  map[Log]uint64          // author's head

	measuring bool
	st        simStats
	out       []Msg
}

// simStats are the counts of a run (of its measured part).
type simStats struct {
	copies     int // entries received by push, duplicates included
	deliveries int // entries new to their receiver, received by push
	notes      int // notes sent
	noteMsgs   int // batches of notes sent
	maxHops    int
}

func newSim(t testing.TB, seed uint64, n int, p Params) *sim {
	s := &sim{
		t: t, r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), p: p.withDefaults(),
		conns: make(map[[2]int]*simConn),
		born:  make(map[Log][]time.Duration), reach: make(map[Log][]int),
		lastAt: make(map[Log][]time.Duration), heads: make(map[Log]uint64),
	}
	for i := 0; i < n; i++ {
		m, err := New(p)
		if err != nil {
			t.Fatal(err)
		}
		s.nodes = append(s.nodes, &simNode{m: m, up: true, hops: make(map[Log][]int8)})
		phase := time.Duration(s.r.Int64N(int64(s.p.NoteInterval)))
		s.every(phase, s.p.NoteInterval, func() bool {
			nd := s.nodes[i]
			if nd.up {
				s.send(i, nd.m.Tick(s.out[:0], epoch.Add(s.now)))
			}
			return true
		})
	}
	return s
}

func simPeer(i int) Peer { return Peer(fmt.Sprintf("p%04d", i)) }
func simLog(i int) Log   { return Log(fmt.Sprintf("L%04d", i)) }

func simIndex(p Peer) int {
	var i int
	fmt.Sscanf(string(p), "p%d", &i)
	return i
}

func (s *sim) at(d time.Duration, fn func()) {
	s.seq++
	heap.Push(&s.q, &simEvent{at: s.now + d, seq: s.seq, fn: fn})
}

// every runs fn after first, then every period while it returns true
// and events other than ticks remain.
func (s *sim) every(first, period time.Duration, fn func() bool) {
	var tick func()
	tick = func() {
		if fn() {
			s.at(period, tick)
		}
	}
	s.at(first, tick)
}

// run runs events until none but ticks are due before the horizon.
func (s *sim) runUntil(end time.Duration) {
	for s.q.Len() > 0 && s.q[0].at <= end {
		e := heap.Pop(&s.q).(*simEvent)
		s.now = e.at
		e.fn()
	}
	s.now = end
}

func key(a, b int) ([2]int, int) {
	if a < b {
		return [2]int{a, b}, 0
	}
	return [2]int{b, a}, 1
}

// connect connects peers a and b with one-way latency lat.
func (s *sim) connect(a, b int, lat time.Duration) {
	k, _ := key(a, b)
	if c := s.conns[k]; c != nil && c.up {
		return
	}
	s.conns[k] = &simConn{lat: lat, up: true}
	now := epoch.Add(s.now)
	s.send(a, s.nodes[a].m.Connect(s.out[:0], now, simPeer(b)))
	s.send(b, s.nodes[b].m.Connect(s.out[:0], now, simPeer(a)))
	s.nodes[a].m.SetRTT(simPeer(b), 2*lat)
	s.nodes[b].m.SetRTT(simPeer(a), 2*lat)
}

// disconnect ends the connection of a and b; messages on their way are
// lost.
func (s *sim) disconnect(a, b int) {
	k, _ := key(a, b)
	c := s.conns[k]
	if c == nil || !c.up {
		return
	}
	c.up = false
	delete(s.conns, k)
	now := epoch.Add(s.now)
	if s.nodes[a].up {
		s.send(a, s.nodes[a].m.Disconnect(s.out[:0], now, simPeer(b)))
	}
	if s.nodes[b].up {
		s.send(b, s.nodes[b].m.Disconnect(s.out[:0], now, simPeer(a)))
	}
}

// leave takes peer i out of the room: every connection of it ends.
func (s *sim) leave(i int) {
	s.nodes[i].up = false
	var others []int
	for k := range s.conns {
		if k[0] == i || k[1] == i {
			others = append(others, k[0]+k[1]-i)
		}
	}
	slices.Sort(others)
	for _, j := range others {
		s.disconnect(i, j)
	}
}

func (s *sim) connected(a, b int) bool {
	k, _ := key(a, b)
	c := s.conns[k]
	return c != nil && c.up
}

// send delivers msgs from peer from after each connection's latency.
func (s *sim) send(from int, msgs []Msg) {
	for _, msg := range msgs {
		to := simIndex(msg.To)
		if msg.Kind == Push && s.nodes[from].stalled {
			continue
		}
		k, dir := key(from, to)
		c := s.conns[k]
		if c == nil || !c.up {
			continue
		}
		at := max(s.now+c.lat, c.last[dir])
		c.last[dir] = at
		if msg.Kind == Notes {
			msg.Notes = append([]Note(nil), msg.Notes...)
			if s.measuring {
				s.st.notes += len(msg.Notes)
				s.st.noteMsgs++
			}
		}
		s.at(at-s.now, func() {
			if c2 := s.conns[k]; c2 != c || !c.up {
				return
			}
			s.deliver(from, to, msg)
		})
	}
}

func (s *sim) deliver(from, to int, msg Msg) {
	nd := s.nodes[to]
	now := epoch.Add(s.now)
	switch msg.Kind {
	case Notes:
		s.send(to, nd.m.ReceivedNotes(s.out[:0], now, simPeer(from), msg.Notes))
	case Push:
		for seq := msg.From; seq <= msg.Thru; seq++ {
			out, isNew := nd.m.Received(s.out[:0], now, simPeer(from), msg.Log, seq)
			if s.measuring {
				s.st.copies++
			}
			if isNew {
				hop := s.nodes[from].hop(msg.Log, seq) + 1
				nd.setHop(msg.Log, seq, hop)
				if s.measuring {
					s.st.deliveries++
					s.st.maxHops = max(s.st.maxHops, int(hop))
				}
				s.reached(msg.Log, seq)
			}
			s.send(to, out)
		}
	}
}

func (nd *simNode) hop(l Log, seq uint64) int8 {
	if h := nd.hops[l]; uint64(len(h)) > seq {
		return h[seq]
	}
	return 0
}

func (nd *simNode) setHop(l Log, seq uint64, hop int8) {
	h := nd.hops[l]
	for uint64(len(h)) <= seq {
		h = append(h, 0)
	}
	h[seq] = hop
	nd.hops[l] = h
}

func (s *sim) reached(l Log, seq uint64) {
	s.reach[l][seq]++
	s.lastAt[l][seq] = s.now
}

// appendAt makes peer i append the next entry of its log.
func (s *sim) appendEntry(i int) {
	if !s.nodes[i].up {
		return
	}
	l := simLog(i)
	s.heads[l]++
	seq := s.heads[l]
	if len(s.born[l]) == 0 {
		s.born[l], s.reach[l], s.lastAt[l] = []time.Duration{0}, []int{0}, []time.Duration{0}
	}
	s.born[l] = append(s.born[l], s.now)
	s.reach[l] = append(s.reach[l], 1)
	s.lastAt[l] = append(s.lastAt[l], s.now)
	s.send(i, s.nodes[i].m.Append(s.out[:0], epoch.Add(s.now), l, seq))
}

// check fails t unless every peer up holds every entry of every log,
// and returns the slowest time from an append to the last peer up.
func (s *sim) check() (slowest time.Duration) {
	s.t.Helper()
	up := 0
	for _, nd := range s.nodes {
		if nd.up {
			up++
		}
	}
	missing := 0
	for l, head := range s.heads {
		for i, nd := range s.nodes {
			if nd.up && nd.m.Head(l) != head {
				if missing < 5 {
					s.t.Errorf("peer %d holds %s up to %d, want %d", i, l, nd.m.Head(l), head)
				}
				missing++
			}
		}
		for seq := uint64(1); seq <= head; seq++ {
			slowest = max(slowest, s.lastAt[l][seq]-s.born[l][seq])
		}
	}
	if missing > 0 {
		s.t.Errorf("%d (peer, log) pairs behind", missing)
	}
	return slowest
}

// randomGraph connects each peer to deg others at random (about deg
// on average, each link both ways), with latencies of 1 to 5ms and, for
// a fraction slow of the links, 50 to 200ms.
func (s *sim) randomGraph(deg int, slow float64) {
	n := len(s.nodes)
	for i := 0; i < n; i++ {
		// A ring first, so that the graph is connected.
		s.connect(i, (i+1)%n, s.latency(slow))
		for k := 0; k < deg/2-1; k++ {
			j := s.r.IntN(n)
			if j != i {
				s.connect(i, j, s.latency(slow))
			}
		}
	}
}

func (s *sim) fullMesh(slow float64) {
	for i := range s.nodes {
		for j := i + 1; j < len(s.nodes); j++ {
			s.connect(i, j, s.latency(slow))
		}
	}
}

func (s *sim) latency(slow float64) time.Duration {
	if s.r.Float64() < slow {
		return 50*time.Millisecond + time.Duration(s.r.Int64N(int64(150*time.Millisecond)))
	}
	return time.Millisecond + time.Duration(s.r.Int64N(int64(4*time.Millisecond)))
}

// chatter makes every peer up append one entry, at random times within
// d from now.
func (s *sim) chatter(d time.Duration) {
	for i := range s.nodes {
		s.at(time.Duration(s.r.Int64N(int64(d))), func() { s.appendEntry(i) })
	}
}
