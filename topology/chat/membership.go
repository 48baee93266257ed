package chat

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/replicate"
	"scuttle/topology/overlay"
)

// Membership (chat --discover): the chats DNS-SD finds are not all
// dialled. An overlay.Machine, owned by one member under its mutex,
// keeps a bounded active set of them connected, and the rest as
// passive peers to repair it from; its messages ride the replication
// connections (replicate's membership frame, Version 5). The member
// carries out what the machine says: a peer entering the active set is
// dialled, one leaving is closed, a message for a peer with no
// connection opens one for it, closed a second after its last message
// (memberLinger) unless the peer became active. The peers the user named are the machine's named
// peers: always connected, by the swarm, as without --discover.

// Bounds of the membership.
const (
	memberTick      = 250 * time.Millisecond // how often the machine ticks
	maxLearnedAddrs = 256                    // addresses learned from peers, beside DNS-SD's
	maxMemberOut    = 32                     // messages queued on one connection
	maxMemberPend   = 8                      // messages waiting for one peer's connection
	maxMemberDials  = 16                     // peers dialled at once that are not active
	memberDialLimit = 5 * time.Second        // a dial that brought no session by then failed
	memberLinger    = time.Second            // a connection no longer needed lives this long after its last message
)

// memberParams returns the machine's parameters: the defaults, but a
// shuffle a minute rather than every 10 s. On a LAN, DNS-SD tells every
// chat of every other, so shuffles add little, and each one's reply
// opens a connection to its origin: a TLS handshake and the heads of
// every log both ways, about 5 a second in a room of 64 at 10 s.
func memberParams() overlay.Params { return overlay.Params{ShuffleInterval: time.Minute} }

// peerDialer is the part of topology.Swarm the member drives.
type peerDialer interface {
	AddPeer(p string) error
	RemovePeer(p string)
}

// member drives an overlay.Machine over a swarm. Its methods are safe
// for concurrent use: sessions, the discovery and the ticker call them.
type member struct {
	sw    peerDialer
	named func(applog.ID) bool // the peers the user named
	log   *slog.Logger
	clock func() time.Time

	mu     sync.Mutex
	m      *overlay.Machine
	me     overlay.Peer
	book   map[overlay.Peer]*address      // where each known peer is dialled
	byName map[string]overlay.Peer        // DNS-SD's instances, lower case
	conns  map[overlay.Peer][]*memberConn // the sessions at Version 5, by peer
	added  map[overlay.Peer]*memberDial   // the peers this side dialled
	pend   map[overlay.Peer][][]byte      // messages waiting for a session
	active map[overlay.Peer]bool          // the machine's active set, as last seen
	out    []overlay.Msg                  // scratch
	shown  map[overlay.Peer]string        // the peers shown connected, and the name they claimed

	// show, if set, tells the user that a peer became connected (up) or
	// no longer is: a peer of the active set with a session, not the
	// sessions of a message or two. It is called with mu held and must
	// not call the member.
	show func(id applog.ID, claimed string, up bool)
}

// address is an entry of the member's address book.
type address struct {
	spec  string // what the swarm dials: NAME (DNS-SD) or HOST:PORT
	addr  string // host:port sent to peers; "" if none known
	dnssd bool   // found by DNS-SD (the others were learned from peers)
}

// memberDial is a peer this side asked the swarm to dial.
type memberDial struct {
	spec string
	at   time.Time
}

// memberConn is one session's side of the membership.
type memberConn struct {
	peer   overlay.Peer
	name   string // the chat name the peer claims
	addr   string // host:port of the peer as this connection shows it; "" if unknown
	out    chan []byte
	cancel context.CancelFunc
	up     bool      // the session runs at Version 5; guarded by member.mu
	last   time.Time // the last message either way; guarded by member.mu
}

