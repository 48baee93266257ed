package overlay

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Peer names a peer of the room (the caller's key for it, such as its
// log id; it maps a Peer to an address).
type Peer string

// Kind is the kind of an overlay message.
type Kind uint8

// Message kinds, as HyParView names them. The numbers are those of the
// wire (doc.go): append-only.
const (
	Join          Kind = 1 // to a contact: add me to your active set
	ForwardJoin   Kind = 2 // a join's random walk: Peer joined, TTL steps left
	Neighbor      Kind = 3 // make me active; High: I have no active peer
	NeighborReply Kind = 4 // Accept: yes (both now active) or no
	Disconnect    Kind = 5 // you are no longer in my active set
	Shuffle       Kind = 6 // a sample of Peer's views, TTL steps left
	ShuffleReply  Kind = 7 // a sample of the passive set, to a Shuffle's Peer
)

// String returns the kind's name, as HyParView's, in lower case.
func (k Kind) String() string {
	switch k {
	case Join:
		return "join"
	case ForwardJoin:
		return "forward join"
	case Neighbor:
		return "neighbor"
	case NeighborReply:
		return "neighbor reply"
	case Disconnect:
		return "disconnect"
	case Shuffle:
		return "shuffle"
	case ShuffleReply:
		return "shuffle reply"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Msg is one overlay message: to send (a Machine's output) or received.
type Msg struct {
	To     Peer
	Kind   Kind
	Peer   Peer   // ForwardJoin: the joiner; Shuffle: its origin
	TTL    uint8  // ForwardJoin, Shuffle
	High   bool   // Neighbor
	Accept bool   // NeighborReply
	Peers  []Peer // Shuffle, ShuffleReply
}

// activePeer is a member of the active set.
type activePeer struct {
	id    Peer
	rtt   time.Duration
	named bool // the user named it: never evicted, not counted
	near  bool // chosen for its round-trip time
}

// passivePeer is a member of the passive set.
type passivePeer struct {
	id      Peer
	rtt     time.Duration // 0: unknown
	refused time.Time     // when it last refused a neighbour request; zero: never
}

// refuseHold is how many ReplyTimeouts a peer that refused a neighbour
// request is not asked again: a full peer says no for as long as its
// set stays full, and each request costs a connection.
const refuseHold = 8

// Machine is one peer's membership state, HyParView-like: a bounded
// active set of peers it keeps connections to (the neighbours
// replication uses), a bounded passive set it repairs the active one
// from, and the named peers, always active. It does no I/O, reads no
// clock and draws from its own seeded generator: each method takes the
// time, appends what to send to out and returns it. A Machine is not
// safe for concurrent use; its zero value is not usable (New).
type Machine struct {
	p    Params
	self Peer
	r    *rand.Rand

	active  []activePeer  // sorted by id
	passive []passivePeer // insertion order
	room    int           // the room's size as the caller knows it (0: unknown)

	pending      Peer // a neighbour request or join on its way
	pendingUntil time.Time
	lastEvict    time.Time
	nextShuffle  time.Time
}

// New returns the Machine of peer self with parameters p, drawing its
// random choices from seed, or p's error.
func New(p Params, self Peer, seed uint64) (*Machine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Machine{p: p.withDefaults(), self: self, r: rand.New(rand.NewPCG(seed, uint64(len(self))))}, nil
}

// Active returns the active set, named peers included, sorted: the
// peers to keep a connection to.
func (m *Machine) Active() []Peer {
	ps := make([]Peer, len(m.active))
	for i, a := range m.active {
		ps[i] = a.id
	}
	return ps
}

// Passive returns the passive set.
func (m *Machine) Passive() []Peer {
	ps := make([]Peer, len(m.passive))
	for i, a := range m.passive {
		ps[i] = a.id
	}
	return ps
}

// Target returns the size the active set is repaired to, named peers
// aside: ceil(log2(N)) + Extra for a room of N peers, at most MaxActive,
// where N is the size given to SetRoomSize or, if larger, the peers this
// one knows plus itself.
func (m *Machine) Target() int {
	n := max(m.room, len(m.active)+len(m.passive)+1)
	t := int(math.Ceil(math.Log2(float64(max(n, 2))))) + m.p.Extra
	return min(t, m.p.MaxActive, n-1)
}

// SetRoomSize tells the machine how many peers the room holds as far as
// the caller knows (the chats DNS-SD finds).
func (m *Machine) SetRoomSize(n int) { m.room = n }

// Name makes p a named peer: active whatever the bound, never evicted.
func (m *Machine) Name(p Peer) {
	if p == m.self {
		return
	}
	if a := m.find(p); a != nil {
		a.named = true
		return
	}
	m.removePassive(p)
	m.insertActive(activePeer{id: p, named: true})
}

// Discovered adds p, found on the LAN (DNS-SD), to the passive set
// unless it is active, with its round-trip time if known (0: unknown).
func (m *Machine) Discovered(p Peer, rtt time.Duration) {
	if a := m.find(p); a != nil {
		if rtt > 0 {
			a.rtt = rtt
		}
		return
	}
	m.addPassive(p, rtt)
}

// SetRTT records the round-trip time measured to p.
func (m *Machine) SetRTT(p Peer, rtt time.Duration) {
	if a := m.find(p); a != nil {
		a.rtt = rtt
	}
	for i := range m.passive {
		if m.passive[i].id == p {
			m.passive[i].rtt = rtt
		}
	}
}

// Down reports that the connection to p failed or could not be made: p
// leaves both sets (a named peer stays active: the caller redials it).
func (m *Machine) Down(p Peer) {
	if m.pending == p {
		m.pending = ""
	}
	if a := m.find(p); a != nil && a.named {
		return
	}
	m.removeActive(p)
	m.removePassive(p)
}

// Leave returns out with a Disconnect to each active peer, for a peer
// that goes away; the machine is empty after it.
func (m *Machine) Leave(out []Msg) []Msg {
	for _, a := range m.active {
		out = append(out, Msg{To: a.id, Kind: Disconnect})
	}
	m.active, m.passive, m.pending = nil, nil, ""
	return out
}

// Tick is called about every ReplyTimeout/4 or more often. It returns out
// with the repairs due: a join if no peer is active, a neighbour request
// to a passive peer while the active set is below its target (one at a
// time, and not to a peer that refused one lately: pick), and a shuffle
// every ShuffleInterval.
func (m *Machine) Tick(out []Msg, now time.Time) []Msg {
	if m.pending != "" && !now.Before(m.pendingUntil) {
		// No answer in time: forget it, as a failed peer.
		m.removePassive(m.pending)
		m.pending = ""
	}
	if m.pending == "" && m.count() < m.Target() {
		if p, ok := m.pick(now); ok {
			m.pending, m.pendingUntil = p.id, now.Add(m.p.ReplyTimeout)
			if m.count() == 0 {
				out = append(out, Msg{To: p.id, Kind: Join})
			} else {
				// High priority (the receiver evicts a peer to make room, at
				// most one per EvictInterval) for a peer with less than half
				// its target: a late joiner in a room whose sets are full.
				out = append(out, Msg{To: p.id, Kind: Neighbor, High: m.count() < (m.Target()+1)/2})
			}
		}
	}
	if !now.Before(m.nextShuffle) {
		m.nextShuffle = now.Add(m.p.ShuffleInterval)
		if q, ok := m.randomActive("", ""); ok {
			out = append(out, Msg{To: q, Kind: Shuffle, Peer: m.self, TTL: uint8(m.p.ActiveWalk), Peers: m.sample()})
		}
	}
	return out
}

// Receive handles msg from peer from and returns out with the answers.
func (m *Machine) Receive(out []Msg, now time.Time, from Peer, msg Msg) []Msg {
	if from == m.self || from == "" {
		return out
	}
	switch msg.Kind {
	case Join:
		if m.find(from) != nil {
			// Already active: no second walk.
			return append(out, Msg{To: from, Kind: NeighborReply, Accept: true})
		}
		if !m.admit(now) {
			m.addPassive(from, 0)
			return append(out, Msg{To: from, Kind: Disconnect})
		}
		out = m.addActive(out, from, false)
		out = append(out, Msg{To: from, Kind: NeighborReply, Accept: true})
		for _, a := range m.active {
			if a.id != from {
				out = append(out, Msg{To: a.id, Kind: ForwardJoin, Peer: from, TTL: uint8(m.p.ActiveWalk)})
			}
		}
	case ForwardJoin:
		if m.find(from) == nil || msg.Peer == m.self || msg.Peer == "" {
			return out // only a neighbour forwards joins
		}
		ttl := min(int(msg.TTL), m.p.ActiveWalk)
		if ttl == 0 || m.count() <= 1 {
			if m.find(msg.Peer) == nil && m.admit(now) {
				out = m.addActive(out, msg.Peer, false)
				out = append(out, Msg{To: msg.Peer, Kind: Neighbor, High: true})
			}
			return out
		}
		if ttl == m.p.PassiveWalk {
			m.addPassive(msg.Peer, 0)
		}
		if q, ok := m.randomActive(from, msg.Peer); ok {
			out = append(out, Msg{To: q, Kind: ForwardJoin, Peer: msg.Peer, TTL: uint8(ttl - 1)})
		}
	case Neighbor:
		// Low priority: while below the target plus one, so that the sets
		// stay about the target's size, with room for the next to join.
		accept := m.find(from) != nil || m.count() < m.limit() || (msg.High && m.admit(now))
		if accept {
			out = m.addActive(out, from, false)
		}
		out = append(out, Msg{To: from, Kind: NeighborReply, Accept: accept})
	case NeighborReply:
		if m.pending != from {
			// The answer to a walk's end's request: a refusal undoes it.
			if a := m.find(from); a != nil && !a.named && !msg.Accept {
				m.removeActive(from)
				m.addPassive(from, a.rtt)
			}
			return out
		}
		m.pending = ""
		if !msg.Accept {
			m.refused(from, now)
		} else {
			if m.find(from) == nil && m.count() >= m.limit() {
				return append(out, Msg{To: from, Kind: Disconnect})
			}
			out = m.addActive(out, from, m.nearWanted())
		}
	case Disconnect:
		if m.pending == from {
			m.pending = "" // the answer to a join: no room
		}
		if a := m.find(from); a != nil && !a.named {
			m.removeActive(from)
			m.addPassive(from, a.rtt)
		}
		// Full, as far as this peer can tell: not asked again soon.
		m.refused(from, now)
	case Shuffle:
		if m.find(from) == nil || msg.Peer == "" || msg.Peer == m.self {
			return out
		}
		peers := msg.Peers[:min(len(msg.Peers), m.p.ShuffleActive+m.p.ShufflePassive+1)]
		ttl := min(int(msg.TTL), m.p.ActiveWalk)
		if ttl > 0 && m.count() > 1 {
			if q, ok := m.randomActive(from, msg.Peer); ok {
				return append(out, Msg{To: q, Kind: Shuffle, Peer: msg.Peer, TTL: uint8(ttl - 1), Peers: slices.Clone(peers)})
			}
		}
		reply := m.samplePassive(len(peers))
		m.integrate(peers)
		out = append(out, Msg{To: msg.Peer, Kind: ShuffleReply, Peers: reply})
	case ShuffleReply:
		m.integrate(msg.Peers[:min(len(msg.Peers), m.p.ShuffleActive+m.p.ShufflePassive+1)])
	}
	return out
}

// admit reports whether a request may take a place in the active set
// now: there is room below limit, or an eviction is allowed (at most
// one per EvictInterval, and counted).
func (m *Machine) admit(now time.Time) bool {
	if m.count() < m.limit() {
		return true
	}
	if !m.lastEvict.IsZero() && now.Sub(m.lastEvict) < m.p.EvictInterval {
		return false
	}
	m.lastEvict = now
	return true
}

// limit is the size up to which a neighbour request of low priority is
// accepted: one above the target, at most MaxActive.
func (m *Machine) limit() int { return min(m.Target()+1, m.p.MaxActive) }

// count is the size of the active set, named peers aside.
func (m *Machine) count() int {
	n := 0
	for _, a := range m.active {
		if !a.named {
			n++
		}
	}
	return n
}

func (m *Machine) nearWanted() bool {
	n := 0
	for _, a := range m.active {
		if a.near {
			n++
		}
	}
	return n < m.p.Near
}

func (m *Machine) find(p Peer) *activePeer {
	i, ok := slices.BinarySearchFunc(m.active, p, func(a activePeer, p Peer) int { return cmp.Compare(a.id, p) })
	if !ok {
		return nil
	}
	return &m.active[i]
}

func (m *Machine) insertActive(a activePeer) {
	i, _ := slices.BinarySearchFunc(m.active, a.id, func(a activePeer, p Peer) int { return cmp.Compare(a.id, p) })
	m.active = slices.Insert(m.active, i, a)
}

func (m *Machine) removeActive(p Peer) {
	m.active = slices.DeleteFunc(m.active, func(a activePeer) bool { return a.id == p })
}

// addActive makes p active, evicting a random peer neither named nor near
// to a passive one if the set is full, and returns out with the
// Disconnect to the evicted peer.
func (m *Machine) addActive(out []Msg, p Peer, near bool) []Msg {
	if p == m.self {
		return out
	}
	if m.find(p) != nil {
		return out
	}
	var rtt time.Duration
	for _, q := range m.passive {
		if q.id == p {
			rtt = q.rtt
		}
	}
	m.removePassive(p)
	if m.count() >= m.limit() {
		var cands []int
		for i, a := range m.active {
			if !a.named && !a.near {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			for i, a := range m.active {
				if !a.named {
					cands = append(cands, i)
				}
			}
		}
		v := m.active[cands[m.r.IntN(len(cands))]]
		m.removeActive(v.id)
		m.addPassive(v.id, v.rtt)
		out = append(out, Msg{To: v.id, Kind: Disconnect})
	}
	m.insertActive(activePeer{id: p, rtt: rtt, near: near})
	return out
}

// addPassive adds p to the passive set, replacing a random member if it
// is full; an active peer or this one is not added.
func (m *Machine) addPassive(p Peer, rtt time.Duration) {
	if p == m.self || p == "" || m.find(p) != nil {
		return
	}
	for i := range m.passive {
		if m.passive[i].id == p {
			if rtt > 0 {
				m.passive[i].rtt = rtt
			}
			return
		}
	}
	if len(m.passive) >= m.p.MaxPassive {
		i := m.r.IntN(len(m.passive))
		if m.passive[i].id == m.pending {
			i = (i + 1) % len(m.passive)
		}
		m.passive = slices.Delete(m.passive, i, i+1)
	}
	m.passive = append(m.passive, passivePeer{id: p, rtt: rtt})
}

func (m *Machine) removePassive(p Peer) {
	m.passive = slices.DeleteFunc(m.passive, func(q passivePeer) bool { return q.id == p })
}

// refused records that passive peer p refused a request at now.
func (m *Machine) refused(p Peer, now time.Time) {
	for i := range m.passive {
		if m.passive[i].id == p {
			m.passive[i].refused = now
		}
	}
}

// pick chooses the passive peer to ask next, of those that did not
// refuse a request in the last refuseHold ReplyTimeouts: the nearest
// known if a near link is wanted, else one at random. It reports false
// if every passive peer refused lately.
func (m *Machine) pick(now time.Time) (passivePeer, bool) {
	held := func(q passivePeer) bool {
		return !q.refused.IsZero() && now.Sub(q.refused) < refuseHold*m.p.ReplyTimeout
	}
	n, best := 0, -1
	for i, q := range m.passive {
		if held(q) {
			continue
		}
		n++
		if q.rtt > 0 && (best < 0 || q.rtt < m.passive[best].rtt) {
			best = i
		}
	}
	switch {
	case n == 0:
		return passivePeer{}, false
	case best >= 0 && m.nearWanted():
		return m.passive[best], true
	}
	k := m.r.IntN(n)
	for _, q := range m.passive {
		if !held(q) {
			if k == 0 {
				return q, true
			}
			k--
		}
	}
	return passivePeer{}, false // not reached: n counted the peers not held
}

// randomActive returns a random active peer other than a and b.
func (m *Machine) randomActive(a, b Peer) (Peer, bool) {
	var cands []Peer
	for _, q := range m.active {
		if q.id != a && q.id != b {
			cands = append(cands, q.id)
		}
	}
	if len(cands) == 0 {
		return "", false
	}
	return cands[m.r.IntN(len(cands))], true
}

// sample is what a shuffle carries: this peer, ShuffleActive random
// active peers and ShufflePassive random passive ones.
func (m *Machine) sample() []Peer {
	ps := []Peer{m.self}
	act := m.Active()
	m.r.Shuffle(len(act), func(i, j int) { act[i], act[j] = act[j], act[i] })
	ps = append(ps, act[:min(len(act), m.p.ShuffleActive)]...)
	return append(ps, m.samplePassive(m.p.ShufflePassive)...)
}

func (m *Machine) samplePassive(n int) []Peer {
	pas := m.Passive()
	m.r.Shuffle(len(pas), func(i, j int) { pas[i], pas[j] = pas[j], pas[i] })
	return pas[:min(len(pas), n)]
}

// integrate adds a shuffle's peers to the passive set.
func (m *Machine) integrate(peers []Peer) {
	for _, p := range peers {
		m.addPassive(p, 0)
	}
}
