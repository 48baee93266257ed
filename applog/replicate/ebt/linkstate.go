package ebt

// This file holds how a link keeps its state of each log: one byte per
// log held, indexed by the log's dense index (logState.idx), and the
// few integers a byte cannot say in a map capped at Params.MaxExact.

// state is a log's state on one link packed in a byte: what the
// neighbour asked (push, lazy or quiet; 0 is no entry), what this peer
// asked of it (pull, watch, hushed or none), whether a note waits in
// the link's pending list, whether the head was noted to it, and how
// its known compares with the head.
type state uint8

const (
	askMask  state = 3 << 0
	askLazy  state = 1 << 0 // it asked for notes (neither flag)
	askPush  state = 2 << 0 // it asked for pushes (linkLog.push)
	askQuiet state = 3 << 0 // it asked for neither (linkLog.quiet)

	roleMask   state = 3 << 2
	rolePull   state = 1 << 2 // linkLog.pull
	roleWatch  state = 2 << 2 // linkLog.watch
	roleHushed state = 3 << 2 // linkLog.hushed

	pendBit   state = 1 << 4 // linkLog.pend
	notedHead state = 1 << 5 // noted is the head (else below it)

	knownMask  state = 3 << 6
	knownZero  state = 0 << 6 // known is 0
	knownHead  state = 1 << 6 // known is the head
	knownExact state = 2 << 6 // known is link.exact's
	knownAhead state = 3 << 6 // known is the head plus one, at least (MaxExact)
)

// encode packs v, a log's state on a link where this peer holds the log
// up to have, and returns it with whether v.known needs link.exact.
// What the neighbour asked is one of three (ReceivedNotes clears quiet
// when it sets push), and what this peer asked one of four (each rule
// that sets one role clears the others); noted is only ever compared
// with the head, and is at most the head.
func encode(v linkLog, have uint64) (state, bool) {
	s := askLazy
	switch {
	case v.push:
		s = askPush
	case v.quiet:
		s = askQuiet
	}
	switch {
	case v.pull:
		s |= rolePull
	case v.watch:
		s |= roleWatch
	case v.hushed:
		s |= roleHushed
	}
	if v.pend {
		s |= pendBit
	}
	if v.noted >= have {
		s |= notedHead
	}
	switch v.known {
	case 0:
		return s, false
	case have:
		return s | knownHead, false
	}
	return s | knownExact, true
}

// decode unpacks s, with exact its known if s says knownExact.
func decode(s state, exact, have uint64) linkLog {
	v := linkLog{
		push:   s&askMask == askPush,
		quiet:  s&askMask == askQuiet,
		pull:   s&roleMask == rolePull,
		watch:  s&roleMask == roleWatch,
		hushed: s&roleMask == roleHushed,
		pend:   s&pendBit != 0,
	}
	if s&notedHead != 0 {
		v.noted = have
	}
	switch s & knownMask {
	case knownHead:
		v.known = have
	case knownExact:
		v.known = exact
	case knownAhead:
		v.known = have + 1
	}
	return v
}

// load returns the state of the log with index idx, held up to have, on
// link ln, and whether ln has an entry for it.
func (ln *link) load(idx uint32, have uint64) (linkLog, bool) {
	if int(idx) >= len(ln.flags) || ln.flags[idx] == 0 {
		return linkLog{}, false
	}
	s := ln.flags[idx]
	var exact uint64
	if s&knownMask == knownExact {
		exact = ln.exact[idx]
	}
	return decode(s, exact, have), true
}

// store makes v the entry of the log with index idx, held up to have, on
// link ln.
//
// A known the byte cannot say takes a place in ln.exact; with none left
// (MaxExact), it is lowered to what the byte can say: the head plus one
// for a known past the head (the neighbour holds more, at least that:
// it is still grafted), else 0 (it is pushed, or noted, from the first
// entry, and skips those it holds). An eager neighbour's known is
// lowered last: it is taken from an entry not eager instead, which is
// lowered so, as a push from the first entry is the dearest loss.
func (m *Machine) store(ln *link, idx uint32, have uint64, v linkLog) {
	s, exact := encode(v, have)
	if exact {
		if _, ok := ln.exact[idx]; !ok && len(ln.exact) >= m.p.MaxExact && !(v.push && m.lowerOne(ln)) {
			exact = false
			s &^= knownMask
			if v.known > have {
				s |= knownAhead
			}
		}
	}
	if int(idx) >= len(ln.flags) {
		n := int(idx) + 1
		if n > cap(ln.flags) {
			// Its length is at most the indices given: one byte per log.
			flags := make([]state, n, max(n, min(2*cap(ln.flags), len(m.names))))
			copy(flags, ln.flags)
			ln.flags = flags
		}
		ln.flags = ln.flags[:n]
	}
	old := ln.flags[idx]
	if old == 0 {
		ln.kept++
	}
	if exact {
		if ln.exact == nil {
			ln.exact = make(map[uint32]uint64)
		}
		ln.exact[idx] = v.known
		ln.exactPeak = max(ln.exactPeak, len(ln.exact))
	} else if old&knownMask == knownExact {
		ln.dropExact(idx)
	}
	ln.flags[idx] = s
}

