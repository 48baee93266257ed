package chat

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/mdns"
	"scuttle/topology/overlay"
)

// memberID is the log id of test peer i.
func memberID(i int) applog.ID {
	var seed [ed25519.SeedSize]byte
	seed[0], seed[1] = byte(i), byte(i>>8)
	return applog.IDOf(ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
}

// memberRoom is a room of members joined by a fake swarm: no network,
// a fake clock, and one link per pair of peers, as a topology.Swarm
// keeps one connection per pair.
type memberRoom struct {
	t     *testing.T
	now   time.Time
	ms    []*member
	alive []bool
	mu    sync.Mutex // guards what the members' calls touch: dials, removes, cancels
	dials []roomDial
	rms   []roomDial
	links map[[2]int]*roomLink
	added []map[string]bool // per member: the specs it asked to dial, not removed
}

type roomDial struct {
	from int
	spec string
}

// roomLink is a connection between a and b (a < b): each side's
// membership, and whether a side closed it.
type roomLink struct {
	a, b       int
	ca, cb     *memberConn
	dialler    int
	closed     bool
	cancelling bool
}

// roomSwarm is member i's fake swarm.
type roomSwarm struct {
	r *memberRoom
	i int
}

func (s roomSwarm) AddPeer(p string) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if !s.r.added[s.i][p] {
		s.r.added[s.i][p] = true
		s.r.dials = append(s.r.dials, roomDial{s.i, p})
	}
	return nil
}

func (s roomSwarm) RemovePeer(p string) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	delete(s.r.added[s.i], p)
	s.r.rms = append(s.r.rms, roomDial{s.i, p})
}

func newMemberRoom(t *testing.T, n int, seed uint64) *memberRoom {
	r := &memberRoom{t: t, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), links: map[[2]int]*roomLink{}}
	for i := range n {
		m := newMember(memberID(i), roomSwarm{r, i}, func(applog.ID) bool { return false }, nil, seed+uint64(i))
		m.clock = func() time.Time { return r.now }
		r.ms = append(r.ms, m)
		r.alive = append(r.alive, true)
		r.added = append(r.added, map[string]bool{})
	}
	return r
}

// discoverAll tells every member of every other, as DNS-SD would.
func (r *memberRoom) discoverAll() {
	for i, m := range r.ms {
		for j := range r.ms {
			if i != j {
				m.found(fmt.Sprint("c", j), memberID(j), fmt.Sprintf("10.0.0.%d:4000", j+1))
			}
		}
	}
}

// connect makes the link of a dial of member from for spec, if the
// peer is alive and the pair has none.
func (r *memberRoom) connect(from int, spec string) {
	var to int
	if _, err := fmt.Sscanf(spec, "c%d", &to); err != nil {
		r.t.Fatalf("dial of %q", spec)
	}
	if !r.alive[to] || !r.alive[from] {
		return
	}
	key := [2]int{min(from, to), max(from, to)}
	if l := r.links[key]; l != nil && !l.closed {
		return
	}
	l := &roomLink{a: key[0], b: key[1], dialler: from}
	side := func(me, other int) *memberConn {
		cancel := func() {
			r.mu.Lock()
			l.cancelling = true
			r.mu.Unlock()
		}
		c, _ := r.ms[me].session(memberID(other), "", &net.TCPAddr{IP: net.IPv4(10, 0, 0, byte(other+1)), Port: 5000}, "[::]:4000", context.CancelFunc(cancel))
		return c
	}
	l.ca, l.cb = side(l.a, l.b), side(l.b, l.a)
	r.links[key] = l
	r.ms[l.a].up(l.ca)
	r.ms[l.b].up(l.cb)
}

// close ends link l at both sides.
func (r *memberRoom) close(l *roomLink) {
	if l.closed {
		return
	}
	l.closed = true
	r.ms[l.a].ended(l.ca)
	r.ms[l.b].ended(l.cb)
}