// newMember returns the member of the chat whose log is me, its machine
// drawing from seed.
func newMember(me applog.ID, sw peerDialer, named func(applog.ID) bool, log *slog.Logger, seed uint64) *member {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, _ := overlay.New(memberParams(), overlay.Peer(me), seed) // valid: TestMemberParams
	return &member{sw: sw, named: named, log: log, clock: time.Now, m: m, me: overlay.Peer(me),
		book: map[overlay.Peer]*address{}, byName: map[string]overlay.Peer{},
		conns: map[overlay.Peer][]*memberConn{}, added: map[overlay.Peer]*memberDial{},
		pend: map[overlay.Peer][][]byte{}, active: map[overlay.Peer]bool{}, shown: map[overlay.Peer]string{}}
}

// run ticks the machine every memberTick until ctx ends.
func (mb *member) run(ctx context.Context) {
	t := time.NewTicker(memberTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			mb.tick()
		}
	}
}

// found adds a chat DNS-SD found, its instance name, its log id and an
// address of it (host:port, or ""), to the passive set.
func (mb *member) found(name string, id applog.ID, addr string) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	p := overlay.Peer(id)
	if p == mb.me {
		return
	}
	key := strings.ToLower(name)
	if old, ok := mb.byName[key]; ok && old != p {
		mb.forget(old)
	}
	mb.byName[key] = p
	mb.book[p] = &address{spec: name, addr: addr, dnssd: true}
	mb.m.SetRoomSize(len(mb.byName) + 1)
	mb.m.Discovered(p, 0)
	mb.apply(nil)
}

// lost forgets a chat DNS-SD reported gone, or whose dial failed or
// proved another key: it leaves the machine and its connection closes.
func (mb *member) lost(name string) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	key := strings.ToLower(name)
	p, ok := mb.byName[key]
	if !ok {
		return
	}
	delete(mb.byName, key)
	mb.m.SetRoomSize(len(mb.byName) + 1)
	mb.forget(p)
	mb.apply(nil)
}

// forget takes p out of the machine, the book and the dials, and
// closes its sessions unless the user named it; mb.mu is held.
func (mb *member) forget(p overlay.Peer) {
	if mb.named(applog.ID(p)) {
		return
	}
	mb.m.Down(p)
	delete(mb.book, p)
	delete(mb.pend, p)
	if d := mb.added[p]; d != nil {
		mb.sw.RemovePeer(d.spec)
		delete(mb.added, p)
	}
	for _, c := range mb.conns[p] {
		c.cancel()
	}
}

// session returns the membership of a new session with the peer id,
// which claims the chat name name, whose remote address is remote (nil
// if unknown) and which says it listens on listen (its hello's
// address); cancel ends the session.
func (mb *member) session(id applog.ID, name string, remote net.Addr, listen string, cancel context.CancelFunc) (*memberConn, *replicate.Membership) {
	c := &memberConn{peer: overlay.Peer(id), name: name, out: make(chan []byte, maxMemberOut), cancel: cancel}
	c.addr = peerAddr(remote, listen)
	return c, &replicate.Membership{
		Up:  func() { mb.up(c) },
		Out: c.out,
		In:  func(p []byte) error { return mb.receive(c, p) },
	}
}

// peerAddr is the host:port a peer may be dialled at: the IP its
// connection comes from and the port it says it listens on; "" for a
// link-local IP.
func peerAddr(remote net.Addr, listen string) string {
	ta, ok := remote.(*net.TCPAddr)
	if !ok {
		return ""
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok || ip.Unmap().IsLinkLocalUnicast() {
		return "" // a link-local address means nothing without its zone
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return ""
	}
	return net.JoinHostPort(ip.Unmap().WithZone("").String(), port)
}

// up registers c, whose session now runs at Version 5, and sends it
// what waited for its peer.
func (mb *member) up(c *memberConn) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	c.up, c.last = true, mb.clock()
	p := c.peer
	mb.conns[p] = append(mb.conns[p], c)
	if mb.named(applog.ID(p)) {
		mb.m.Name(p)
	}
	if _, ok := mb.book[p]; !ok && c.addr != "" {
		mb.learn(p, c.addr)
	}
	for _, b := range mb.pend[p] {
		mb.enqueue(c, b)
	}
	delete(mb.pend, p)
	mb.apply(nil)
}