// lowerOne lowers the known of one entry of ln.exact whose neighbour is
// not eager for its log, as store does, and reports whether it found
// one.
func (m *Machine) lowerOne(ln *link) bool {
	for idx, known := range ln.exact {
		s := ln.flags[idx]
		if s&askMask == askPush {
			continue
		}
		s &^= knownMask
		if known > m.logs[m.names[idx]].have {
			s |= knownAhead
		}
		ln.flags[idx] = s
		ln.dropExact(idx)
		return true
	}
	return false
}

// clear drops link ln's entry of the log with index idx, if any; a link
// left with none lets go of its flags.
func (ln *link) clear(idx uint32) {
	if int(idx) >= len(ln.flags) || ln.flags[idx] == 0 {
		return
	}
	if ln.flags[idx]&knownMask == knownExact {
		ln.dropExact(idx)
	}
	ln.flags[idx] = 0
	ln.kept--
	if ln.kept == 0 {
		ln.flags = nil
	}
}

// dropExact deletes idx from ln.exact. A map that held four times as
// many entries, and at least minShrink, is made anew, as is one left
// empty that held more than 8 (a map keeps its buckets when entries go).
func (ln *link) dropExact(idx uint32) {
	delete(ln.exact, idx)
	if n := len(ln.exact); (ln.exactPeak >= minShrink && n <= ln.exactPeak/4) || (n == 0 && ln.exactPeak > 8) {
		exact := make(map[uint32]uint64, n)
		for k, v := range ln.exact {
			exact[k] = v
		}
		ln.exact, ln.exactPeak = exact, n
	}
}

// minShrink is the fewest entries a link's map held for it to be made
// anew once it holds a quarter of them.
const minShrink = 256

// entry is a handle on log l's state on link ln: it reads and writes the
// link's storage (ln.unheld for a log this peer does not hold, else
// ln.flags and ln.exact), so that a change made through one handle is
// seen through any other and by view.
type entry struct {
	m  *Machine
	ln *link
	l  Log
	ls *logState
}

// get returns the entry's state (the zero state if it has none).
func (e entry) get() linkLog {
	if e.ls == nil {
		return linkLog{}
	}
	if e.ls.have == 0 {
		if u := e.ln.unheld[e.l]; u != nil {
			return *u
		}
		return linkLog{}
	}
	v, _ := e.ln.load(e.ls.idx, e.ls.have)
	return v
}

// set makes v the entry's state. A log not held keeps its entry only
// while ln.unheld has it (linkLog makes it).
func (e entry) set(v linkLog) {
	if e.ls == nil {
		return
	}
	if e.ls.have == 0 {
		if u := e.ln.unheld[e.l]; u != nil {
			*u = v
		}
		return
	}
	e.m.store(e.ln, e.ls.idx, e.ls.have, v)
}

// index returns a dense index for log l, now held: one freed by a log
// dropped, else the next.
func (m *Machine) index(l Log) uint32 {
	if n := len(m.free); n > 0 {
		i := m.free[n-1]
		m.free = m.free[:n-1]
		m.names[i] = l
		return i
	}
	m.names = append(m.names, l)
	return uint32(len(m.names) - 1)
}

// owe marks the log with index idx owed a note on link ln (once).
func (m *Machine) owe(ln *link, idx uint32) {
	w, b := int(idx/64), idx%64
	if w >= len(ln.owed) {
		if w >= cap(ln.owed) {
			// Its length is at most a bit per index given.
			owed := make([]uint64, w+1, max(w+1, len(m.names)/64+1))
			copy(owed, ln.owed)
			ln.owed = owed
		}
		ln.owed = ln.owed[:w+1]
	}
	if ln.owed[w]&(1<<b) == 0 {
		ln.owed[w] |= 1 << b
		ln.owing++
	}
}

// unowe clears the owed note of the log with index idx on link ln, if
// any; a link left owing none lets go of its bits.
func (ln *link) unowe(idx uint32) {
	w, b := int(idx/64), idx%64
	if w >= len(ln.owed) || ln.owed[w]&(1<<b) == 0 {
		return
	}
	ln.owed[w] &^= 1 << b
	if ln.owing--; ln.owing == 0 {
		ln.owed, ln.owedAt = nil, 0
	}
}
