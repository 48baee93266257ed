package replicate

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/replicate/ebt"
)

// A Tree shares one epidemic broadcast tree (package ebt) among the
// sessions of one store, such as a chat's: on the connections that speak
// Version 4, each log is pushed to this side by one peer (or a few,
// while the tree forms) and only noted by the others, so that each
// record crosses the network about once (see the package documentation,
// Broadcast trees). Create one per store with NewTree and give it to
// every session's Options; a Tree holds no goroutine while no session
// uses it. The sessions of one Tree must serve the same Store.
type Tree struct {
	p ebt.Params

	mu       sync.Mutex
	m        *ebt.Machine
	st       Store
	sessions map[ebt.Peer]*session
	next     uint64
	// held is what the machine holds of each log: the logs it was told
	// of by Append or Received and not forgotten since. At most one
	// entry per log the store holds.
	held map[applog.ID]uint64
	out  []ebt.Msg
	// base is the store's heads shared by the sessions, each of which
	// keeps only what its peer holds other than base (view.go).
	base *base

	stop chan struct{} // closed to stop the running loop
	done chan struct{} // closed when it stopped
}

// NewTree returns a Tree with parameters p (the zero value: the
// defaults), or p's error.
func NewTree(p ebt.Params) (*Tree, error) {
	m, err := ebt.New(p)
	if err != nil {
		return nil, err
	}
	if p.NoteInterval == 0 {
		p.NoteInterval = ebt.DefaultNoteInterval
	}
	return &Tree{p: p, m: m, sessions: make(map[ebt.Peer]*session), held: make(map[applog.ID]uint64), base: newBase()}, nil
}

// join adds session c, whose peer said Version 4, and queues its first
// notes (the heads). It starts the tree's loop if c is the first.
func (t *Tree) join(c *session) {
	heads := t.base.read(c.st)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.st == nil {
		if a, ok := c.st.(interface{ ID() applog.ID }); ok {
			// The store's own log (applog.DB's): its tree is rooted
			// here.
			t.m.Own(ebt.Log(a.ID()))
		}
	}
	t.st = c.st
	t.next++
	// Keys sort as the sessions joined: where neighbours hold as much of
	// a log (and no distance is measured), the machine grafts and
	// prefers the first in order, the oldest connection, not one made
	// for a message or two and closed a second later.
	c.key = ebt.Peer(fmt.Sprintf("%020d", t.next))
	t.sessions[c.key] = c
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log.Debug("tree: join", "key", c.key, "own", shortLog(ebt.Log(c.watch)))
	}
	now := time.Now()
	t.syncLocked(now, heads)
	t.out = t.m.Connect(t.out[:0], now, c.key)
	switch {
	case c.peerLog != "" && c.logSource:
		t.out = t.m.AuthorSource(t.out, c.key, ebt.Log(c.peerLog))
	case c.peerLog != "":
		t.out = t.m.Author(t.out, c.key, ebt.Log(c.peerLog))
	}
	t.dispatch()
	if len(t.sessions) == 1 {
		t.stop, t.done = make(chan struct{}), make(chan struct{})
		go t.loop(t.st, t.stop, t.done)
	}
}

// leave removes session c: the logs it pushed are grafted from others.
// It stops the loop if c was the last, and waits for it.
func (t *Tree) leave(c *session) {
	t.mu.Lock()
	if t.sessions[c.key] != c {
		t.mu.Unlock()
		return
	}
	delete(t.sessions, c.key)
	c.log.Debug("tree: leave", "key", c.key)
	t.out = t.m.Disconnect(t.out[:0], time.Now(), c.key)
	t.dispatch()
	var done chan struct{}
	if len(t.sessions) == 0 {
		close(t.stop)
		done = t.done
	}
	t.mu.Unlock()
	if done != nil {
		<-done
	}
}

