package ebt

import (
	"cmp"
	"math/bits"
	"slices"
	"time"
)

// Peer names a neighbour: one connection (the caller's key for it, such
// as the peer's log id).
type Peer string

// Log names a log (an applog.ID's text).
type Log string

// Kind is what a Msg asks the caller to send.
type Kind uint8

const (
	// Push: send the entries of Log from seq From through Through, in
	// order, to To.
	Push Kind = iota + 1
	// Notes: send the batch Notes to To.
	Notes
	// Resend: ask To to note again every log it holds that this peer
	// has not said it holds (this peer dropped notes past MaxUnheld, and
	// has room again).
	Resend
	// Owed: notes are owed to To (the heads at Connect, the answer to
	// its Resend): TakeOwed returns them, as many at a time as the
	// caller has room for.
	Owed
)

// Note says "I hold Log up to Seq" and what the sender wants of the
// receiver for Log: its entries pushed eagerly (Eager), only notes of
// them (lazy: neither flag), or neither (Quiet: the sender has enough
// neighbours noting Log to it). A note with Eager set where it was clear
// before is a graft, one with Eager clear where it was set a prune.
// Quiet is ignored with Eager set.
type Note struct {
	Log   Log
	Seq   uint64
	Eager bool
	Quiet bool
}

// Msg is one thing a Machine asks its caller to send.
type Msg struct {
	To    Peer
	Kind  Kind
	Log   Log    // Push
	From  uint64 // Push: first seq
	Thru  uint64 // Push: last seq
	Notes []Note // Notes
}

// Machine is one peer's replication state for every log and neighbour:
// which neighbour pushes each log to it (its sources), which neighbours
// it pushes each log to, and what each neighbour holds as far as it
// knows. It does no I/O and reads no clock: every event carries the time,
// and every method appends what to send to out and returns it. A Machine
// is not safe for concurrent use; its zero value is not usable (New).
type Machine struct {
	p     Params
	logs  map[Log]*logState
	links map[Peer]*link
	order []Peer // connected neighbours, sorted: iteration is deterministic

	dirty   []Log        // logs whose head rose since the last Tick
	risen   []Log        // logs whose head rose in this sweep round
	round   []Log        // logs whose head rose in the last round: swept in this one
	waiting []Log        // logs some neighbour holds further than this peer
	own     map[Log]bool // the logs this peer appends to (Own)

	// nextSweep is when the next sweep is due, sweepAt the position in
	// order of the neighbour the last one went to: a round is a sweep of
	// each neighbour in turn.
	nextSweep time.Time
	sweepAt   int

	// names are the logs held by their index (logState.idx; "" for an
	// index free), free the indices of logs dropped, given again first.
	names []Log
	free  []uint32
}

// logState is this peer's state of one log: a few integers.
type logState struct {
	have      uint64    // highest seq held
	idx       uint32    // its index in each link's flags, while have > 0
	sources   int       // neighbours asked to push it eagerly
	watchers  int       // neighbours asked to note it (lazy, not quiet)
	noters    int       // neighbours with state for it (kept while have == 0)
	waitSince time.Time // when it fell behind a noter; zero: not waiting
	isDirty   bool
	isRisen   bool // in Machine.risen
	isWaiting bool
	// fed: a neighbour pushed this peer a new entry of it. A log never
	// fed enters the tree here (its author, or a peer that got it by
	// other means): its sources, if any, are never upstream.
	fed bool
	// guess: it is fed, and its sources were chosen among neighbours
	// that held no more of it than this peer (at Connect, or when the
	// last upstream one left), or a neighbour that holds as much grafted
	// it from this peer (its own such choice), and no new entry came
	// since: a source may be downstream of this peer by more than one
	// hop, a cycle. A note of more is then grafted at the next Tick, not
	// after SwitchTime, unless a source is known to hold more (it is
	// pushing).
	guess bool
	// fresh: held since the last Tick, which gives each link an entry
	// for it; until then a link without one has no state of it (not
	// the idle state).
	fresh bool
}

// link is the state of one neighbour.
type link struct {
	rtt    time.Duration
	author Log // the log the neighbour authors (Author); "": none known
	// authorSource: it is to be the source of author (AuthorSource).
	authorSource bool
	// flags holds, by index (logState.idx), the entry of each log held
	// whose state on this link differs from the default (see idle),
	// packed in a byte (state); 0 is no entry: a log this peer holds
	// and has no entry here is idle on it, and costs it nothing past
	// its byte. flags is nil while no log held has an entry.
	flags []state
	kept  int // the entries in flags
	// exact holds the known of the entries whose byte cannot say it
	// (knownExact), at most Params.MaxExact.
	exact     map[uint32]uint64
	exactPeak int // len(exact) at its largest since the map was last made
	// unheld holds the state of each log this peer does not hold that
	// it tracks for this neighbour, at most MaxUnheld.
	unheld     map[Log]*linkLog
	unheldPeak int // len(unheld) at its largest since the map was last made

	// pending are the logs (by index) whose new head waits to be noted
	// to it (NoteDelay), each at most once; due is when the first of
	// them is to go (zero: none waits).
	pending []uint32
	due     time.Time

	// owed holds a bit per log held (by index) that is owed a note: the
	// heads at Connect, a Resend's answer, a note the caller could not
	// queue (Owe); owing counts them, and TakeOwed takes them from word
	// owedAt on, round the slice. nil while none is owed.
	owed   []uint64
	owing  int
	owedAt int

	overflow   bool      // notes of logs not held were dropped (MaxUnheld)
	resendDue  bool      // it asked for a Resend not answered yet
	lastResend time.Time // when its last Resend was answered
}

// linkLog is the state of one log on one neighbour: two integers and a
// few flags. It is kept so for a log this peer does not hold
// (link.unheld), and packed in a byte, its known in link.exact if the
// byte cannot say it, for a log held (link.flags).
type linkLog struct {
	known  uint64 // highest seq the neighbour holds as far as we know
	noted  uint64 // highest seq we noted to it
	push   bool   // it asked us to push this log eagerly
	quiet  bool   // it asked us not to note this log
	pull   bool   // we asked it to push this log eagerly
	watch  bool   // we count it among the log's watchers: it notes to us
	hushed bool   // we asked it to be quiet
	unheld bool   // counted in link.unheld: this peer does not hold the log
	pend   bool   // in link.pending
}