// step runs dials, removals, cancellations and messages until nothing
// moves, then advances the clock by memberTick and ticks every member.
func (r *memberRoom) step() {
	for moved := true; moved; {
		moved = false
		r.mu.Lock()
		dials, rms := r.dials, r.rms
		r.dials, r.rms = nil, nil
		r.mu.Unlock()
		for _, d := range dials {
			if r.added[d.from][d.spec] {
				r.connect(d.from, d.spec)
				moved = true
			}
		}
		for _, d := range rms {
			var to int
			fmt.Sscanf(d.spec, "c%d", &to)
			if l := r.links[[2]int{min(d.from, to), max(d.from, to)}]; l != nil && !l.closed && l.dialler == d.from {
				r.close(l)
				moved = true
			}
		}
		for _, l := range r.links {
			r.mu.Lock()
			cancelling := l.cancelling
			r.mu.Unlock()
			if cancelling && !l.closed {
				r.close(l)
				moved = true
			}
		}
		for _, l := range r.links {
			for _, dir := range []struct {
				from   *memberConn
				to     int
				toConn *memberConn
			}{{l.ca, l.b, l.cb}, {l.cb, l.a, l.ca}} {
				for !l.closed {
					select {
					case b := <-dir.from.out:
						moved = true
						if err := r.ms[dir.to].receive(dir.toConn, b); err != nil {
							r.t.Fatalf("receive: %v", err)
						}
						continue
					default:
					}
					break
				}
			}
		}
	}
	r.now = r.now.Add(memberTick)
	for i, m := range r.ms {
		if r.alive[i] {
			m.tick()
		}
	}
}

// degree returns the open links of each member.
func (r *memberRoom) degree() []int {
	d := make([]int, len(r.ms))
	for _, l := range r.links {
		if !l.closed {
			d[l.a]++
			d[l.b]++
		}
	}
	return d
}

// connectedComponent reports whether the open links join every live
// member.
func (r *memberRoom) connectedComponent() bool {
	seen := map[int]bool{}
	var first = -1
	for i, a := range r.alive {
		if a {
			first = i
			break
		}
	}
	stack := []int{first}
	seen[first] = true
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, l := range r.links {
			if l.closed {
				continue
			}
			for _, e := range [][2]int{{l.a, l.b}, {l.b, l.a}} {
				if e[0] == i && !seen[e[1]] {
					seen[e[1]] = true
					stack = append(stack, e[1])
				}
			}
		}
	}
	for i, a := range r.alive {
		if a && !seen[i] {
			return false
		}
	}
	return true
}

// TestMemberRoom: in a room of 16 members that all find each other,
// each keeps at most Target+1 active peers (6), not 15, and about as
// many connections (at most 6.5 on average; at most two more, of a
// message or two, each closed memberLinger after its last message);
// the links join everyone. When a quarter leave, the rest stay joined
// and bounded. Twenty seeds.
func TestMemberRoom(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { testMemberRoom(t, seed*100) })
	}
}