// loop ticks the machine every NoteInterval, and tells it of what the
// store got other than from a Version 4 session (the own appends, a
// Version 3 session's inserts) as soon as the store changes.
func (t *Tree) loop(st Store, stop, done chan struct{}) {
	defer close(done)
	tk := time.NewTicker(t.p.NoteInterval)
	defer tk.Stop()
	var synced time.Time
	for {
		changed := st.Changed()
		select {
		case <-stop:
			return
		case <-changed:
			synced = time.Now()
			t.sync(st, true, false)
		case now := <-tk.C:
			// The heads are read when the store grows; a block or a
			// fork, which need not make it grow, is seen within
			// resyncEvery.
			heads := now.Sub(synced) >= resyncEvery
			if heads {
				synced = now
			}
			t.sync(st, heads, true)
		}
	}
}

// resyncEvery is how often the Tree reads the store's heads without a
// change of the store: a log blocked or forked is forgotten within it.
const resyncEvery = time.Second

// sync tells the machine of the store's heads if heads, and ticks it if
// tick.
func (t *Tree) sync(st Store, heads, tick bool) {
	var hs map[applog.ID]uint64
	if heads {
		hs = t.base.read(st) // the sessions' shared heads too
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	t.out = t.out[:0]
	if heads {
		t.syncLocked(now, hs)
	}
	if tick {
		t.out = t.m.Tick(t.out, now)
	}
	t.dispatch()
}

// syncLocked appends to the machine the logs the store holds further
// than the machine knows, but those a Version 4 session is inserting
// (Received tells of them), and forgets the logs the store no longer
// offers (blocked) or keeps forked.
func (t *Tree) syncLocked(now time.Time, heads map[applog.ID]uint64) {
	var forked map[applog.ID]bool
	if fk, ok := t.st.(Forker); ok {
		if fs := fk.Forks(); len(fs) > 0 {
			forked = make(map[applog.ID]bool, len(fs))
			for _, f := range fs {
				forked[f.Log] = true
			}
		}
	}
	for id, h := range heads {
		if h <= t.held[id] || forked[id] || t.inserting(id) {
			continue
		}
		t.held[id] = h
		t.out = t.m.Append(t.out, now, ebt.Log(id), h)
	}
	for id := range t.held {
		if _, ok := heads[id]; !ok || forked[id] {
			t.forget(id)
		}
	}
}

// inserting reports whether a session has records of log id on their way
// to the store.
func (t *Tree) inserting(id applog.ID) bool {
	for _, c := range t.sessions {
		if c.insert.queued(id) > 0 {
			return true
		}
	}
	return false
}

// forget drops log id from the machine: it is neither noted nor pushed
// until the store offers it again.
func (t *Tree) forget(id applog.ID) {
	delete(t.held, id)
	t.m.Forget(ebt.Log(id))
	for _, c := range t.sessions {
		c.lockHas()
		c.clearEagerLocked(id)
		c.unlockHas()
	}
}

// received tells the machine that session c's peer pushed seqs first …
// last of log id, now stored (last < first: none stored, first was held
// already: a duplicate).
func (t *Tree) received(c *session, id applog.ID, first, last uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sessions[c.key] != c {
		return
	}
	now := time.Now()
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log.Debug("tree: received", "key", c.key, "log", shortLog(ebt.Log(id)), "first", first, "last", last)
	}
	if h := t.m.Head(ebt.Log(id)); first <= h && last > h {
		// Another session stored the first of these records while
		// they were on their way: the peer still brought the rest,
		// and is not a duplicate's source to prune (that may be the
		// neighbour behind, which then pushes the log to it: a cycle).
		first = h + 1
	}
	t.out, _ = t.m.Received(t.out[:0], now, c.key, ebt.Log(id), first)
	if last > t.held[id] {
		t.held[id] = last
		t.out = t.m.Append(t.out, now, ebt.Log(id), last)
	}
	t.dispatch()
}