// idle returns the state of a log this peer holds up to have on a link
// that has no entry for it: it asked the neighbour to be quiet about the
// log (hushed), the neighbour asked the same (quiet), and the neighbour
// holds the head, noted to it. A connection after the log's sources and
// watchers, between peers that hold the same, has this state for each
// log until its head rises.
func idle(have uint64) linkLog {
	return linkLog{known: have, noted: have, quiet: true, hushed: true}
}

// isIdle reports whether ll is the idle state of a log held up to have.
// Its noted is not compared: once the neighbour holds the head, noted
// counts for nothing until the head rises (Tick notes a log only to a
// neighbour below the head, and then both below it).
func (ll linkLog) isIdle(have uint64) bool {
	return have > 0 && ll.known == have && ll.quiet && ll.hushed && !ll.push && !ll.pull && !ll.watch && !ll.unheld && !ll.pend
}

// New returns a Machine with parameters p, or p's error.
func New(p Params) (*Machine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Machine{
		p:     p.withDefaults(),
		logs:  make(map[Log]*logState),
		links: make(map[Peer]*link),
	}, nil
}

// Own records that this peer appends to log l itself (it is l's
// author): l's tree is rooted here, so Connect never asks a neighbour to
// push l. Otherwise the author asks its first neighbour for it, which
// asks the author too: a source of l that is downstream, which that
// neighbour would take for a cycle.
func (m *Machine) Own(l Log) {
	if m.own == nil {
		m.own = make(map[Log]bool)
	}
	m.own[l] = true
}

// Author records that neighbour n, connected, authors log l (its
// identity's log, as a chat's peers are): l's tree is rooted at n, which
// holds each of l's entries first. n is then preferred to every other
// neighbour as a watcher of l, where it is not l's source, and asked to
// note l now if it was asked to be quiet about it; it returns out with
// that note, and the one that hushes the watcher it replaces. Without
// it, a peer's watchers of l are the nearest neighbours, which may all
// get l through its sources: if those are cut off from the author (a
// source that vanished, and a cycle of the rest), l's next entry would
// reach it only when a connection changed (TestAuthorWatches). For a
// neighbour that lasts, AuthorSource makes it l's source instead.
func (m *Machine) Author(out []Msg, n Peer, l Log) []Msg {
	ln := m.links[n]
	if ln == nil {
		return out
	}
	ln.author = l
	ls := m.logs[l]
	if ls == nil || ls.have == 0 {
		return out
	}
	e, _ := m.linkLog(ln, l, ls)
	if v := e.get(); v.pull || v.watch || !v.hushed {
		return out
	}
	out, nt := m.lazyOrQuiet(out, n, l, ls, e)
	return append(out, Msg{To: n, Kind: Notes, Notes: []Note{nt}})
}

// AuthorSource records that neighbour n, connected, authors log l, as
// Author does, for a neighbour that lasts (a peer the user named, not
// one an overlay may drop in a second): n is then l's source. It is
// grafted now if this peer holds l (else with l's first entry), l's
// other sources are pruned, a duplicate from n prunes the other source,
// not n, and a lost source regrafts n first. It returns out with the
// graft and the prunes. So in a mesh of named peers each gets each
// entry straight from its author, and the notes of it from its
// watchers, the nearest neighbours, the same for every log, several
// logs in a batch (TestAuthorSource). Over links that come and go it
// would cost more than it saves: each link to an author that closes
// leaves that log without its source, and the graft that replaces it
// may be a guess in a cycle that the watchers, also nearest, do not
// reach (Author).
func (m *Machine) AuthorSource(out []Msg, n Peer, l Log) []Msg {
	ln := m.links[n]
	if ln == nil {
		return out
	}
	ln.author, ln.authorSource = l, true
	ls := m.logs[l]
	if ls == nil || ls.have == 0 || m.own[l] {
		return out
	}
	return m.graftAuthor(out, n, l, ls)
}

// graftAuthor makes neighbour n, l's author, l's source unless it, or
// another connection to l's author, is one, and prunes l's other
// sources: n holds each entry first, so it is upstream of them all.
func (m *Machine) graftAuthor(out []Msg, n Peer, l Log, ls *logState) []Msg {
	for _, p := range m.order {
		if v, ok := m.view(m.links[p], l); ok && v.pull && m.isAuthorSource(p, l) {
			return out
		}
	}
	batch := make(map[Peer][]Note, 2)
	m.graft(batch, n, l)
	ls.guess = false
	for _, p := range m.order {
		if ns := batch[p]; len(ns) > 0 {
			out = append(out, Msg{To: p, Kind: Notes, Notes: ns})
		}
	}
	return m.pruneOthers(out, n, l, ls)
}

// pruneOthers prunes each source of l but keep (l's author: it is
// upstream of them all).
func (m *Machine) pruneOthers(out []Msg, keep Peer, l Log, ls *logState) []Msg {
	for _, p := range m.order {
		if v, ok := m.view(m.links[p], l); ok && p != keep && v.pull {
			e, _ := m.linkLog(m.links[p], l, ls)
			out = m.prune(out, p, l, ls, e)
		}
	}
	return out
}

// authorOf returns the neighbour that is to be l's source as its
// author (AuthorSource), if one is connected.
func (m *Machine) authorOf(l Log) (Peer, bool) {
	for _, p := range m.order {
		if m.isAuthorSource(p, l) {
			return p, true
		}
	}
	return "", false
}

// isAuthorSource reports whether neighbour p is to be l's source as its
// author (AuthorSource).
func (m *Machine) isAuthorSource(p Peer, l Log) bool {
	ln := m.links[p]
	return ln.authorSource && ln.author == l
}

// Head returns the highest seq of log l this peer holds (0: none).
func (m *Machine) Head(l Log) uint64 {
	if ls := m.logs[l]; ls != nil {
		return ls.have
	}
	return 0
}

// Sources returns the neighbours this peer asked to push log l eagerly,
// in order.
func (m *Machine) Sources(l Log) []Peer {
	var ps []Peer
	for _, p := range m.order {
		if v, ok := m.view(m.links[p], l); ok && v.pull {
			ps = append(ps, p)
		}
	}
	return ps
}

// Kept returns how many logs this peer keeps state of for neighbour n
// other than the idle state (it asked n to be quiet about the log, n
// asked the same, and n holds the head). Each log held costs n a byte
// whatever its state (and at most MaxExact a seq more), each log not
// held a few dozen bytes.
func (m *Machine) Kept(n Peer) int {
	if ln := m.links[n]; ln != nil {
		return ln.kept + len(ln.unheld)
	}
	return 0
}