func testMemberRoom(t *testing.T, seed uint64) {
	const n = 16
	r := newMemberRoom(t, n, seed)
	r.discoverAll()
	for range 240 { // 60 s
		r.step()
	}
	limit := r.ms[0].m.Target() + 1
	if limit != 6 {
		t.Fatalf("limit %d, want 6 for a room of 16", limit)
	}
	check := func(what string) {
		t.Helper()
		d := r.degree()
		sum, live := 0, 0
		for i, k := range d {
			if !r.alive[i] {
				continue
			}
			sum, live = sum+k, live+1
			if a := len(r.ms[i].m.Active()); a > limit || a == 0 {
				t.Errorf("%s: member %d has %d active peers, want 1 … %d", what, i, a, limit)
			}
			if k > limit+2 {
				t.Errorf("%s: member %d has %d connections, want at most %d and two on their way", what, i, k, limit)
			}
		}
		if mean := float64(sum) / float64(live); mean > float64(limit)+0.5 {
			t.Errorf("%s: %.1f connections per member, want at most %d and a half", what, mean, limit)
		}
		if !r.connectedComponent() {
			t.Errorf("%s: the links do not join every member: %v", what, d)
		}
		// A link neither side holds active is one of a message or two:
		// each side closes it memberLinger after its last message.
		for _, l := range r.links {
			if l.closed || l.cancelling {
				continue
			}
			for _, e := range []struct {
				m    *member
				c    *memberConn
				peer int
			}{{r.ms[l.a], l.ca, l.b}, {r.ms[l.b], l.cb, l.a}} {
				if slices.Contains(e.m.m.Active(), overlay.Peer(memberID(e.peer))) {
					continue
				}
				e.m.mu.Lock()
				idle := r.now.Sub(e.c.last)
				e.m.mu.Unlock()
				if idle > memberLinger+memberTick {
					t.Errorf("%s: a connection not active lives %v after its last message", what, idle)
				}
			}
		}
		var act []int
		for _, m := range r.ms {
			act = append(act, len(m.m.Active()))
		}
		t.Logf("%s: connections %v, active %v", what, d, act)
	}
	check("settled")

	for i := range n / 4 {
		r.alive[i] = false
		for _, l := range r.links {
			if l.a == i || l.b == i {
				r.close(l)
			}
		}
		for j, m := range r.ms {
			if j != i {
				m.lost(fmt.Sprint("c", i))
			}
		}
	}
	for range 80 { // 20 s
		r.step()
	}
	check("a quarter left")
}

// TestMemberMalformed: a frame that does not decode, or names a peer by
// something other than a log id, is an error (replicate closes the
// connection); nothing reaches the machine.
func TestMemberMalformed(t *testing.T) {
	m := newMember(memberID(0), roomSwarm{&memberRoom{added: []map[string]bool{{}}}, 0}, func(applog.ID) bool { return false }, nil, 1)
	c, _ := m.session(memberID(1), "", nil, "", func() {})
	m.up(c)
	bad, _ := overlay.AppendMsg(nil, overlay.Msg{Kind: overlay.ForwardJoin, Peer: "not a log id", TTL: 3}, nil)
	for name, b := range map[string][]byte{
		"kind 9":    {9},
		"not an id": bad,
		"truncated": {6, 1},
	} {
		if err := m.receive(c, b); err == nil {
			t.Errorf("%s: receive = nil, want an error", name)
		}
	}
	if p := m.m.Passive(); len(p) != 0 {
		t.Errorf("passive set %v, want empty", p)
	}
}

// recDialer records a member's dials and never connects.
type recDialer struct {
	mu      sync.Mutex
	added   map[string]bool
	removed []string
	max     int // most peers dialled at once
}

func (d *recDialer) AddPeer(p string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.added == nil {
		d.added = map[string]bool{}
	}
	d.added[p] = true
	d.max = max(d.max, len(d.added))
	return nil
}

func (d *recDialer) RemovePeer(p string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.added, p)
	d.removed = append(d.removed, p)
}

