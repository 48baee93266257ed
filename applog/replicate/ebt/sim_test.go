package ebt

import (
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"scuttle/topology/testkit"
)

// This file is a seeded discrete-event simulator of a room of peers, each
// running one Machine: messages are delivered in order per connection
// with that connection's latency, ticks come every NoteInterval (each
// peer at its own phase), and connections come and go as the test says.
// Everything runs from one seed, on simulated time: a run is a pure
// function of its seed and configuration.

// epoch is simulated time zero.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

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
	adj     map[int]bool   // connected peers
	joined  time.Duration  // when it came into the room
}

// sim is one simulated room.
type sim struct {
	t      testing.TB
	seed   uint64
	slow   float64
	r      *rand.Rand
	p      Params
	ev     testkit.Events // the clock, and the events due
	nodes  []*simNode
	conns  map[[2]int]*simConn
	born   map[Log][]time.Duration // born[l][seq]: when the author appended it
	reach  map[Log][]int           // reach[l][seq]: peers holding it
	lastAt map[Log][]time.Duration // lastAt[l][seq]: when the last peer got it
	heads  map[Log]uint64          // author's head

	ov          *simOverlay // nil: connections as the test makes them
	measuring   bool
	measureFrom time.Duration
	st          simStats
	out         []Msg
}

// simStats are the counts of a run (of its measured part).
type simStats struct {
	copies     int // entries received by push, duplicates included
	deliveries int // entries new to their receiver, received by push
	notes      int // notes sent
	noteMsgs   int // batches of notes sent
	maxHops    int
}

// newSim returns a room of n peers, none connected, where a fraction
// slow of the pairs have a slow link.
func newSim(t testing.TB, seed uint64, n int, p Params, slow float64) *sim {
	s := &sim{
		t: t, seed: seed, slow: slow,
		r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), p: p.withDefaults(),
		conns: make(map[[2]int]*simConn),
		born:  make(map[Log][]time.Duration), reach: make(map[Log][]int),
		lastAt: make(map[Log][]time.Duration), heads: make(map[Log]uint64),
	}
	for i := 0; i < n; i++ {
		s.addNode()
	}
	return s
}

// addNode adds a peer, up and connected to none, and returns its index.
func (s *sim) addNode() int {
	m, err := New(s.p)
	if err != nil {
		s.t.Fatal(err)
	}
	i := len(s.nodes)
	m.Own(simLog(i)) // each peer authors one log, as a chat
	s.nodes = append(s.nodes, &simNode{m: m, up: true, hops: make(map[Log][]int8), adj: make(map[int]bool), joined: s.ev.Now()})
	phase := time.Duration(s.r.Int64N(int64(s.p.NoteInterval)))
	s.every(phase, s.p.NoteInterval, func() bool {
		nd := s.nodes[i]
		if nd.up {
			s.send(i, nd.m.Tick(s.out[:0], epoch.Add(s.ev.Now())))
		}
		return nd.up
	})
	return i
}

// latency is the one-way latency of the pair a, b: 1 to 5ms, or for a
// fraction slow of the pairs 50 to 200ms.
func (s *sim) latency(a, b int) time.Duration {
	h := fnv.New64a()
	fmt.Fprint(h, s.seed, min(a, b), max(a, b))
	x := h.Sum64()
	if float64(x%1000) < s.slow*1000 {
		return 50*time.Millisecond + time.Duration(x>>10)%(150*time.Millisecond)
	}
	return time.Millisecond + time.Duration(x>>10)%(4*time.Millisecond)
}

func simPeer(i int) Peer { return Peer(fmt.Sprintf("p%04d", i)) }
func simLog(i int) Log   { return Log(fmt.Sprintf("L%04d", i)) }

func simIndex(p Peer) int {
	i, _ := strconv.Atoi(string(p[1:]))
	return i
}

func (s *sim) at(d time.Duration, fn func()) { s.ev.After(d, fn) }

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
func (s *sim) runUntil(end time.Duration) { s.ev.RunUntil(end) }

func key(a, b int) ([2]int, int) {
	if a < b {
		return [2]int{a, b}, 0
	}
	return [2]int{b, a}, 1
}

// connect connects peers a and b.
func (s *sim) connect(a, b int) {
	k, _ := key(a, b)
	if a == b || !s.nodes[a].up || !s.nodes[b].up {
		return
	}
	if c := s.conns[k]; c != nil && c.up {
		return
	}
	lat := s.latency(a, b)
	s.conns[k] = &simConn{lat: lat, up: true}
	s.nodes[a].adj[b], s.nodes[b].adj[a] = true, true
	now := epoch.Add(s.ev.Now())
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
	delete(s.nodes[a].adj, b)
	delete(s.nodes[b].adj, a)
	now := epoch.Add(s.ev.Now())
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
	for _, j := range s.neighbours(i) {
		s.disconnect(i, j)
	}
	if s.ov != nil {
		s.ov.leave(i)
	}
}