// Neighbours returns the connected neighbours, in order.
func (m *Machine) Neighbours() []Peer { return slices.Clone(m.order) }

// SetRTT records the round-trip time to neighbour n: among neighbours
// that hold as much of a log, a graft asks the nearest.
func (m *Machine) SetRTT(n Peer, d time.Duration) {
	if ln := m.links[n]; ln != nil {
		ln.rtt = d
	}
}

// Connect adds neighbour n and owes it its first notes (the heads): one
// note per log held, eager for the logs no other neighbour pushes to
// this peer yet (but its own: Own), lazy for those with fewer than
// Watchers watchers, quiet for the rest. It returns out with an Owed
// message to n if any log is held (TakeOwed returns the notes, so that
// the caller holds no more of them at a time than it has room for),
// then the notes that hush other neighbours n takes the place of.
// Connecting a neighbour already connected resets its state.
func (m *Machine) Connect(out []Msg, now time.Time, n Peer) []Msg {
	out = m.Disconnect(out, now, n)
	ln := &link{}
	m.links[n] = ln
	i, _ := slices.BinarySearch(m.order, n)
	m.order = slices.Insert(m.order, i, n)
	hushes := make(map[Peer][]Note)
	// n takes a watcher's place only if it is preferred to some
	// neighbour: most new neighbours are not, and skip the search.
	preferred := false
	for _, p := range m.order {
		if p != n && m.nearer(n, p) {
			preferred = true
			break
		}
	}
	for l, ls := range m.logs {
		if ls.have == 0 {
			continue
		}
		v := linkLog{noted: ls.have}
		switch {
		case ls.sources == 0 && !m.own[l]:
			v.pull = true
			ls.sources++
			ls.guess = ls.fed
		case ls.watchers < m.p.Watchers:
			v.watch = true
			ls.watchers++
		default:
			v.hushed = true
			if w, ok := m.worstWatcher(l, n); preferred && ok {
				// n is preferred: it watches, w is hushed.
				m.hush(hushes, w, l, ls)
				v.watch, v.hushed = true, false
			}
		}
		ls.noters++
		entry{m, ln, l, ls}.set(v)
		m.owe(ln, ls.idx)
	}
	if ln.owing > 0 {
		out = append(out, Msg{To: n, Kind: Owed})
	}
	for _, p := range m.order {
		if hs := hushes[p]; len(hs) > 0 {
			slices.SortFunc(hs, func(a, b Note) int { return cmp.Compare(a.Log, b.Log) })
			out = append(out, Msg{To: p, Kind: Notes, Notes: hs})
		}
	}
	return out
}

// Owe records that the caller could not send neighbour n a note of log l
// that this peer returned (its queue to n is full, say): TakeOwed
// returns it later, with the head held then. It reports false if this
// peer does not hold l (a graft of a log not held, at most MaxUnheld
// per neighbour: the caller keeps it) or n is not connected.
func (m *Machine) Owe(n Peer, l Log) bool {
	ln, ls := m.links[n], m.logs[l]
	if ln == nil || ls == nil || ls.have == 0 {
		return false
	}
	m.owe(ln, ls.idx)
	return true
}

// Owing returns how many notes are owed to neighbour n (Owe, and the
// Owed messages).
func (m *Machine) Owing(n Peer) int {
	if ln := m.links[n]; ln != nil {
		return ln.owing
	}
	return 0
}

// TakeOwed appends to dst at most limit of the notes owed to neighbour n,
// each as it stands now (the head held, and what this peer asks of n),
// and returns it; each is then noted, owed no longer. It takes them by
// log index from where the last call stopped, round the logs, so that a
// log owed again waits for the others owed before it.
func (m *Machine) TakeOwed(dst []Note, n Peer, limit int) []Note {
	ln := m.links[n]
	if ln == nil {
		return dst
	}
	for i, start, words := 0, ln.owedAt, len(ln.owed); i < words && limit > 0 && ln.owing > 0; i++ {
		w := (start + i) % words
		for ln.owed[w] != 0 && limit > 0 {
			b := bits.TrailingZeros64(ln.owed[w])
			idx := uint32(w*64 + b)
			ln.owedAt = w
			ln.unowe(idx) // the last lets go of ln.owed
			dst = append(dst, m.owedNote(ln, idx))
			limit--
			if ln.owed == nil {
				return dst
			}
		}
	}
	return dst
}

// owedNote returns the note of the log with index idx to link ln, and
// records its head as noted.
func (m *Machine) owedNote(ln *link, idx uint32) Note {
	l := m.names[idx]
	ls := m.logs[l]
	v, _ := m.view(ln, l)
	if e, ok := m.entryOf(ln, l, ls); ok && v.noted < ls.have {
		v.noted = ls.have
		e.set(v)
	}
	return Note{Log: l, Seq: ls.have, Eager: v.pull, Quiet: v.hushed}
}

// Disconnect removes neighbour n. For each log n pushed to this peer
// alone, it asks another neighbour (the one known to hold most of it,
// then the nearest, among those that did not ask this peer to push it)
// to push it instead; for each log n watched, it asks
// the nearest hushed neighbour to watch it; and it returns out with
// those notes.
func (m *Machine) Disconnect(out []Msg, now time.Time, n Peer) []Msg {
	ln := m.links[n]
	if ln == nil {
		return out
	}
	delete(m.links, n)
	if i, ok := slices.BinarySearch(m.order, n); ok {
		m.order = slices.Delete(m.order, i, i+1)
	}
	var orphans, unwatched []Log
	gone := func(l Log, ls *logState, ll linkLog) {
		ls.noters--
		if ll.pull {
			ls.sources--
			if ls.have > 0 {
				// Checked below, once every link of n is gone: the
				// sources left may all be neighbours this peer pushes
				// to (a cycle).
				orphans = append(orphans, l)
			}
		}
		if ll.watch {
			ls.watchers--
			if ls.have > 0 {
				unwatched = append(unwatched, l)
			}
		}
		if ls.have == 0 && ls.noters == 0 {
			m.dropLog(l)
		}
	}
	for i, s := range ln.flags {
		if s != 0 {
			l := m.names[i]
			ls := m.logs[l]
			gone(l, ls, decode(s, ln.exact[uint32(i)], ls.have))
		}
	}
	for l, u := range ln.unheld {
		gone(l, m.logs[l], *u)
	}
	slices.Sort(orphans)
	slices.Sort(unwatched)
	grafts := make(map[Peer][]Note)
	for _, l := range orphans {
		if !m.upstreamless(l) {
			continue
		}
		if p, ok := m.upstream(l); ok {
			m.graft(grafts, p, l)
			m.logs[l].guess = m.logs[l].fed && !m.isAuthorSource(p, l)
		}
	}
	for _, l := range unwatched {
		m.rewatch(grafts, l)
	}
	for _, p := range m.order {
		if notes := grafts[p]; len(notes) > 0 {
			out = append(out, Msg{To: p, Kind: Notes, Notes: notes})
		}
	}
	return out
}

