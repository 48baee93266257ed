package replicate

import (
	"math/bits"
	"sync"

	"scuttle/applog"
)

// This file keeps, per session, what the peer holds of each log as far as
// the session knows (the peer's view), and shares among the sessions of
// one store what they would otherwise each copy: the store's heads.
//
// Without a Tree, a session keeps the peer's head of every log it tracks
// (c.has), about 100 bytes a log. With one, the sessions of the store
// share the store's heads as last read (base), which numbers the logs it
// holds, and each session keeps only its exceptions: a bit per log the
// peer lacks entirely (c.lacks), and the exact head of the logs the peer
// holds other than base says (c.has): at most maxExceptions of the
// peer's word, and what was sent either way. A
// peer that holds what the store holds, as peers that are caught up do,
// costs its session nothing per log; one that holds nothing, a bit per
// log.

// base is the store's heads as last read, read once per change of the
// store for all its sessions and shared by them (one per Tree), with a
// dense index of each log it holds (the bit of the log in each session's
// sets), and each session's exceptions to it.
//
// The invariant: for every registered session c and every log id, the
// peer holds at least c.has[id] if id is in c.has; else, if b holds id,
// nothing if c.lacks has its index, at least its head in b if not (a log
// b holds is in c.has or in c.lacks, never both); a log b does not hold
// and c.has does not name is one c does not track. When
// the store's head of a log grows from old to new, each session that had
// no exception for it gets one (old, or a lack if old is 0 or the
// session holds maxExceptions already): so the peer's view never rises
// but by what the peer was sent or sent.
type base struct {
	mu       sync.Mutex
	logs     map[applog.ID]baseLog
	ids      []applog.ID           // index → log; "" for a free index
	free     []int                 // free indexes, reused before ids grows
	changed  <-chan struct{}       // the store's Changed as of the last read of logs
	sessions map[*session]struct{} // registered: their has holds exceptions
}

// baseLog is a log base holds: its head, and its index.
type baseLog struct {
	head uint64
	i    int
}

func newBase() *base {
	return &base{logs: make(map[applog.ID]baseLog), sessions: make(map[*session]struct{})}
}

// register registers c, whose peer has said nothing yet of what it
// holds: it lacks every log, until its heads or notes say otherwise
// (advertise, setLocked), each applied as it comes. A session is
// registered once the peer's hello is read: it never holds a copy of
// the peer's heads, only its exceptions to b.
func (b *base) register(c *session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refreshLocked(c.st)
	clear(c.has)
	c.lacks = c.lacks[:0]
	for i, id := range b.ids {
		if id != "" {
			c.lacks.set(i)
		}
	}
	c.registered = true
	b.sessions[c] = struct{}{}
}

// leave forgets c.
func (b *base) leave(c *session) {
	b.mu.Lock()
	delete(b.sessions, c)
	b.mu.Unlock()
}

// holds reports whether b holds log id.
func (b *base) holds(id applog.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.logs[id]
	return ok
}

// len returns how many logs b holds.
func (b *base) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.logs)
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

// syncLocked sets b's heads to heads, the store's as just read, giving
// each registered session without an exception for a log that grew one
// (the head before; for a new log, a lack), and dropping the exceptions
// that now equal base. A log lower than before, or no longer offered
// (blocked), is lowered: the peer holds at least the lower head too (if
// the log comes back, it may be sent some of it again, which it skips).
// A log no longer offered gives its index back, its bits cleared. Called
// with b.mu held, in the order the heads were read.
func (b *base) syncLocked(heads map[applog.ID]uint64) {
	for id, h := range heads {
		l, held := b.logs[id]
		if held && h == l.head {
			continue
		}
		if !held {
			l.i = b.index(id)
		}
		for c := range b.sessions {
			v, ok := c.has[id]
			switch {
			case ok && v == h:
				delete(c.has, id)
			case ok:
			case !held:
				c.lacks.set(l.i) // not tracked: the peer holds at least nothing
			case c.lacks.has(l.i):
			case h > l.head:
				c.exceptLocked(id, l.i, l.head)
			}
			if !held && c.eagerOther[id] {
				delete(c.eagerOther, id)
				c.eager.set(l.i)
			}
		}
		b.logs[id] = baseLog{head: h, i: l.i}
	}
	if len(b.logs) > len(heads) {
		for id, l := range b.logs {
			if _, ok := heads[id]; ok {
				continue
			}
			delete(b.logs, id)
			b.ids[l.i] = ""
			b.free = append(b.free, l.i)
			for c := range b.sessions {
				c.lacks.clear(l.i)
				c.eager.clear(l.i)
			}
		}
	}
}

// index returns a free index for log id, now held.
func (b *base) index(id applog.ID) int {
	if n := len(b.free); n > 0 {
		i := b.free[n-1]
		b.free = b.free[:n-1]
		b.ids[i] = id
		return i
	}
	b.ids = append(b.ids, id)
	return len(b.ids) - 1
}

