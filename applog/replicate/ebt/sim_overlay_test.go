package ebt

import (
	"slices"
	"time"

	"scuttle/topology/overlay"
)

// simOverlay runs topology/overlay's Machine on every peer of a sim and
// keeps the sim's connections those of the overlay: peers a and b are
// connected while either holds the other active, as a chat with
// --discover would keep its connections.
type simOverlay struct {
	s    *sim
	p    overlay.Params
	ms   []*overlay.Machine // by peer index; nil for a peer without
	room int
	msgs int // overlay messages sent
	// carry: an overlay message opens a replication connection between
	// peers not connected, closed once neither wants it and its last
	// message is lingerFor old, as chat's membership does.
	carry bool
	last  map[[2]int]time.Duration // when a pair's last message went
}

// lingerFor is how long a connection opened for overlay messages lives
// after its last one (chat's memberLinger).
const lingerFor = time.Second

const simOverlayTick = 250 * time.Millisecond

// withOverlay makes s's connections follow the overlay.
func (s *sim) withOverlay(p overlay.Params, room int) *simOverlay {
	s.ov = &simOverlay{s: s, p: p, room: room}
	return s.ov
}

func ovPeer(i int) overlay.Peer { return overlay.Peer(simPeer(i)) }

// start runs the overlay on peer i, which has found up to 40 of the
// peers up (DNS-SD).
func (o *simOverlay) start(i int) {
	s := o.s
	for len(o.ms) <= i {
		o.ms = append(o.ms, nil)
	}
	m, err := overlay.New(o.p, ovPeer(i), s.seed*7919+uint64(i))
	if err != nil {
		s.t.Fatal(err)
	}
	o.ms[i] = m
	m.SetRoomSize(o.room)
	var ups []int
	for j, nd := range s.nodes {
		if j != i && nd.up && j < len(o.ms) && o.ms[j] != nil {
			ups = append(ups, j)
		}
	}
	s.r.Shuffle(len(ups), func(a, b int) { ups[a], ups[b] = ups[b], ups[a] })
	for _, j := range ups[:min(len(ups), 40)] {
		m.Discovered(ovPeer(j), 2*s.latency(i, j))
	}
	s.every(time.Duration(s.r.Int64N(int64(simOverlayTick))), simOverlayTick, func() bool {
		if !s.nodes[i].up {
			return false
		}
		o.send(i, m.Tick(nil, epoch.Add(s.ev.Now())))
		o.reconcile(i)
		return true
	})
}

func (o *simOverlay) send(from int, msgs []overlay.Msg) {
	s := o.s
	for _, msg := range msgs {
		to := simIndex(Peer(msg.To))
		lat := s.latency(from, to)
		o.msgs++
		if o.carry && s.nodes[to].up {
			if o.last == nil {
				o.last = make(map[[2]int]time.Duration)
			}
			k, _ := key(from, to)
			o.last[k] = s.ev.Now()
			s.connect(from, to)
		}
		s.at(lat, func() {
			if !s.nodes[from].up {
				return
			}
			if !s.nodes[to].up {
				s.at(lat, func() {
					if s.nodes[from].up {
						o.ms[from].Down(ovPeer(to))
						o.reconcile(from)
					}
				})
				return
			}
			o.send(to, o.ms[to].Receive(nil, epoch.Add(s.ev.Now()), ovPeer(from), msg))
			o.reconcile(to)
			o.reconcile(from)
		})
	}
}

// leave tells the active neighbours of peer i, gone, after a detection
// delay.
func (o *simOverlay) leave(i int) {
	s := o.s
	for j, m := range o.ms {
		if m == nil || !s.nodes[j].up || !slices.Contains(m.Active(), ovPeer(i)) {
			continue
		}
		s.at(2*s.latency(i, j)+100*time.Millisecond, func() {
			if s.nodes[j].up {
				m.Down(ovPeer(i))
				o.reconcile(j)
			}
		})
	}
}

// reconcile opens the connections peer i's active set wants and closes
// those neither side wants.
func (o *simOverlay) reconcile(i int) {
	s := o.s
	if !s.nodes[i].up {
		return
	}
	act := o.ms[i].Active()
	for _, p := range act {
		s.connect(i, simIndex(Peer(p)))
	}
	for _, j := range s.neighbours(i) {
		k, _ := key(i, j)
		if at, ok := o.last[k]; ok && s.ev.Now()-at < lingerFor {
			continue
		}
		if !slices.Contains(act, ovPeer(j)) && !slices.Contains(o.ms[j].Active(), ovPeer(i)) {
			s.disconnect(i, j)
		}
	}
}

// degrees returns the largest and the mean number of connections of the
// peers up.
func (s *sim) degrees() (maxDeg int, mean float64) {
	n, sum := 0, 0
	for _, nd := range s.nodes {
		if nd.up {
			maxDeg = max(maxDeg, len(nd.adj))
			sum += len(nd.adj)
			n++
		}
	}
	return maxDeg, float64(sum) / float64(n)
}