// Append records that this peer now holds log l up to seq by other means
// than a neighbour's push (its own append, or an older peer's connection)
// and returns out with the pushes to the neighbours eager for it.
func (m *Machine) Append(out []Msg, now time.Time, l Log, seq uint64) []Msg {
	ls := m.log(l)
	if seq <= ls.have {
		return out
	}
	m.raise(l, ls, seq)
	m.progress(now, l, ls)
	return m.forward(out, "", l, ls)
}

// Received records that neighbour from pushed entry seq of log l, and
// returns out with what to send: the pushes to the neighbours eager for
// l, or, if this peer held seq already and another neighbour pushes l
// too, a prune to from. It reports whether the entry was new (the one
// after the head); an entry past the head is a gap and changes nothing
// (replicate ends such a session). The caller calls it once the entry is
// stored.
func (m *Machine) Received(out []Msg, now time.Time, from Peer, l Log, seq uint64) ([]Msg, bool) {
	ln := m.links[from]
	if ln == nil || seq == 0 {
		return out, false
	}
	ls := m.log(l)
	// has is false for a log not held past MaxUnheld: the entry still
	// counts, and the link's state of it starts once it is held.
	ll, has := m.linkLog(ln, l, ls)
	if has {
		v := ll.get()
		v.known = max(v.known, seq)
		ll.set(v)
	}
	switch {
	case seq <= ls.have:
		if v := ll.get(); has && v.pull && ls.sources > 1 {
			if m.isAuthorSource(from, l) {
				// The author is upstream of every other source: they
				// go, it stays.
				out = m.pruneOthers(out, from, l, ls)
			} else if !ls.fed || v.push || m.upstreamBut(l, from) {
				out = m.prune(out, from, l, ls, ll)
			} else {
				// from is the last source that does not get l from
				// this peer: it stays, and the others, each a cycle
				// with this peer, are pruned instead.
				for _, p := range m.order {
					if v, ok := m.view(m.links[p], l); ok && p != from && v.pull && v.push {
						e, _ := m.linkLog(m.links[p], l, ls)
						out = m.prune(out, p, l, ls, e)
					}
				}
			}
		}
		if has {
			m.tidy(ln, l, ls, ll)
		}
		return out, false
	case seq > ls.have+1:
		if ls.have == 0 && ls.noters == 0 {
			m.dropLog(l)
		}
		return out, false
	}
	m.raise(l, ls, seq)
	ls.fed = true
	ls.guess = false
	m.progress(now, l, ls)
	out = m.forward(out, from, l, ls)
	if v := ll.get(); has && v.pull && !v.push && ls.sources > 1 {
		out = m.pruneSlower(out, from, l, ls, seq)
	}
	if a, ok := m.authorOf(l); ok && a != from && has {
		// l came from another neighbour than its author: the author
		// is grafted, if it is not a source yet.
		out = m.graftAuthor(out, a, l, ls)
	}
	if has {
		m.tidy(ln, l, ls, ll)
	}
	return out, true
}

// pruneSlower prunes, once source from delivered seq, log l's new head,
// each other source of l that is pushing it too: one that did not ask
// this peer to push l (a source that did gets the entry from this peer,
// and sends no copy back) and is not known to hold seq (one that noted
// it, or more, may be ahead of from, its push of them on its way). Its
// copy of the entry is a duplicate on its way or about to be: the prune
// goes now rather than once the copy has come (Prune).
func (m *Machine) pruneSlower(out []Msg, from Peer, l Log, ls *logState, seq uint64) []Msg {
	for _, p := range m.order {
		if p == from || m.isAuthorSource(p, l) {
			continue // the author stays a source (AuthorSource)
		}
		ln := m.links[p]
		if v, ok := m.view(ln, l); !ok || !v.pull || v.push || v.known >= seq {
			continue
		}
		e, _ := m.linkLog(ln, l, ls)
		out = m.prune(out, p, l, ls, e)
		if len(ln.pending) > 0 {
			// The prune goes now: the notes waiting go with it.
			last := &out[len(out)-1]
			last.Notes = m.flushPending(last.Notes, ln)
		}
	}
	return out
}

// ReceivedNotes records neighbour from's batch of notes and returns out
// with the pushes they ask for (a graft of a log this peer holds further).
func (m *Machine) ReceivedNotes(out []Msg, now time.Time, from Peer, notes []Note) []Msg {
	ln := m.links[from]
	if ln == nil {
		return out
	}
	var quiets []Note
	var grafts map[Peer][]Note
	for _, nt := range notes {
		ls := m.logs[nt.Log]
		if ls == nil && len(ln.unheld) >= m.p.MaxUnheld {
			ln.overflow = true
			continue
		}
		ls = m.log(nt.Log)
		ll, has := m.linkLog(ln, nt.Log, ls)
		if !has {
			ln.overflow = true
			if ls.have == 0 && ls.noters == 0 {
				m.dropLog(nt.Log)
			}
			continue
		}
		v := ll.get()
		v.known = max(v.known, nt.Seq)
		wasPush, wasQuiet := v.push, v.quiet
		v.push = nt.Eager
		v.quiet = nt.Quiet && !nt.Eager
		if wasQuiet && !v.push && !v.quiet {
			// Made a watcher (one left): note it the head at the next
			// tick if it is behind.
			v.noted = min(v.noted, nt.Seq)
			if nt.Seq < ls.have && !ls.isDirty {
				ls.isDirty = true
				m.dirty = append(m.dirty, nt.Log)
			}
		}
		ll.set(v)
		if v.push && !wasPush && ls.fed && nt.Seq >= ls.have && ls.have > 0 {
			// A graft from a neighbour that holds as much: its guess
			// (Connect, or a lost upstream source), which may close a
			// cycle through this peer's sources.
			ls.guess = true
		}
		if v.push && !wasPush && v.pull && ls.have > 0 && m.upstreamless(nt.Log) {
			// A source of the log asks this peer to push it: each
			// waits on the other, and neither gets a new entry unless
			// one has another source. It had not: graft one that is
			// neither.
			if p, ok := m.bestOf(nt.Log, isUpstream); ok {
				if grafts == nil {
					grafts = make(map[Peer][]Note)
				}
				m.graft(grafts, p, nt.Log)
				ls.guess = true
			}
		}
		if v := ll.get(); !v.pull && !v.watch && !v.hushed {
			// A neighbour noting a log unasked: one more watcher, or told
			// to be quiet (once).
			var n Note
			if out, n = m.lazyOrQuiet(out, from, nt.Log, ls, ll); n.Quiet {
				quiets = append(quiets, n)
			}
		}
		if v = ll.get(); v.push && v.known < ls.have {
			out = append(out, Msg{To: from, Kind: Push, Log: nt.Log, From: v.known + 1, Thru: ls.have})
			v.known = ls.have
			ll.set(v)
		}
		if v.known > ls.have && !ls.isWaiting {
			ls.isWaiting = true
			ls.waitSince = now
			m.waiting = append(m.waiting, nt.Log)
		}
		m.tidy(ln, nt.Log, ls, ll)
	}
	if len(quiets) > 0 {
		out = append(out, Msg{To: from, Kind: Notes, Notes: quiets})
	}
	for _, p := range m.order {
		if ns := grafts[p]; len(ns) > 0 {
			out = append(out, Msg{To: p, Kind: Notes, Notes: ns})
		}
	}
	return out
}