// ended unregisters c, whose session ended: a peer left active without
// a session is down, and a peer DNS-SD found goes back to the passive
// set.
func (mb *member) ended(c *memberConn) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if !c.up {
		return
	}
	p := c.peer
	mb.conns[p] = slices.DeleteFunc(mb.conns[p], func(o *memberConn) bool { return o == c })
	if len(mb.conns[p]) > 0 {
		return
	}
	delete(mb.conns, p)
	if mb.active[p] && !mb.named(applog.ID(p)) {
		mb.m.Down(p)
		if a := mb.book[p]; a != nil && a.dnssd {
			mb.m.Discovered(p, 0)
		}
	}
	mb.apply(nil)
}

// receive takes one membership frame of c's session: a malformed one
// is an error, which closes the connection.
func (mb *member) receive(c *memberConn, b []byte) error {
	msg, es, err := overlay.DecodeMsg(b)
	if err != nil {
		return err
	}
	for _, e := range es {
		if _, err := applog.ParseID(string(e.Peer)); err != nil {
			return err
		}
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	c.last = mb.clock()
	for _, e := range es {
		if e.Addr != "" {
			mb.learn(e.Peer, e.Addr)
		}
	}
	mb.log.Debug("membership: got", "peer", c.peer, "kind", msg.Kind, "high", msg.High, "accept", msg.Accept, "about", msg.Peer)
	mb.out = mb.m.Receive(mb.out[:0], c.last, c.peer, msg)
	mb.apply(mb.out)
	return nil
}

// learn records addr as where p is dialled, unless the book knows p
// already or holds maxLearnedAddrs learned addresses; an address that is no
// IP:port is ignored (no name is looked up for a peer's word). mb.mu is
// held.
func (mb *member) learn(p overlay.Peer, addr string) {
	if p == mb.me || mb.book[p] != nil {
		return
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || ap.Port() == 0 || !ap.Addr().IsValid() || ap.Addr().Zone() != "" {
		return
	}
	n := 0
	for _, a := range mb.book {
		if !a.dnssd {
			n++
		}
	}
	if n >= maxLearnedAddrs {
		// Make room: a learned address of a peer the machine no longer
		// knows.
		known := map[overlay.Peer]bool{}
		for _, q := range mb.m.Active() {
			known[q] = true
		}
		for _, q := range mb.m.Passive() {
			known[q] = true
		}
		for q, a := range mb.book {
			if !a.dnssd && !known[q] && mb.added[q] == nil {
				delete(mb.book, q)
				n--
				break
			}
		}
		if n >= maxLearnedAddrs {
			return
		}
	}
	s := ap.String()
	mb.book[p] = &address{spec: s, addr: s}
}

// tick ticks the machine and closes what is no longer needed.
func (mb *member) tick() {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	mb.out = mb.m.Tick(mb.out[:0], mb.clock())
	mb.apply(mb.out)
}

// apply sends out, then brings the connections in line with the
// machine: a peer entering the active set is dialled, and the sessions
// and dials no longer needed are ended. mb.mu is held.
func (mb *member) apply(out []overlay.Msg) {
	now := mb.clock()
	for _, msg := range out {
		b, err := overlay.AppendMsg(nil, msg, mb.addrOf)
		if err != nil {
			mb.log.Debug("membership: not sent", "peer", msg.To, "err", err)
			continue
		}
		mb.log.Debug("membership: send", "peer", msg.To, "kind", msg.Kind, "high", msg.High, "accept", msg.Accept, "about", msg.Peer)
		mb.send(msg.To, b)
	}
	active := map[overlay.Peer]bool{}
	for _, p := range mb.m.Active() {
		active[p] = true
		if !mb.active[p] && !mb.named(applog.ID(p)) {
			mb.dial(p)
		}
	}
	mb.active = active
	for p, cs := range mb.conns {
		if active[p] || mb.named(applog.ID(p)) {
			continue
		}
		for _, c := range cs {
			if now.Sub(c.last) < memberLinger {
				continue
			}
			c.cancel()
			if d := mb.added[p]; d != nil {
				// Not redialled: RemovePeer closes the dialled one too.
				mb.sw.RemovePeer(d.spec)
				delete(mb.added, p)
			}
		}
	}
	for p := range active {
		if _, ok := mb.shown[p]; ok || mb.named(applog.ID(p)) {
			continue
		}
		if cs := mb.conns[p]; len(cs) > 0 {
			name := cs[len(cs)-1].name
			mb.shown[p] = name
			if mb.show != nil {
				mb.show(applog.ID(p), name, true)
			}
		}
	}
	for p, name := range mb.shown {
		if !active[p] || len(mb.conns[p]) == 0 {
			delete(mb.shown, p)
			if mb.show != nil {
				mb.show(applog.ID(p), name, false)
			}
		}
	}
	for p, d := range mb.added {
		switch {
		case active[p] && len(mb.conns[p]) > 0:
		case len(mb.conns[p]) == 0 && now.Sub(d.at) >= memberDialLimit:
			// No session came: no scuttle there, or one below Version 5.
			mb.sw.RemovePeer(d.spec)
			delete(mb.added, p)
			delete(mb.pend, p)
			mb.m.Down(p)
		case !active[p] && len(mb.conns[p]) == 0 && len(mb.pend[p]) == 0 && now.Sub(d.at) >= memberLinger:
			mb.sw.RemovePeer(d.spec)
			delete(mb.added, p)
		}
	}
}

// send queues the message b for p: on its session, or until one comes.
// mb.mu is held.
func (mb *member) send(p overlay.Peer, b []byte) {
	if cs := mb.conns[p]; len(cs) > 0 {
		mb.enqueue(cs[len(cs)-1], b)
		return
	}
	if len(mb.pend[p]) >= maxMemberPend {
		return
	}
	if !mb.dial(p) {
		return
	}
	mb.pend[p] = append(mb.pend[p], b)
}

// enqueue puts b on c's queue; a full queue drops it (the machine
// times out what was not answered). mb.mu is held.
func (mb *member) enqueue(c *memberConn, b []byte) {
	c.last = mb.clock()
	select {
	case c.out <- b:
	default:
		mb.log.Debug("membership: queue full, message dropped", "peer", c.peer)
	}
}

// dial asks the swarm to dial p, if it has no session and is not
// dialled yet, and reports whether p is connected or dialled. A peer
// with no address, or past maxMemberDials dials of peers not active,
// is down. mb.mu is held.
func (mb *member) dial(p overlay.Peer) bool {
	if len(mb.conns[p]) > 0 || mb.added[p] != nil {
		return true
	}
	a := mb.book[p]
	n := 0
	for q := range mb.added {
		if !mb.active[q] {
			n++
		}
	}
	if a == nil || n >= maxMemberDials && !mb.active[p] {
		mb.m.Down(p)
		return false
	}
	if err := mb.sw.AddPeer(a.spec); err != nil {
		mb.log.Debug("membership: not dialled", "peer", p, "spec", a.spec, "err", err)
		mb.m.Down(p)
		return false
	}
	mb.added[p] = &memberDial{spec: a.spec, at: mb.clock()}
	return true
}

// addrOf is the address sent with p: the book's, or none.
func (mb *member) addrOf(p overlay.Peer) string {
	if a := mb.book[p]; a != nil {
		return a.addr
	}
	return ""
}
