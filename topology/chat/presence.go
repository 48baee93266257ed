package chat

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/topology"
)

// Presence: who is connected now, and who was seen this run and when,
// from the swarm's events; what /who, Who and the status's count of
// peers show. It is bounded: a peer making up keys cannot grow it.

// maxPresence bounds the peers remembered; past it the one seen the
// longest ago is forgotten.
const maxPresence = 1024

// presenceSet is what the chat remembers of its peers this run.
type presenceSet struct {
	mu    sync.Mutex
	peers map[applog.ID]*peerPresence
}

type peerPresence struct {
	name  string    // escaped: the peer's name as info lines give it
	conns int       // connections now (one, but for a moment when replaced)
	since time.Time // connected since, or last seen
}

func newPresenceSet() presenceSet {
	return presenceSet{peers: map[applog.ID]*peerPresence{}}
}

// note records a connection change of the swarm, of the peer with log id
// and escaped name, at now. It reports whether the number of peers
// connected changed.
func (ps *presenceSet) note(kind topology.EventKind, id applog.ID, name string, now time.Time) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.peers[id]
	switch kind {
	case topology.Connected:
		if !ok {
			if len(ps.peers) >= maxPresence && !ps.forgetOldest() {
				return false // every one remembered is connected
			}
			p = &peerPresence{}
			ps.peers[id] = p
		}
		p.name = name
		p.conns++
		if p.conns == 1 {
			p.since = now
			return true
		}
	case topology.Disconnected:
		if !ok || p.conns == 0 {
			return false
		}
		p.conns--
		if p.conns == 0 {
			p.since = now
			return true
		}
	}
	return false
}

// forgetOldest forgets the peer not connected seen the longest ago, and
// reports whether there was one; ps.mu is held.
func (ps *presenceSet) forgetOldest() bool {
	var oldest applog.ID
	var at time.Time
	for id, p := range ps.peers {
		if p.conns == 0 && (oldest == "" || p.since.Before(at)) {
			oldest, at = id, p.since
		}
	}
	if oldest == "" {
		return false
	}
	delete(ps.peers, oldest)
	return true
}

// connected returns how many peers are connected.
func (ps *presenceSet) connected() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	n := 0
	for _, p := range ps.peers {
		if p.conns > 0 {
			n++
		}
	}
	return n
}

// Who returns the peers connected now, by name, then those seen this run
// and no longer connected, the last seen first: at most 1024.
func (c *Chat) Who() []Presence {
	ps := &c.presence
	ps.mu.Lock()
	out := make([]Presence, 0, len(ps.peers))
	for id, p := range ps.peers {
		out = append(out, Presence{Name: p.name, Log: id, Connected: p.conns > 0, Since: p.since})
	}
	ps.mu.Unlock()
	slices.SortFunc(out, func(a, b Presence) int {
		switch {
		case a.Connected != b.Connected:
			if a.Connected {
				return -1
			}
			return 1
		case a.Connected:
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Log, b.Log))
		}
		return cmp.Or(b.Since.Compare(a.Since), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Log, b.Log))
	})
	return out
}

// Status returns the chat's status: the own name, where typed lines go,
// the network, and how many peers are connected.
func (c *Chat) Status() Status {
	st := Status{Me: Escape(c.cfg.Me), Private: c.cfg.NetworkKey != nil, Peers: c.presence.connected()}
	if room, ok := c.sealing.where(); ok {
		st.Room = roomName(room)
	}
	return st
}