// sweep adds to batch, for the next neighbour in turn, a note of each
// log whose head rose in the last round (Sweep) that the neighbour asked
// this peer to be quiet about and is not known to hold and was not
// noted, but a log whose author is a neighbour over a lasting link
// (AuthorSource): in a named mesh every peer has one, and no cycle
// forms. A round sweeps every neighbour once, so a log that rose once is
// swept to each within two rounds, however rarely lines come. Each note
// carries what this peer asks of the neighbour for the log, as Tick's,
// so that it changes no request.
func (m *Machine) sweep(batch map[Peer][]Note) {
	if len(m.order) == 0 {
		return
	}
	m.sweepAt++
	if m.sweepAt >= len(m.order) {
		m.sweepAt = 0
		m.round, m.risen = m.risen, m.round[:0]
		for _, l := range m.round {
			if ls := m.logs[l]; ls != nil { // dropLog takes a dropped log out of both lists
				ls.isRisen = false
			}
		}
	}
	p := m.order[m.sweepAt]
	ln := m.links[p]
	for _, l := range m.round {
		ls := m.logs[l]
		if ls == nil || ls.have == 0 {
			continue
		}
		if _, ok := m.authorOf(l); ok {
			continue // its author is a source over a lasting link: no cycle
		}
		if v, ok := m.view(ln, l); !ok || !v.quiet || v.pull || v.push || v.known >= ls.have || v.noted >= ls.have {
			continue // Tick notes a neighbour that did not ask quiet
		}
		ll, has := m.linkLog(ln, l, ls)
		if !has {
			continue
		}
		v := ll.get()
		v.noted = ls.have
		ll.set(v)
		batch[p] = append(batch[p], Note{Log: l, Seq: ls.have, Eager: v.pull, Quiet: v.hushed})
	}
}

// resendSwitchTimes: a neighbour's Resend is answered at most once per
// this many SwitchTimes.
const resendSwitchTimes = 4

// ReceivedResend answers neighbour from's Resend: it owes from a note of
// every log this peer holds that from has not said it holds, and returns
// out with an Owed message to from if it owes any. It answers at most once per 4 SwitchTimes per neighbour: a
// Resend sooner is answered at the first Tick after that.
func (m *Machine) ReceivedResend(out []Msg, now time.Time, from Peer) []Msg {
	ln := m.links[from]
	if ln == nil {
		return out
	}
	ln.resendDue = true
	return m.resend(out, now, from, ln)
}

// resend answers a Resend of neighbour p if one is due and allowed now.
func (m *Machine) resend(out []Msg, now time.Time, p Peer, ln *link) []Msg {
	if !ln.resendDue || (!ln.lastResend.IsZero() && now.Sub(ln.lastResend) < resendSwitchTimes*m.p.SwitchTime) {
		return out
	}
	ln.resendDue = false
	ln.lastResend = now
	owing := ln.owing
	for l, ls := range m.logs {
		if ls.have == 0 {
			continue
		}
		if v, _ := m.view(ln, l); v.known > 0 || v.push || v.quiet {
			continue
		}
		ll, _ := m.linkLog(ln, l, ls)
		v := ll.get()
		v.noted = ls.have
		ll.set(v)
		m.owe(ln, ls.idx)
	}
	if ln.owing == owing {
		return out
	}
	return append(out, Msg{To: p, Kind: Owed})
}

