package overlay

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"scuttle/topology/testkit"
)

// This file is a seeded discrete-event simulator of a room running the
// overlay: every peer's Machine, messages delivered after the pair's
// latency (to any peer up: a message to a peer not active goes over a
// short connection), a message to a peer gone reported to its sender as
// Down after a round trip, and the active neighbours of a peer that
// leaves told Down after a detection delay. A run is a pure function of
// its seed.

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type simNode struct {
	m  *Machine
	up bool
}

type sim struct {
	t     testing.TB
	seed  uint64
	r     *rand.Rand
	p     Params
	ev    testkit.Events // the clock, and the events due
	nodes []*simNode
	msgs  int
}

const simTick = 250 * time.Millisecond

func simPeer(i int) Peer { return Peer(fmt.Sprintf("p%04d", i)) }

func simIndex(p Peer) int {
	var i int
	fmt.Sscanf(string(p), "p%d", &i)
	return i
}

func newSim(t testing.TB, seed uint64, p Params) *sim {
	return &sim{t: t, seed: seed, r: rand.New(rand.NewPCG(seed, 1)), p: p}
}

func (s *sim) at(d time.Duration, fn func()) { s.ev.After(d, fn) }

func (s *sim) runUntil(end time.Duration) { s.ev.RunUntil(end) }

// latency is the one-way latency of the pair a, b: 1 to 5ms, or for one
// pair in ten 50 to 200ms (a slow link).
func (s *sim) latency(a, b int) time.Duration {
	h := fnv.New64a()
	fmt.Fprint(h, s.seed, min(a, b), max(a, b))
	x := h.Sum64()
	if x%10 == 0 {
		return 50*time.Millisecond + time.Duration(x>>8)%(150*time.Millisecond)
	}
	return time.Millisecond + time.Duration(x>>8)%(4*time.Millisecond)
}

// join adds a peer that discovers up to 40 peers up (DNS-SD), in a room
// it is told has n peers.
func (s *sim) join(room int) int {
	i := len(s.nodes)
	m, err := New(s.p, simPeer(i), s.seed*7919+uint64(i))
	if err != nil {
		s.t.Fatal(err)
	}
	s.nodes = append(s.nodes, &simNode{m: m, up: true})
	m.SetRoomSize(room)
	var ups []int
	for j, nd := range s.nodes[:i] {
		if nd.up {
			ups = append(ups, j)
		}
	}
	s.r.Shuffle(len(ups), func(a, b int) { ups[a], ups[b] = ups[b], ups[a] })
	for _, j := range ups[:min(len(ups), 40)] {
		m.Discovered(simPeer(j), 2*s.latency(i, j))
	}
	phase := time.Duration(s.r.Int64N(int64(simTick)))
	var tick func()
	tick = func() {
		if !s.nodes[i].up {
			return
		}
		s.send(i, s.nodes[i].m.Tick(nil, epoch.Add(s.ev.Now())))
		s.at(simTick, tick)
	}
	s.at(phase, tick)
	return i
}

// leave takes peer i out at once (a crash, or a laptop closed): its
// active neighbours see the connection fail after a detection delay.
func (s *sim) leave(i int) {
	nd := s.nodes[i]
	nd.up = false
	for j, o := range s.nodes {
		if o.up && slices.Contains(o.m.Active(), simPeer(i)) {
			s.at(2*s.latency(i, j)+100*time.Millisecond, func() {
				if s.nodes[j].up {
					s.nodes[j].m.Down(simPeer(i))
				}
			})
		}
	}
}

func (s *sim) send(from int, msgs []Msg) {
	for _, msg := range msgs {
		to := simIndex(msg.To)
		lat := s.latency(from, to)
		s.msgs++
		s.at(lat, func() {
			if !s.nodes[from].up {
				return
			}
			if !s.nodes[to].up {
				s.at(lat, func() {
					if s.nodes[from].up {
						s.nodes[from].m.Down(simPeer(to))
					}
				})
				return
			}
			s.send(to, s.nodes[to].m.Receive(nil, epoch.Add(s.ev.Now()), simPeer(from), msg))
		})
	}
}

// graph returns the undirected active graph among the peers up: a link
// where either side holds the other active (a connection is open).
func (s *sim) graph() map[int][]int {
	g := make(map[int][]int)
	for i, nd := range s.nodes {
		if !nd.up {
			continue
		}
		if _, ok := g[i]; !ok {
			g[i] = nil // a peer up with no link counts as a component
		}
		for _, p := range nd.m.Active() {
			j := simIndex(p)
			if s.nodes[j].up {
				if !slices.Contains(g[i], j) {
					g[i] = append(g[i], j)
				}
				if !slices.Contains(g[j], i) {
					g[j] = append(g[j], i)
				}
			}
		}
	}
	return g
}

// components returns the number of connected components of the peers up.
func (s *sim) components() int {
	g := s.graph()
	seen := make(map[int]bool)
	comps := 0
	for i := range s.nodes {
		if !s.nodes[i].up || seen[i] {
			continue
		}
		comps++
		stack := []int{i}
		seen[i] = true
		for len(stack) > 0 {
			u := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, v := range g[u] {
				if !seen[v] {
					seen[v] = true
					stack = append(stack, v)
				}
			}
		}
	}
	return comps
}

// degrees returns the largest and the mean active set size (named
// peers aside) of the peers up, and the largest connection count (the
// undirected degree).
func (s *sim) degrees() (maxActive int, mean float64, maxConns int) {
	g := s.graph()
	n, sum := 0, 0
	for i, nd := range s.nodes {
		if !nd.up {
			continue
		}
		c := nd.m.count()
		maxActive = max(maxActive, c)
		maxConns = max(maxConns, len(g[i]))
		sum += len(g[i])
		n++
	}
	return maxActive, float64(sum) / float64(n), maxConns
}
