package replicate

import (
	"sync"

	"scuttle/applog"
)

// This file keeps, per session, what the peer holds of each log as far as
// the session knows (the peer's view), and shares among the sessions of
// one store what they would otherwise each copy: the store's heads.
//
// Without a Tree, a session keeps the peer's head of every log it tracks
// (c.has), about 100 bytes a log. With one, the sessions of the store
// share the store's heads as last read (base), and each session keeps
// only its exceptions: the logs where the peer is known to hold other
// than base says. A peer that holds what the store holds, as peers that
// are caught up do, costs its session nothing per log.

// base is the store's heads as last read, read once per change of the
// store for all its sessions and shared by them (one per Tree), and each
// session's exceptions to it.
//
// The invariant: for every registered session c and every log id, the
// peer holds at least c.has[id] if id is in c.has, else at least
// heads[id]. When the store's head of a log grows from old to new, each
// session that had no exception for it gets one (old): so the peer's
// view never rises but by what the peer was sent or sent.
type base struct {
	mu       sync.Mutex
	heads    map[applog.ID]uint64
	changed  <-chan struct{}       // the store's Changed as of the last read of heads
	sessions map[*session]struct{} // registered: their has holds exceptions
}

func newBase() *base {
	return &base{heads: make(map[applog.ID]uint64), sessions: make(map[*session]struct{})}
}

// register turns c.has from the peer's heads (default 0: the peer's heads
// as advertised, in full) into exceptions to b.heads, and registers c.
// Every log b holds that c.has lacks is one the peer does not hold: an
// exception of 0.
func (b *base) register(c *session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refreshLocked(c.st) // the heads the peer's are compared with
	exc := make(map[applog.ID]uint64)
	ahead := 0
	for id, v := range c.has {
		switch h := b.heads[id]; {
		case v == h:
		case v < h || id == c.watch:
			exc[id] = v
		case ahead < maxAhead:
			// Advertised further than the store holds: the peer is
			// believed, within a window.
			ahead++
			exc[id] = v
		}
	}
	for id := range b.heads {
		if _, ok := c.has[id]; !ok {
			exc[id] = 0
		}
	}
	c.has, c.hasPeak = exc, len(exc)
	c.registered = true
	b.sessions[c] = struct{}{}
}

// leave forgets c.
func (b *base) leave(c *session) {
	b.mu.Lock()
	delete(b.sessions, c)
	b.mu.Unlock()
}

// refresh reads the store's heads into b if the store changed since b
// last read them, or if b never did: once per change for all the
// sessions of the store, instead of a copy of the heads per session.
func (b *base) refresh(st Store) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refreshLocked(st)
}

func (b *base) refreshLocked(st Store) {
	if b.changed != nil {
		select {
		case <-b.changed:
		default:
			return
		}
	}
	b.readLocked(st)
}

// read reads the store's heads into b, changed or not (a block need not
// change the store: the Tree reads them every second), and returns them.
func (b *base) read(st Store) map[applog.ID]uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readLocked(st)
}

func (b *base) readLocked(st Store) map[applog.ID]uint64 {
	b.changed = st.Changed() // before Heads: a change after it closes it
	heads := st.Heads()
	b.syncLocked(heads)
	return heads
}

// syncLocked sets b.heads to heads, the store's as just read, giving each
// registered session without an exception for a log that grew one (the
// head before), and dropping the exceptions that now equal base. A log
// lower than before, or no longer offered (blocked), is lowered: the
// peer holds at least the lower head too (if the log comes back, it may
// be sent some of it again, which it skips). Called with b.mu held, in
// the order the heads were read.
func (b *base) syncLocked(heads map[applog.ID]uint64) {
	for id, h := range heads {
		old := b.heads[id]
		if h == old {
			continue
		}
		for c := range b.sessions {
			v, ok := c.has[id]
			switch {
			case !ok && h > old:
				c.has[id] = old
				c.grew()
			case ok && v == h:
				delete(c.has, id)
			}
		}
		b.heads[id] = h
	}
	if len(b.heads) > len(heads) {
		for id := range b.heads {
			if _, ok := heads[id]; ok {
				continue
			}
			delete(b.heads, id)
			for c := range b.sessions {
				if v, ok := c.has[id]; ok && v == 0 {
					delete(c.has, id)
				}
			}
		}
	}
}