// Tick is called every NoteInterval. It returns out with the grafts due
// (a log behind a noter for SwitchTime, or at once if no neighbour pushes
// it), per neighbour one batch of notes of the logs whose head rose since
// the last tick, leaving out the neighbours that push the log to this
// peer, that it pushes the log to, or that hold the head already, and a
// Resend to each neighbour whose notes were dropped once the logs not
// held from it are below half of MaxUnheld, and an Owed message to each
// neighbour whose Resend came too soon to be answered then and is
// answered now (ReceivedResend).
func (m *Machine) Tick(out []Msg, now time.Time) []Msg {
	batch := make(map[Peer][]Note)
	keep := m.waiting[:0]
	for _, l := range m.waiting {
		ls := m.logs[l]
		if ls == nil {
			continue
		}
		if _, ok := m.best(l, true); !ok {
			ls.isWaiting = false
			continue
		}
		keep = append(keep, l)
		if now.Sub(ls.waitSince) < m.p.SwitchTime && m.waits(l, ls) {
			continue
		}
		ls.waitSince = now
		if p, ok := m.best(l, false); ok && m.known(p, l) > ls.have {
			m.graft(batch, p, l)
			ls.guess = false // p holds more: it is upstream
		}
	}
	m.waiting = keep
	for _, l := range m.dirty {
		ls := m.logs[l]
		if ls == nil {
			continue
		}
		ls.isDirty = false
		for _, p := range m.order {
			ln := m.links[p]
			if v, ok := m.view(ln, l); ok && (v.push || v.quiet || v.known >= ls.have || v.noted >= ls.have) {
				continue
			}
			ll, has := m.linkLog(ln, l, ls)
			v := ll.get()
			if !has || v.push || v.quiet || v.known >= ls.have || v.noted >= ls.have {
				continue
			}
			if m.p.NoteDelay > 0 {
				// It said it holds part of the log (or was pushed it):
				// this note is likely a backup, and waits NoteDelay for
				// the others to it. Else it may hold none, or lack a
				// source that pushes it, and this note is how it gets
				// the entry: it waits a quarter of that at most, and
				// takes those waiting along.
				due := now.Add(m.p.NoteDelay / 4)
				if v.known > 0 {
					due = now.Add(m.p.NoteDelay)
				}
				if !v.pend {
					v.pend = true
					ll.set(v)
					ln.pending = append(ln.pending, ls.idx)
				}
				if ln.due.IsZero() || due.Before(ln.due) {
					ln.due = due
				}
				continue
			}
			v.noted = ls.have
			ll.set(v)
			batch[p] = append(batch[p], Note{Log: l, Seq: ls.have, Eager: v.pull, Quiet: v.hushed})
		}
	}
	for _, l := range m.dirty {
		if ls := m.logs[l]; ls != nil {
			ls.fresh = false
		}
	}
	m.dirty = m.dirty[:0]
	if m.p.SweepInterval > 0 && !now.Before(m.nextSweep) {
		m.nextSweep = now.Add(m.p.SweepInterval)
		m.sweep(batch)
	}
	for _, p := range m.order {
		ln := m.links[p]
		if len(ln.pending) > 0 && (len(batch[p]) > 0 || !now.Before(ln.due)) {
			batch[p] = m.flushPending(batch[p], ln)
		}
		if notes := batch[p]; len(notes) > 0 {
			out = append(out, Msg{To: p, Kind: Notes, Notes: notes})
		}
		if ln.overflow && len(ln.unheld) < m.p.MaxUnheld/2 {
			ln.overflow = false
			out = append(out, Msg{To: p, Kind: Resend})
		}
		out = m.resend(out, now, p, ln)
	}
	return out
}

// Forget drops every state of log l (a log the store blocked): it is
// neither noted nor pushed from then on, until it is held again.
func (m *Machine) Forget(l Log) {
	ls := m.logs[l]
	for _, ln := range m.links {
		m.dropUnheld(ln, l)
		if ls != nil && ls.have > 0 {
			ln.clear(ls.idx)
		}
	}
	m.dropLog(l)
}

// dropUnheld deletes log l from link ln's logs not held, if it is
// there; a map left empty that held more than 8 is let go.
func (m *Machine) dropUnheld(ln *link, l Log) {
	if _, ok := ln.unheld[l]; !ok {
		return
	}
	delete(ln.unheld, l)
	if len(ln.unheld) == 0 && ln.unheldPeak > 8 {
		ln.unheld, ln.unheldPeak = nil, 0
	}
}

// log returns l's state, made if new.
func (m *Machine) log(l Log) *logState {
	ls := m.logs[l]
	if ls == nil {
		ls = &logState{}
		m.logs[l] = ls
	}
	return ls
}

// dropLog drops l's state, and frees its index if it is held.
func (m *Machine) dropLog(l Log) {
	if ls := m.logs[l]; ls != nil && ls.have > 0 {
		for _, ln := range m.links {
			ln.clear(ls.idx)
			ln.unowe(ls.idx)
		}
		m.names[ls.idx] = ""
		m.free = append(m.free, ls.idx)
	}
	delete(m.logs, l)
	m.dirty = slices.DeleteFunc(m.dirty, func(d Log) bool { return d == l })
	m.risen = slices.DeleteFunc(m.risen, func(d Log) bool { return d == l })
	m.round = slices.DeleteFunc(m.round, func(d Log) bool { return d == l })
	m.waiting = slices.DeleteFunc(m.waiting, func(d Log) bool { return d == l })
}

// entryOf returns log l's entry on link ln, and whether it has one.
func (m *Machine) entryOf(ln *link, l Log, ls *logState) (entry, bool) {
	e := entry{m, ln, l, ls}
	if ls.have == 0 {
		return e, ln.unheld[l] != nil
	}
	return e, int(ls.idx) < len(ln.flags) && ln.flags[ls.idx] != 0
}

// linkLog returns log l's entry on link ln, made if new, or false if l
// is not held and ln has MaxUnheld such logs already.
func (m *Machine) linkLog(ln *link, l Log, ls *logState) (entry, bool) {
	e, ok := m.entryOf(ln, l, ls)
	if ok {
		return e, true
	}
	switch {
	case ls.have == 0:
		if len(ln.unheld) >= m.p.MaxUnheld {
			return entry{}, false
		}
		if ln.unheld == nil {
			ln.unheld = make(map[Log]*linkLog)
		}
		ln.unheld[l] = &linkLog{unheld: true}
		ln.unheldPeak = max(ln.unheldPeak, len(ln.unheld))
	case ls.fresh:
		e.set(linkLog{})
	default:
		e.set(idle(ls.have))
	}
	ls.noters++
	return e, true
}

// view returns log l's state on link ln: its entry, or the idle state of
// a log held (but fresh) without one; false if ln has no state of l.
func (m *Machine) view(ln *link, l Log) (linkLog, bool) {
	ls := m.logs[l]
	switch {
	case ls == nil:
		return linkLog{}, false
	case ls.have == 0:
		if u := ln.unheld[l]; u != nil {
			return *u, true
		}
		return linkLog{}, false
	}
	if v, ok := ln.load(ls.idx, ls.have); ok {
		return v, true
	}
	if !ls.fresh {
		return idle(ls.have), true
	}
	return linkLog{}, false
}

// known returns the highest seq of l neighbour p holds as far as this
// peer knows.
func (m *Machine) known(p Peer, l Log) uint64 {
	v, _ := m.view(m.links[p], l)
	return v.known
}

// tidy drops ll, log l's entry on link ln, if it is the idle state: a
// link keeps only the logs that differ from it.
func (m *Machine) tidy(ln *link, l Log, ls *logState, ll entry) {
	if ls.fresh || !ll.get().isIdle(ls.have) {
		return
	}
	ln.clear(ls.idx)
	ls.noters--
}

// rose notes that log l's head rose, for the next sweep round: the
// first maxSwept logs that rise in a round are swept in the next, so
// the sweep's lists stay small whatever the store holds (a round with
// more is a bulk transfer, whose trees its own traffic keeps busy).
func (m *Machine) rose(l Log, ls *logState) {
	if !ls.isRisen && len(m.risen) < maxSwept {
		ls.isRisen = true
		m.risen = append(m.risen, l)
	}
}

// maxSwept bounds the logs a sweep round notes (rose).
const maxSwept = 1024