// notes hands the machine the notes session c's peer sent (none: a
// Resend).
func (t *Tree) notes(c *session, notes []ebt.Note) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sessions[c.key] != c {
		return
	}
	now := time.Now()
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log.Debug("tree: notes in", "key", c.key, "notes", noteText(notes))
	}
	if len(notes) == 0 {
		t.out = t.m.ReceivedResend(t.out[:0], now, c.key)
		t.dispatch()
		return
	}
	c.lockHas()
	for _, nt := range notes {
		id := applog.ID(nt.Log)
		if !nt.Eager {
			c.clearEagerLocked(id) // records only while its last note is eager
		}
		if v, ok := c.hasLocked(id); (ok || t.held[id] > 0 || id == c.watch) && nt.Seq > v {
			c.setLocked(id, nt.Seq, false) // the peer's word: within maxExceptions
		}
	}
	c.unlockHas()
	t.out = t.m.ReceivedNotes(t.out[:0], now, c.key, notes)
	t.dispatch()
}

// dispatch hands t.out to the sessions: a push marks the log eager on
// the session (its sender sends what the peer lacks), notes and Resends
// are queued for its sender (queue), and notes the machine owes the
// session (its heads, a Resend's answer) are marked for its sender to
// take (takeNotes).
func (t *Tree) dispatch() {
	for i := 0; i < len(t.out); i++ {
		msg := t.out[i]
		c := t.sessions[msg.To]
		if c == nil {
			continue
		}
		if c.log.Enabled(context.Background(), slog.LevelDebug) {
			switch msg.Kind {
			case ebt.Push:
				c.log.Debug("tree: push", "key", c.key, "log", shortLog(msg.Log), "from", msg.From, "thru", msg.Thru)
			case ebt.Notes:
				c.log.Debug("tree: notes out", "key", c.key, "notes", noteText(msg.Notes))
			case ebt.Resend:
				c.log.Debug("tree: resend", "key", c.key)
			}
		}
		switch msg.Kind {
		case ebt.Push:
			// The log is eager: the sender sends it from what the
			// peer holds as far as the session knows (its notes, what
			// was sent). msg.From is the machine's word, not the
			// peer's: past a push of the entry before, which the
			// sender may not have sent yet (TestTreePushKeepsView).
			c.lockHas()
			c.setEagerLocked(applog.ID(msg.Log))
			c.unlockHas()
		case ebt.Notes:
			t.queue(c, msg.Notes)
		case ebt.Owed:
			c.mu.Lock()
			c.owed = true
			c.mu.Unlock()
		case ebt.Resend:
			c.mu.Lock()
			c.outResend = true
			c.mu.Unlock()
		}
		select {
		case c.notesReady <- struct{}{}:
		default:
		}
	}
	clear(t.out)
	t.out = t.out[:0]
}

// maxQueuedNotes bounds the notes queued for a session's peer (four
// notes frames) but grafts of logs the store does not hold (at most
// ebt.Params.MaxUnheld: the machine tracks no more of them per
// neighbour): past it, the machine owes the peer the note instead
// (ebt.Machine.Owe, a bit per log held), and the session's sender takes
// it once it sent those queued (takeNotes).
const maxQueuedNotes = 4 * notesPerFrame

// queue adds notes, the machine's, to session c's queue. A note of a log
// queued already replaces it. Past maxQueuedNotes, or while the machine
// owes c notes, a note of a log held is owed instead: a log is queued or
// owed, never both, so that it goes once, with the latest of what it
// says (an owed note is taken as it stands then). A graft of a log the
// store does not hold is first checked against the store (a log it
// refuses or keeps forked is never grafted) and the session's Quota:
// refused, the log is forgotten and the graft not sent. Called with t.mu
// held.
func (t *Tree) queue(c *session, notes []ebt.Note) {
	owing := t.m.Owing(c.key) > 0
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, nt := range notes {
		id := applog.ID(nt.Log)
		if nt.Eager && t.held[id] == 0 && (t.refuses(id) || !c.grant(id)) {
			c.mu.Unlock()
			t.forget(id)
			c.mu.Lock()
			continue
		}
		if j, ok := c.noteAt[nt.Log]; ok {
			c.outNotes[j] = nt
			continue
		}
		if (owing || len(c.outNotes) >= maxQueuedNotes) && t.m.Owe(c.key, nt.Log) {
			owing, c.owed = true, true
			continue
		}
		c.noteAt[nt.Log] = len(c.outNotes)
		c.outNotes = append(c.outNotes, nt)
	}
}