// lockHas locks what guards the peer's view (c.has, c.lacks) and
// c.eager: the base's mutex if c has a base (its exceptions change when
// the base does), else c.mu.
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
	if !c.registered {
		return 0, false
	}
	l, ok := c.base.logs[id]
	switch {
	case !ok:
		return 0, false
	case c.lacks.has(l.i):
		return 0, true
	}
	return l.head, true
}

// setLocked records that the peer holds log id up to seq: an exception
// if it differs from base, a lack if seq is 0. Past maxExceptions, a
// new exception of the peer's word (exact false: its heads and notes)
// is not kept: the view falls to a lack if the peer is behind the
// store, to base's head if it is ahead (lower than its word), and a log
// the store does not hold is not tracked; so the peer may be sent
// records it holds, and skips them. An exact one (what was
// sent either way) is always kept. Called with lockHas.
func (c *session) setLocked(id applog.ID, seq uint64, exact bool) {
	if !c.registered {
		c.has[id] = seq
		c.grew()
		return
	}
	l, held := c.base.logs[id]
	if held {
		c.lacks.clear(l.i)
		switch seq {
		case l.head:
			delete(c.has, id)
			return
		case 0:
			delete(c.has, id)
			c.lacks.set(l.i)
			return
		}
	}
	if _, ok := c.has[id]; !ok && !exact && !c.roomLocked(id) {
		if held && seq < l.head {
			c.lacks.set(l.i)
		}
		return
	}
	c.has[id] = seq
	c.grew()
}

// exceptLocked records that the peer holds log id (index i, held) up to
// seq, below base's head, where it had no exception: a lack past
// maxExceptions, as setLocked does. Called with lockHas, registered.
func (c *session) exceptLocked(id applog.ID, i int, seq uint64) {
	if seq == 0 || !c.roomLocked(id) {
		c.lacks.set(i)
		return
	}
	c.has[id] = seq
	c.grew()
}

// roomLocked reports whether c may add an exception for log id: below
// maxExceptions, or for the watched log or the open one, or, at Version
// 4, for a log the peer is eager for once an exception of a log it is
// not eager for (which is not sent) fell to a lack or to base's head.
// Called with lockHas, registered.
func (c *session) roomLocked(id applog.ID) bool {
	if len(c.has) < maxExceptions || id == c.watch || id == c.open {
		return true
	}
	if !c.isEagerLocked(id) {
		return false
	}
	for v, seq := range c.has {
		l, ok := c.base.logs[v]
		if !ok || v == c.watch || v == c.open || c.isEagerLocked(v) {
			continue
		}
		delete(c.has, v)
		if seq < l.head {
			c.lacks.set(l.i)
		}
		return true
	}
	return false
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
	if c.hasPeak <= maxExceptions || len(c.has) >= c.hasPeak/4 {
		return
	}
	m := make(map[applog.ID]uint64, len(c.has))
	for id, v := range c.has {
		m[id] = v
	}
	c.has, c.hasPeak = m, len(m)
}

// maxExceptions bounds the exact heads a session with a base keeps of
// its peer's word: logs it says it holds further than the store (heads
// and notes past the store's), or less far but not nothing, and the
// heads before a growth of the store. Past it, the session takes a lack
// for the peer's view of a log it is behind on, the store's head for
// one it is ahead on: lower, so that at worst the peer is sent records
// it holds, and skips them. What a session sent or was sent is always
// kept exactly: a log with no exception is sent to its head in one
// turn while the session holds maxExceptions (send.go), and a run
// received is an exception only until the store holds it. A peer that
// is behind or ahead on every log costs its session no more than one
// that is on 1024.
const maxExceptions = 1024

// peerHas returns the highest seq of log id the peer is known to hold.
func (c *session) peerHas(id applog.ID) uint64 {
	c.lockHas()
	defer c.unlockHas()
	v, _ := c.hasLocked(id)
	return v
}

// raise records that the peer holds log id up to seq at least: it was
// sent or sent these records, an exact exception.
func (c *session) raise(id applog.ID, seq uint64) {
	c.lockHas()
	if v, _ := c.hasLocked(id); seq > v {
		c.setLocked(id, seq, true)
	}
	c.unlockHas()
}

// sent is raise for the records of log id sent up to seq, and records
// open, the log of which the peer now holds an unsigned run ("" for
// none).
func (c *session) sent(id applog.ID, seq uint64, open applog.ID) {
	c.lockHas()
	c.open = open
	if v, _ := c.hasLocked(id); seq > v {
		c.setLocked(id, seq, true)
	}
	c.unlockHas()
}

// raiseKnown is raise for a log whose peer's view this side tracks
// already; it starts no new one.
func (c *session) raiseKnown(id applog.ID, seq uint64) {
	c.lockHas()
	if v, ok := c.hasLocked(id); ok && seq > v {
		c.setLocked(id, seq, true)
	}
	c.unlockHas()
}