// raise makes seq log l's head. Before it rises, each link without an
// entry for it gets one with the state it had (the idle state at the old
// head; none, if this peer did not hold l, which is then fresh until the
// next Tick, and each link's state of it, kept with the logs not held,
// moves to the link's flags); each entry's known and noted are then
// compared with the new head.
func (m *Machine) raise(l Log, ls *logState, seq uint64) {
	if ls.have == 0 {
		ls.idx = m.index(l)
		ls.have = seq
		ls.fresh = true
		m.rose(l, ls)
		for _, ln := range m.links {
			if u := ln.unheld[l]; u != nil {
				m.dropUnheld(ln, l)
				v := *u
				v.unheld = false
				m.store(ln, ls.idx, seq, v)
			}
		}
		return
	}
	m.rose(l, ls)
	old := ls.have
	for _, p := range m.order {
		ln := m.links[p]
		if !ls.fresh {
			m.linkLog(ln, l, ls)
		}
		if v, ok := ln.load(ls.idx, old); ok {
			m.store(ln, ls.idx, seq, v)
		}
	}
	ls.have = seq
}

// progress marks l dirty (to be noted at the next tick) and restarts its
// switch timer: an eager neighbour that delivers is not stalled.
func (m *Machine) progress(now time.Time, l Log, ls *logState) {
	if !ls.isDirty {
		ls.isDirty = true
		m.dirty = append(m.dirty, l)
	}
	if ls.isWaiting {
		ls.waitSince = now
	}
}

// forward pushes l's new entries to each neighbour but from that asked
// for them eagerly; the others get a note at the next tick.
func (m *Machine) forward(out []Msg, from Peer, l Log, ls *logState) []Msg {
	for _, p := range m.order {
		if p == from {
			continue
		}
		ln := m.links[p]
		ll, ok := m.entryOf(ln, l, ls) // a log it is eager for is not idle on it
		v := ll.get()
		if !ok || !v.push || v.known >= ls.have {
			continue
		}
		out = append(out, Msg{To: p, Kind: Push, Log: l, From: v.known + 1, Thru: ls.have})
		v.known = ls.have
		ll.set(v)
		if len(ln.pending) > 0 {
			// The push goes now: the notes waiting go with it.
			if notes := m.flushPending(nil, ln); len(notes) > 0 {
				out = append(out, Msg{To: p, Kind: Notes, Notes: notes})
			}
		}
	}
	return out
}

// flushPending appends to notes the notes waiting for link ln (NoteDelay)
// that are still news to it, with the heads held now, and empties its
// list.
func (m *Machine) flushPending(notes []Note, ln *link) []Note {
	for _, idx := range ln.pending {
		// An index freed is "", or another log's: one not pending, or
		// one pending, the same log twice in the list (its second
		// time skipped).
		l := m.names[idx]
		ls := m.logs[l]
		if ls == nil || ls.have == 0 || ls.idx != idx {
			continue
		}
		ll, ok := m.entryOf(ln, l, ls)
		v := ll.get()
		if !ok || !v.pend {
			continue
		}
		v.pend = false
		if v.push || v.quiet || v.known >= ls.have || v.noted >= ls.have {
			ll.set(v)
			m.tidy(ln, l, ls, ll)
			continue
		}
		v.noted = ls.have
		ll.set(v)
		notes = append(notes, Note{Log: l, Seq: ls.have, Eager: v.pull, Quiet: v.hushed})
	}
	if cap(ln.pending) > minShrink {
		// A burst's list (4 bytes a log) goes with it.
		ln.pending = nil
	} else {
		ln.pending = ln.pending[:0]
	}
	ln.due = time.Time{}
	return notes
}

// best returns the neighbour to graft for l: the one known to hold most
// of it, then the nearest, then the first in order; with anyPeer false,
// only one not pulled from already, else only one known to hold more
// than this peer.
func (m *Machine) best(l Log, anyPeer bool) (Peer, bool) {
	if anyPeer {
		have := m.logs[l].have
		return m.bestOf(l, func(ll linkLog) bool { return ll.known > have })
	}
	return m.bestOf(l, func(ll linkLog) bool { return !ll.pull })
}

// upstream returns the neighbour to graft for l, which lost its last
// upstream source: l's author if it is connected as its source
// (AuthorSource: the root of l's tree), else best, but not one that
// asked this peer to push l (it is downstream: it gets l from this
// peer, and grafting it would make a cycle that pushes nothing, each
// waiting on the other until a note and SwitchTime later), unless every
// candidate did.
func (m *Machine) upstream(l Log) (Peer, bool) {
	if p, ok := m.authorOf(l); ok {
		if v, _ := m.view(m.links[p], l); !v.pull {
			return p, true // the root of l's tree (AuthorSource)
		}
	}
	if p, ok := m.bestOf(l, isUpstream); ok {
		return p, true
	}
	return m.best(l, false)
}

// waits reports whether log l, which a neighbour holds further than
// this peer, waits SwitchTime for its sources before a graft: it does
// while a source known to be upstream pushes it (not a guess, and not
// only sources that pull l from this peer: see upstreamless), or while
// a source is known to hold more, so that its push is on the way. Else
// nothing upstream pushes l, and the graft is due at the next Tick.
func (m *Machine) waits(l Log, ls *logState) bool {
	return !ls.guess && !m.upstreamless(l) || m.sourceAhead(l, ls.have)
}

// sourceAhead reports whether a source of l is known to hold more than
// have: it is pushing it.
func (m *Machine) sourceAhead(l Log, have uint64) bool {
	for _, p := range m.order {
		if ll, ok := m.view(m.links[p], l); ok && ll.pull && ll.known > have {
			return true
		}
	}
	return false
}

// isUpstream reports whether a neighbour whose state of a log is ll may
// be grafted as an upstream source of it: neither a source already nor
// one that asked this peer to push the log.
func isUpstream(ll linkLog) bool { return !ll.pull && !ll.push }

// upstreamless reports whether no source of l may bring this peer new
// entries of it: it has none, or it was pushed entries of l (it is not
// where l enters the tree, as its author is) and each of its sources
// asked this peer to push l. Such a source gets l from this peer, or
// from another source of its own: with no other, the two are a cycle
// that no new entry reaches, each waiting on the other until a note
// and a SwitchTime later.
func (m *Machine) upstreamless(l Log) bool {
	ls := m.logs[l]
	if ls == nil || ls.sources == 0 {
		return true
	}
	return ls.fed && !m.upstreamBut(l, "")
}