// loneMember is member 0 with a recording dialer and a fake clock.
func loneMember() (*member, *recDialer, *time.Time) {
	d := &recDialer{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := newMember(memberID(0), d, func(id applog.ID) bool { return id == memberID(99) }, nil, 1)
	m.clock = func() time.Time { return now }
	return m, d, &now
}

// TestMemberDialFails: a chat found whose dial brings no session (no
// scuttle there, or one below Version 5) is removed from the swarm
// within memberDialLimit and leaves the machine.
func TestMemberDialFails(t *testing.T) {
	m, d, now := loneMember()
	m.found("c1", memberID(1), "10.0.0.2:4000")
	for range 4 {
		m.tick()
		*now = now.Add(memberTick)
	}
	if !d.added["c1"] {
		t.Fatalf("c1 not dialled: %v", d.added)
	}
	for range int(memberDialLimit / memberTick) {
		m.tick()
		*now = now.Add(memberTick)
	}
	if d.added["c1"] || !slices.Contains(d.removed, "c1") {
		t.Errorf("c1 still dialled after %v: added %v, removed %v", memberDialLimit, d.added, d.removed)
	}
	if a, p := m.m.Active(), m.m.Passive(); len(a)+len(p) != 0 {
		t.Errorf("c1 still in the machine: active %v, passive %v", a, p)
	}
}

// TestMemberStranger: a stranger that connects and is not made active
// is closed memberLinger after its last message; one that shuffles
// made-up peers with addresses fills at most maxLearnedAddrs places of
// the book, and makes the member dial at most maxMemberDials peers at
// once; a named peer's session is never closed.
func TestMemberStranger(t *testing.T) {
	m, d, now := loneMember()
	var cancelled, namedCancelled bool
	c, _ := m.session(memberID(1), "", nil, "", func() { cancelled = true })
	m.up(c)
	nc, _ := m.session(memberID(99), "", nil, "", func() { namedCancelled = true })
	m.up(nc)
	for range int(memberLinger/memberTick) + 1 {
		*now = now.Add(memberTick)
		m.tick()
	}
	if !cancelled {
		t.Errorf("a silent stranger's session lives past %v", memberLinger)
	}
	if namedCancelled {
		t.Error("the named peer's session was closed")
	}

	// A stranger that is active (made so by a join, say) shuffles.
	s, _ := m.session(memberID(2), "", nil, "", func() {})
	m.up(s)
	join, _ := overlay.AppendMsg(nil, overlay.Msg{Kind: overlay.Join}, nil)
	if err := m.receive(s, join); err != nil {
		t.Fatal(err)
	}
	next := 1000
	for round := range 100 {
		var ps []overlay.Peer
		for range overlay.MaxWirePeers {
			ps = append(ps, overlay.Peer(memberID(next)))
			next++
		}
		b, err := overlay.AppendMsg(nil, overlay.Msg{Kind: overlay.Shuffle, Peer: ps[0], TTL: 0, Peers: ps[1:]}, func(p overlay.Peer) string {
			return fmt.Sprintf("10.1.%d.%d:4000", round, len(p)%200)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.receive(s, b); err != nil {
			t.Fatal(err)
		}
		*now = now.Add(memberTick)
		m.tick()
	}
	m.mu.Lock()
	book := len(m.book)
	m.mu.Unlock()
	if book > maxLearnedAddrs+2 {
		t.Errorf("the book holds %d addresses after 1,600 made-up peers, want at most %d", book, maxLearnedAddrs+2)
	}
	if d.max > maxMemberDials+m.m.Target()+1 {
		t.Errorf("%d peers dialled at once, want at most %d", d.max, maxMemberDials+m.m.Target()+1)
	}
	t.Logf("book %d, most dials at once %d", book, d.max)
}

// TestPeerAddr: the address learned from a connection is the IP it
// comes from and the port its hello says, none for a link-local IP;
// and DNS-SD's
// is its first address without a zone.
func TestPeerAddr(t *testing.T) {
	for _, tc := range []struct {
		remote net.Addr
		listen string
		want   string
	}{
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 51000}, "[::]:4242", "10.0.0.7:4242"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 51000, Zone: "lab0"}, "[::]:4242", ""},
		{&net.TCPAddr{IP: net.ParseIP("fd00::7"), Port: 51000}, "[::]:4242", "[fd00::7]:4242"},
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 51000}, "no port", ""},
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 51000}, "[::]:0", ""},
		{nil, "[::]:4242", ""},
	} {
		if got := peerAddr(tc.remote, tc.listen); got != tc.want {
			t.Errorf("peerAddr(%v, %q) = %q, want %q", tc.remote, tc.listen, got, tc.want)
		}
	}
	e := mdns.ServiceEntry{Addrs: []string{"fe80::1%lab0", "10.0.0.9", "fd00::9"}, Port: 4000}
	if got := entryAddr(e); got != "10.0.0.9:4000" {
		t.Errorf("entryAddr = %q, want 10.0.0.9:4000", got)
	}
}

// TestMemberParams: the chat's machine parameters are valid.
func TestMemberParams(t *testing.T) {
	if err := memberParams().Validate(); err != nil {
		t.Fatal(err)
	}
}