// advertise records the head the peer advertised of log id, even if
// lower than before.
func (c *session) advertise(id applog.ID, head uint64) {
	c.lockHas()
	c.setLocked(id, head, false)
	c.unlockHas()
}

// lacking returns the logs the peer is not known to hold up to their
// head, with their head: of heads, or with a registered base of base's
// heads, those of c.has alone (the caller refreshed base); the logs c
// lacks entirely come from nextLack, one at a time.
func (c *session) lacking(heads map[applog.ID]uint64) []head {
	c.lockHas()
	defer c.unlockHas()
	var hs []head
	if c.registered {
		c.shrink()
		for id, v := range c.has {
			if l := c.base.logs[id]; l.head > v {
				hs = append(hs, head{id, l.head})
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

// nextLack returns the first log from index i on that the peer lacks
// entirely, with its head, and the index after it; ok is false if there
// is none. At Version 4 only the logs eager too count (pass sends no
// other): a peer that lacks every log but asked for few is not walked
// log by log, under base's lock, at each pass.
func (c *session) nextLack(i int) (h head, next int, ok bool) {
	c.lockHas()
	defer c.unlockHas()
	if !c.registered {
		return head{}, 0, false
	}
	for {
		var j int
		if c.version >= 4 {
			j, ok = c.lacks.nextAnd(c.eager, i)
		} else {
			j, ok = c.lacks.next(i)
		}
		if !ok {
			return head{}, 0, false
		}
		id := c.base.ids[j]
		if l := c.base.logs[id]; l.head > 0 {
			return head{id, l.head}, j + 1, true
		}
		i = j + 1
	}
}

// setEagerLocked marks log id eager: its records are sent to the peer.
// Called with lockHas.
func (c *session) setEagerLocked(id applog.ID) {
	if l, ok := c.base.logs[id]; ok {
		c.eager.set(l.i)
		return
	}
	// Stored and not read into base yet: moved to the bit when it is
	// (syncLocked), or dropped if the tree forgets it.
	if c.eagerOther == nil {
		c.eagerOther = make(map[applog.ID]bool)
	}
	c.eagerOther[id] = true
}

// clearEagerLocked marks log id not eager. Called with lockHas.
func (c *session) clearEagerLocked(id applog.ID) {
	if l, ok := c.base.logs[id]; ok {
		c.eager.clear(l.i)
	}
	delete(c.eagerOther, id)
}

// isEagerLocked reports whether log id is eager. Called with lockHas.
func (c *session) isEagerLocked(id applog.ID) bool {
	if c.base == nil {
		return false
	}
	if l, ok := c.base.logs[id]; ok {
		return c.eager.has(l.i)
	}
	return c.eagerOther[id]
}

// bitset is a set of small integers (the base's indexes of logs): a bit
// each, up to the highest set.
type bitset []uint64

func (s bitset) has(i int) bool {
	w := i >> 6
	return w < len(s) && s[w]&(1<<(i&63)) != 0
}

func (s *bitset) set(i int) {
	w := i >> 6
	if w >= len(*s) {
		*s = append(*s, make([]uint64, w+1-len(*s))...)
	}
	(*s)[w] |= 1 << (i & 63)
}

func (s bitset) clear(i int) {
	if w := i >> 6; w < len(s) {
		s[w] &^= 1 << (i & 63)
	}
}

// next returns the least member of s from i on, and whether there is
// one.
func (s bitset) next(i int) (int, bool) {
	w := i >> 6
	if w >= len(s) {
		return 0, false
	}
	if m := s[w] >> (i & 63); m != 0 {
		return i + bits.TrailingZeros64(m), true
	}
	for w++; w < len(s); w++ {
		if s[w] != 0 {
			return w<<6 + bits.TrailingZeros64(s[w]), true
		}
	}
	return 0, false
}

// nextAnd returns the least member of both s and t from i on, and
// whether there is one.
func (s bitset) nextAnd(t bitset, i int) (int, bool) {
	n := min(len(s), len(t))
	w := i >> 6
	if w >= n {
		return 0, false
	}
	if m := (s[w] & t[w]) >> (i & 63); m != 0 {
		return i + bits.TrailingZeros64(m), true
	}
	for w++; w < n; w++ {
		if m := s[w] & t[w]; m != 0 {
			return w<<6 + bits.TrailingZeros64(m), true
		}
	}
	return 0, false
}

// count returns how many members s has.
func (s bitset) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// sendFrom returns the seq after what the peer holds of log id, and
// whether the sender must send it whole (to its head): a log whose
// peer's view is base's while c keeps maxExceptions exceptions could
// not keep the view of a part sent (a lack would have it sent again).
func (c *session) sendFrom(id applog.ID) (from uint64, whole bool) {
	c.lockHas()
	defer c.unlockHas()
	v, _ := c.hasLocked(id)
	if c.registered {
		_, ok := c.has[id]
		whole = !ok && id != c.watch && len(c.has) >= maxExceptions
	}
	return v + 1, whole
}