// upstreamBut reports whether a source of l other than neighbour but did
// not ask this peer to push l.
func (m *Machine) upstreamBut(l Log, but Peer) bool {
	for _, p := range m.order {
		// The author is upstream even if it asks this peer to push its
		// log (a store that does not know it authors it: Own).
		if ll, ok := m.view(m.links[p], l); ok && p != but && ll.pull && (!ll.push || m.isAuthorSource(p, l)) {
			return true
		}
	}
	return false
}

// prune asks neighbour p, a source of l whose state is ll, to stop
// pushing l: it is made a watcher or hushed (lazyOrQuiet), and the note
// that tells it so is appended to out.
func (m *Machine) prune(out []Msg, p Peer, l Log, ls *logState, ll entry) []Msg {
	v := ll.get()
	v.pull = false
	v.noted = max(v.noted, ls.have) // the note carries the head
	ll.set(v)
	ls.sources--
	var n Note
	out, n = m.lazyOrQuiet(out, p, l, ls, ll)
	return append(out, Msg{To: p, Kind: Notes, Notes: []Note{n}})
}

// bestOf returns, of the neighbours with state for l that ok accepts,
// the one known to hold most of l, then the nearest, then the first in
// order.
func (m *Machine) bestOf(l Log, ok func(linkLog) bool) (Peer, bool) {
	var (
		bp    Peer
		bk    uint64
		brtt  time.Duration
		found bool
	)
	for _, p := range m.order {
		ln := m.links[p]
		ll, has := m.view(ln, l)
		if !has || !ok(ll) {
			continue
		}
		if !found || ll.known > bk || (ll.known == bk && ln.rtt < brtt) {
			bp, bk, brtt, found = p, ll.known, ln.rtt, true
		}
	}
	return bp, found
}

// graft marks p as a source of l and adds the note that asks it to
// batch; if p was a watcher, another takes its place (rewatch).
func (m *Machine) graft(batch map[Peer][]Note, p Peer, l Log) {
	ls := m.logs[l]
	ll, _ := m.linkLog(m.links[p], l, ls)
	v := ll.get()
	if !v.pull {
		ls.sources++
	}
	wasWatch := v.watch
	v.pull, v.watch, v.hushed = true, false, false
	ll.set(v)
	batch[p] = append(batch[p], Note{Log: l, Seq: ls.have, Eager: true})
	if wasWatch {
		ls.watchers--
		m.rewatch(batch, l)
	}
}

// rewatch asks the nearest neighbour hushed about l to note it again,
// if l has fewer than Watchers watchers, adding the note to batch.
func (m *Machine) rewatch(batch map[Peer][]Note, l Log) {
	ls := m.logs[l]
	if ls.watchers >= m.p.Watchers {
		return
	}
	if p, ok := m.nearestHushed(l); ok {
		ll, _ := m.linkLog(m.links[p], l, ls)
		v := ll.get()
		v.hushed, v.watch = false, true
		ll.set(v)
		ls.watchers++
		batch[p] = append(batch[p], Note{Log: l, Seq: ls.have})
	}
}

// lazyOrQuiet makes ll, neighbour p's state of l, p being neither
// source nor watcher of l, a watcher if l has fewer than Watchers, or if
// p is preferred to one of them (which is hushed: its note is appended
// to out), else hushed; it returns out and the note that tells p so.
func (m *Machine) lazyOrQuiet(out []Msg, p Peer, l Log, ls *logState, ll entry) ([]Msg, Note) {
	v := ll.get()
	if ls.watchers < m.p.Watchers {
		v.watch, v.hushed = true, false
		ll.set(v)
		ls.watchers++
		return out, Note{Log: l, Seq: ls.have}
	}
	if w, ok := m.worstWatcher(l, p); ok {
		hushes := make(map[Peer][]Note, 1)
		m.hush(hushes, w, l, ls)
		out = append(out, Msg{To: w, Kind: Notes, Notes: hushes[w]})
		v = ll.get()
		v.watch, v.hushed = true, false
		ll.set(v)
		return out, Note{Log: l, Seq: ls.have}
	}
	v.hushed = true
	ll.set(v)
	return out, Note{Log: l, Seq: ls.have, Quiet: true}
}

// prefer reports whether neighbour a is preferred to b as a watcher of
// log l: l's author (Author), then the nearer. Each peer thus asks the
// same few neighbours to watch every log it holds, so that the notes to
// it come from few neighbours, several logs in one batch, rather than
// from a different few for each log, but for a log whose author is a
// neighbour, which it asks too.
func (m *Machine) prefer(l Log, a, b Peer) bool {
	if aa, ab := m.links[a].author == l, m.links[b].author == l; aa != ab {
		return aa
	}
	return m.nearer(a, b)
}

// nearer reports whether neighbour a is nearer than b: by SetRTT, where
// both were measured, then the shorter name, then the first in order.
func (m *Machine) nearer(a, b Peer) bool {
	if ra, rb := m.links[a].rtt, m.links[b].rtt; ra > 0 && rb > 0 && ra != rb {
		return ra < rb
	}
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// worstWatcher returns the watcher of l least preferred, if p is
// preferred to it.
func (m *Machine) worstWatcher(l Log, p Peer) (Peer, bool) {
	var (
		w     Peer
		found bool
	)
	for _, q := range m.order {
		if ll, ok := m.view(m.links[q], l); ok && ll.watch && q != p && (!found || m.prefer(l, w, q)) {
			w, found = q, true
		}
	}
	if !found || !m.prefer(l, p, w) {
		return "", false
	}
	return w, true
}

// hush makes w, a watcher of l, hushed instead, and adds the note that
// tells it so to batch; the caller makes another the watcher.
func (m *Machine) hush(batch map[Peer][]Note, w Peer, l Log, ls *logState) {
	ll, _ := m.linkLog(m.links[w], l, ls)
	v := ll.get()
	v.watch, v.hushed = false, true
	ll.set(v)
	batch[w] = append(batch[w], Note{Log: l, Seq: ls.have, Quiet: true})
}

// nearestHushed returns the neighbour asked to be quiet about l that is
// preferred to the others (prefer).
func (m *Machine) nearestHushed(l Log) (Peer, bool) {
	var (
		bp    Peer
		found bool
	)
	for _, p := range m.order {
		if ll, ok := m.view(m.links[p], l); ok && ll.hushed && !ll.pull && (!found || m.prefer(l, p, bp)) {
			bp, found = p, true
		}
	}
	return bp, found
}