// lockHas locks what guards c.has: the base's mutex if c has a base (its
// exceptions change when the base does), else c.mu.
func (c *session) lockHas() {
	if c.base != nil {
		c.base.mu.Lock()
	} else {
		c.mu.Lock()
	}
}

// unlockHas unlocks what lockHas locked.
func (c *session) unlockHas() {
	if c.base != nil {
		c.base.mu.Unlock()
	} else {
		c.mu.Unlock()
	}
}

// hasLocked returns the highest seq of log id the peer is known to hold,
// and whether this side tracks the peer's view of it. Called with
// lockHas.
func (c *session) hasLocked(id applog.ID) (uint64, bool) {
	if v, ok := c.has[id]; ok {
		return v, true
	}
	if c.registered {
		h, ok := c.base.heads[id]
		return h, ok
	}
	return 0, false
}

// setLocked records that the peer holds log id up to seq: an exception
// if it differs from base. Called with lockHas.
func (c *session) setLocked(id applog.ID, seq uint64) {
	if c.registered && c.base.heads[id] == seq {
		delete(c.has, id)
		return
	}
	c.has[id] = seq
	c.grew()
}

// grew records the size of c.has after an exception was added.
func (c *session) grew() {
	c.hasPeak = max(c.hasPeak, len(c.has))
}

// shrink gives back the room of exceptions gone: a map keeps its
// buckets when entries are deleted, so once the exceptions are a
// quarter of what they were (a peer caught up), they are copied into a
// map of their size. Called with lockHas, registered.
func (c *session) shrink() {
	if c.hasPeak <= maxAhead || len(c.has) >= c.hasPeak/4 {
		return
	}
	m := make(map[applog.ID]uint64, len(c.has))
	for id, v := range c.has {
		m[id] = v
	}
	c.has, c.hasPeak = m, len(m)
}

// maxAhead bounds the logs a session believes its peer's word of, where
// the peer says it holds more than the store does: heads and notes
// past the store's. Past it, the session takes the store's head as the
// peer's, which is lower: at worst the peer is sent records it holds,
// and skips them. A peer that advertises every log ahead costs its
// session no more than one that advertises 1024.
const maxAhead = 1024

// adviseLocked is setLocked for what the peer says it holds (a note),
// within maxAhead once registered. Called with lockHas.
func (c *session) adviseLocked(id applog.ID, seq uint64) {
	if c.registered && seq > c.base.heads[id] && id != c.watch && len(c.has) >= maxAhead {
		delete(c.has, id) // base: lower than seq, which the peer holds
		return
	}
	c.setLocked(id, seq)
}

// peerHas returns the highest seq of log id the peer is known to hold.
func (c *session) peerHas(id applog.ID) uint64 {
	c.lockHas()
	defer c.unlockHas()
	v, _ := c.hasLocked(id)
	return v
}

// raise records that the peer holds log id up to seq at least.
func (c *session) raise(id applog.ID, seq uint64) {
	c.lockHas()
	if v, _ := c.hasLocked(id); seq > v {
		c.setLocked(id, seq)
	}
	c.unlockHas()
}

// raiseKnown is raise for a log whose peer's view this side tracks
// already; it starts no new one.
func (c *session) raiseKnown(id applog.ID, seq uint64) {
	c.lockHas()
	if v, ok := c.hasLocked(id); ok && seq > v {
		c.setLocked(id, seq)
	}
	c.unlockHas()
}

// advertise records the head the peer advertised of log id, even if
// lower than before.
func (c *session) advertise(id applog.ID, head uint64) {
	c.lockHas()
	c.setLocked(id, head)
	c.unlockHas()
}

// lacking returns the logs the peer is not known to hold up to their
// head, with their head: of heads, or with a registered base of base's
// heads, where only the exceptions can be (the caller refreshed base).
func (c *session) lacking(heads map[applog.ID]uint64) []head {
	c.lockHas()
	defer c.unlockHas()
	var hs []head
	if c.registered {
		c.shrink()
		for id, v := range c.has {
			if h := c.base.heads[id]; h > v {
				hs = append(hs, head{id, h})
			}
		}
		return hs
	}
	for id, h := range heads {
		if h > c.has[id] {
			hs = append(hs, head{id, h})
		}
	}
	return hs
}