// neighbours returns the peers connected to i, sorted.
func (s *sim) neighbours(i int) []int {
	var js []int
	for j := range s.nodes[i].adj {
		js = append(js, j)
	}
	slices.Sort(js)
	return js
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
		if msg.Kind == Owed {
			// Sent at once, whole, as Connect's heads were.
			ms := taken(s.nodes[from].m, []Msg{msg})
			if len(ms) == 0 {
				continue
			}
			msg = ms[0]
		}
		at := max(s.ev.Now()+c.lat, c.last[dir])
		c.last[dir] = at
		if msg.Kind == Notes {
			msg.Notes = append([]Note(nil), msg.Notes...)
			if s.measuring {
				s.st.notes += len(msg.Notes)
				s.st.noteMsgs++
			}
		}
		s.at(at-s.ev.Now(), func() {
			if c2 := s.conns[k]; c2 != c || !c.up {
				return
			}
			s.deliver(from, to, msg)
		})
	}
}

func (s *sim) deliver(from, to int, msg Msg) {
	nd := s.nodes[to]
	now := epoch.Add(s.ev.Now())
	switch msg.Kind {
	case Notes:
		s.send(to, nd.m.ReceivedNotes(s.out[:0], now, simPeer(from), msg.Notes))
	case Resend:
		s.send(to, nd.m.ReceivedResend(s.out[:0], now, simPeer(from)))
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
				if nd.joined <= s.born[msg.Log][seq] {
					s.reached(msg.Log, seq) // a peer that joined later catches up: not counted
				}
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
	s.lastAt[l][seq] = s.ev.Now()
}

// appendAt makes peer i append the next entry of its log.
func (s *sim) appendEntry(i int) {
	if !s.nodes[i].up || s.nodes[i].stalled {
		return
	}
	l := simLog(i)
	s.heads[l]++
	seq := s.heads[l]
	if len(s.born[l]) == 0 {
		s.born[l], s.reach[l], s.lastAt[l] = []time.Duration{0}, []int{0}, []time.Duration{0}
	}
	s.born[l] = append(s.born[l], s.ev.Now())
	s.reach[l] = append(s.reach[l], 1)
	s.lastAt[l] = append(s.lastAt[l], s.ev.Now())
	s.send(i, s.nodes[i].m.Append(s.out[:0], epoch.Add(s.ev.Now()), l, seq))
}

// check fails t unless every peer up holds every entry that any peer up
// holds, and every entry of every author up; it returns the time from
// append to the last peer that was up then, at the median and at most,
// of the entries appended since measuring began.
func (s *sim) check() (p50, slowest time.Duration) {
	s.t.Helper()
	missing := 0
	var took []time.Duration
	for _, l := range slices.Sorted(maps.Keys(s.heads)) {
		want := uint64(0)
		for _, nd := range s.nodes {
			if nd.up {
				want = max(want, nd.m.Head(l))
			}
		}
		if author := s.nodes[simIndex(Peer("p"+string(l[1:])))]; author.up && want != s.heads[l] {
			s.t.Errorf("author of %s up holds %d, want %d", l, want, s.heads[l])
		}
		for i, nd := range s.nodes {
			if nd.up && nd.m.Head(l) != want {
				if missing < 5 {
					s.t.Errorf("peer %d holds %s up to %d, want %d", i, l, nd.m.Head(l), want)
				}
				missing++
			}
		}
		for seq := uint64(1); seq <= want; seq++ {
			if s.born[l][seq] >= s.measureFrom {
				took = append(took, s.lastAt[l][seq]-s.born[l][seq])
			}
		}
	}
	if missing > 0 {
		s.t.Errorf("%d (peer, log) pairs behind", missing)
	}
	if len(took) == 0 {
		return 0, 0
	}
	slices.Sort(took)
	return took[len(took)/2], took[len(took)-1]
}

// measure starts counting: the figures are of what happens from now.
func (s *sim) measure() {
	s.measuring = true
	s.measureFrom = s.ev.Now()
	s.st = simStats{}
}

// fullMesh connects every pair: the named peers of `chat alice bob …`.
func (s *sim) fullMesh() {
	for i := range s.nodes {
		for j := i + 1; j < len(s.nodes); j++ {
			s.connect(i, j)
		}
	}
}

// chatter makes every peer up append one entry, at random times within
// d from now.
func (s *sim) chatter(d time.Duration) {
	for i := range s.nodes {
		s.at(time.Duration(s.r.Int64N(int64(d))), func() { s.appendEntry(i) })
	}
}