// refuses reports whether the store refuses log id (blocked, say) or
// keeps it forked: it is never grafted.
func (t *Tree) refuses(id applog.ID) bool {
	if r, ok := t.st.(Refuser); ok && r.Refuses(id) {
		return true
	}
	fk, ok := t.st.(Forker)
	return ok && fk.Forked(id) > 0
}

// grant reports whether the peer may bring in new log id, which this side
// is about to graft from it: always without a Quota or for a log granted
// already; else if the Quota admits it, counted once. Called with c.mu
// held.
func (c *session) grant(id applog.ID) bool {
	if c.quota == nil || c.granted[id] || id == c.watch {
		return true
	}
	if !c.quota.admit(c.source, id) {
		return false
	}
	c.granted[id] = true
	return true
}

// maxKeptNotes bounds the notes a session's queue keeps room for
// between uses: a longer queue is dropped once taken.
const maxKeptNotes = notesPerFrame

// takeNotes returns the notes queued for the peer, emptying the queue,
// then as many of those the machine owes it as make maxQueuedNotes in
// all, each log once (a log is queued or owed, but for a Resend's
// answer: the queued and the owed are of different logs, and either
// order will do), and whether a Resend is queued.
func (c *session) takeNotes(dst []ebt.Note) ([]ebt.Note, bool) {
	c.mu.Lock()
	owed := c.owed
	c.mu.Unlock()
	t := c.tree
	if owed {
		t.mu.Lock()
		defer t.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	base := len(dst)
	dst = append(dst, c.outNotes...)
	if owed {
		if t.sessions[c.key] == c && len(dst)-base < maxQueuedNotes {
			from := len(dst)
			dst = t.m.TakeOwed(dst, c.key, maxQueuedNotes-(len(dst)-base))
			// A Resend's answer owes every log the peer did not say
			// it holds, some queued maybe: the owed note, the newer,
			// takes the queued one's place.
			kept := from
			for _, nt := range dst[from:] {
				if j, ok := c.noteAt[nt.Log]; ok {
					dst[base+j] = nt
					continue
				}
				dst[kept] = nt
				kept++
			}
			clear(dst[kept:])
			dst = dst[:kept]
		}
		c.owed = t.sessions[c.key] == c && t.m.Owing(c.key) > 0
	}
	if cap(c.outNotes) > maxKeptNotes {
		// A queue as long as a burst's goes with it: a map keeps its
		// buckets when cleared.
		c.outNotes, c.noteAt = nil, make(map[ebt.Log]int)
	} else {
		clear(c.outNotes)
		c.outNotes = c.outNotes[:0]
		clear(c.noteAt)
	}
	r := c.outResend
	c.outResend = false
	return dst, r
}

// owes reports whether the machine owes the peer notes, as far as the
// session knows (its sender takes them with takeNotes).
func (c *session) owes() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.owed
}

// isEager reports whether the peer's last note of log id asked for it
// eagerly (and this side had something to push since).
func (c *session) isEager(id applog.ID) bool {
	c.lockHas()
	defer c.unlockHas()
	return c.isEagerLocked(id)
}

// shortLog returns the first 8 characters of log l's id: enough to tell
// a room's logs apart in diagnostics.
func shortLog(l ebt.Log) string { return string(l[:min(len(l), 8)]) }

// noteText formats notes for diagnostics: "log:seq" each, with "+" for an
// eager note and "q" for a quiet one.
func noteText(notes []ebt.Note) string {
	var b []byte
	for i, n := range notes {
		if i > 0 {
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "%s:%d", shortLog(n.Log), n.Seq)
		switch {
		case n.Eager:
			b = append(b, '+')
		case n.Quiet:
			b = append(b, 'q')
		}
	}
	return string(b)
}
