package applog

import (
	"os"
	"slices"
)

// This file bounds the logs a DB keeps in memory (Options.MaxLoaded):
// beyond the bound, idle logs are unloaded, least recently used first,
// and loaded again on their next use (see "Scale" in doc.go).
//
// The sweep is a clock: a lookup marks a log used (use); the sweep walks
// the ordinals from where it stopped, clears the mark of a used log and
// unloads one found unmarked, until a quarter of the bound is free.
//
// A writer unloads only between rounds, in the leader (unloadIdle), and
// only logs whose writer side is idle. It first writes each one's state
// entry, exactly as Close would (logState.entry), and notes that the entry is
// exact (stateFile.exact): the log is loaded again from it without a
// scan. The entry is a durable floor as well: it describes data the
// rounds before synced, so a crash leaves it true. A reader unloads when
// it loads (unloadReader); it writes nothing.
//
// A goroutine may still hold an unloaded state (an Iter, a Get under
// way): it stays valid for what it held, since segments are immutable
// snapshots and files are opened by path, but its head no longer moves.
// An Iter that reaches that head looks the log up again (Iter.Next).

// use marks l looked up, for the unload sweep, and returns it.
func (l *logState) use() *logState {
	if !l.used.Load() {
		l.used.Store(true)
	}
	return l
}

// sweep picks up to n unloadable logs, by the clock, never own; can
// says whether a log may be unloaded at all. Caller holds loadMu.
func (t *logTable) sweep(n int, own *logState, can func(*logState) bool) []*logState {
	total := uint32(t.len())
	if total == 0 || n <= 0 {
		return nil
	}
	var out []*logState
	for scanned := uint32(0); len(out) < n && scanned < 2*total; scanned++ {
		ord := t.hand % total
		t.hand = ord + 1
		l := t.loadedLog(ord)
		if l == nil || l == own || !can(l) || l.used.Swap(false) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// excess returns how many logs a sweep should unload: none up to the
// bound (maxLoaded), and beyond it enough to leave a quarter of it free.
func (t *logTable) excess() int {
	max := t.maxLoaded
	n := int(t.nLoaded.Load())
	if n <= max {
		return 0
	}
	return n - (max - max/4)
}

// idle reports whether the writer side of l holds nothing a round left
// or will finish: no file, buffer, write or seal, everything synced and
// published, in the feed, and no corruption to remember. Leader only.
func (l *logState) idle() bool {
	w := &l.w
	return w.seg == nil && w.idx == nil && w.seal == nil && w.write == nil &&
		len(w.wbuf) == 0 && len(w.ibuf) == 0 && !w.dirty && !w.touched && w.runN == 0 &&
		w.tail != nil && l.head.Load() == w.head && l.feedHead == w.head && l.broken.Load() == nil
}

// unloadIdle unloads idle logs beyond the bound. The leader runs it at
// the start of its round, once the round before has published, so no
// round is writing, syncing or publishing any log meanwhile. A failure
// to write the entries leaves the logs loaded.
func (rw *roundWriter) unloadIdle() {
	db, rd := rw.db, rw.rd
	if db.tab.excess() == 0 || db.st.f == nil {
		return
	}
	if rd.prev != nil {
		<-rd.prev.published // it may have written any log; its heads are stored
	}
	db.tab.loadMu.Lock()
	defer db.tab.loadMu.Unlock()
	victims := db.tab.sweep(db.tab.excess(), db.own, (*logState).idle)
	if len(victims) == 0 {
		return
	}
	slices.SortFunc(victims, func(a, b *logState) int { return int(a.ord) - int(b.ord) })
	var files []*os.File
	var held []*cachedFile
	changes := make([]entryChange, len(victims))
	for i, l := range victims {
		changes[i] = entryChange{l.ord, l.entry(db.files, &files, &held)}
	}
	err := syncAll(db.fs, files, nil)
	for _, cf := range held {
		db.files.release(cf)
	}
	if err == nil {
		err = db.st.writeEntries(changes)
	}
	if err != nil {
		db.log.Warn("applog: idle logs not unloaded", "logs", len(victims), "err", err)
		return
	}
	for _, l := range victims {
		db.st.markExact(l.ord)
		db.tab.unload(l)
	}
	db.st.setAll(nil) // its entries of these logs are stale now
	db.log.Debug("applog: unloaded idle logs", "logs", len(victims), "loaded", db.tab.nLoaded.Load())
}

// unloadAny unloads logs beyond the bound in a read-only DB, where any
// log may go. Caller holds loadMu.
func (t *logTable) unloadAny() {
	for _, l := range t.sweep(t.excess(), nil, func(*logState) bool { return true }) {
		t.unload(l)
	}
}

// unload forgets l as the loaded state of its log. Caller holds loadMu.
func (t *logTable) unload(l *logState) {
	l.unloaded.Store(true)
	t.loaded.CompareAndDelete(l.ord, l)
	t.byID.CompareAndDelete(l.id, l)
	t.nLoaded.Add(-1)
}

// markExact notes that the entry of ord on disk describes its unloaded
// log exactly. Caller holds loadMu.
func (st *stateFile) markExact(ord uint32) {
	st.exactMu.Lock()
	defer st.exactMu.Unlock()
	w := int(ord / 64)
	if w >= len(st.exact) {
		st.exact = append(st.exact, make([]uint64, w+1-len(st.exact))...)
	}
	st.exact[w] |= 1 << (ord % 64)
}

// clearExact notes that ord's log is loaded again: it may change, and
// its entry is a floor.
func (st *stateFile) clearExact(ord uint32) {
	st.exactMu.Lock()
	defer st.exactMu.Unlock()
	if w := int(ord / 64); w < len(st.exact) {
		st.exact[w] &^= 1 << (ord % 64)
	}
}

// isExact reports whether ord's entry on disk describes its unloaded log
// exactly.
func (st *stateFile) isExact(ord uint32) bool {
	st.exactMu.Lock()
	defer st.exactMu.Unlock()
	w := int(ord / 64)
	return w < len(st.exact) && st.exact[w]&(1<<(ord%64)) != 0
}

// anyExact reports whether some entry was written by an unload.
func (st *stateFile) anyExact() bool {
	st.exactMu.Lock()
	defer st.exactMu.Unlock()
	return len(st.exact) > 0
}
