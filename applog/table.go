package applog

import (
	"cmp"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
)

// logTable is the log ordinal table in memory: the public key of every
// log by ordinal, as the logs file lists them, and the logs loaded so
// far. Opening a database reads the keys and nothing else per log: a
// log's state (logState) is loaded on first use (DB.logAt), and the map
// from key to ordinal is built on the first lookup by key, so that
// opening a database to append to the own log costs the same whatever
// the number of logs.
type logTable struct {
	mu      sync.RWMutex
	keys    []byte              // 32 bytes per ordinal; zero for a record that failed its CRC (a hole)
	holes   int                 // records that failed their CRC and are still holes
	byKey   map[[32]byte]uint32 // nil until the first lookup by key
	fileLen int64               // bytes of the logs file read (reader) or written (writer)

	// Logs found from their directories (see findLost): recovered are
	// the ordinals whose key came from a directory, not from the file,
	// so their state entries do not describe them; virtual counts the
	// ordinals a reader gave, in memory only, past the end of the file.
	recovered map[uint32]bool
	virtual   int
	// cleared are the ordinals of blocked logs whose data a running
	// writer deleted (see dropLog): their state entries are stale.
	cleared map[uint32]bool
	damaged atomic.Bool // a record failed its CRC: feeds check every head (see Feed.repairTail)
	checked int64       // fileLen when findLost last looked; -1: look again

	// A clean writer Open does not read the keys (see readLater): they
	// are read on first need, by ensure.
	pending  atomic.Bool
	n        int // ordinals in the file while pending
	loadOnce sync.Once

	loaded  sync.Map // uint32 → *logState
	byID    sync.Map // ID → *logState, of the loaded logs: lookups by ID without decoding it
	nLoaded atomic.Int64

	fileMu    sync.Mutex // adding logs (writer leader) or re-reading the file (reader)
	f         *os.File   // writer only: the logs file
	loadMu    sync.Mutex // loading a log on first use (DB.logAt), and unloading (unload.go)
	hand      uint32     // the unload sweep's next ordinal; guarded by loadMu
	maxLoaded int        // the bound on loaded logs (Options.MaxLoaded), set by Open

	// What reading and mending the logs file needs, set by Open.
	dir      string     // the database's directory: the logs file and the log directories
	fs       fileSystem // every file operation
	readOnly bool       // a reader never writes; it keeps what it finds in memory
	st       *stateFile // the state entries, to match lost logs to holes (findLost)
	repairs  *repairLog // where damage found is noted
	log      *slog.Logger
}

// ensure reads the keys if a clean Open left them unread.
func (t *logTable) ensure() {
	if t.pending.Load() {
		t.loadOnce.Do(func() {
			// an error leaves the table empty past what was read; the
			// logs of it cannot be found, none is lost
			_ = t.readPending()
			t.pending.Store(false)
		})
	}
}

// len returns the number of ordinals.
func (t *logTable) len() int {
	t.ensure()
	return t.count()
}

// count is len without reading the keys: the ordinals the file holds.
func (t *logTable) count() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.pending.Load() {
		return t.n
	}
	return len(t.keys) / ed25519.PublicKeySize
}

// key returns the public key of ordinal ord; ok is false for a hole or
// an ordinal out of range.
func (t *logTable) key(ord uint32) (ed25519.PublicKey, bool) {
	t.ensure()
	t.mu.RLock()
	defer t.mu.RUnlock()
	i := int(ord) * ed25519.PublicKeySize
	if i+ed25519.PublicKeySize > len(t.keys) {
		return nil, false
	}
	k := t.keys[i : i+ed25519.PublicKeySize]
	if isZero(k) {
		return nil, false
	}
	return ed25519.PublicKey(append([]byte(nil), k...)), true
}

// lookup returns the ordinal of the log of key pub.
func (t *logTable) lookup(pub []byte) (uint32, bool) {
	t.ensure()
	k := [32]byte(pub)
	t.mu.RLock()
	if t.byKey != nil {
		ord, ok := t.byKey[k]
		t.mu.RUnlock()
		return ord, ok
	}
	t.mu.RUnlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byKey == nil {
		t.byKey = make(map[[32]byte]uint32, len(t.keys)/32)
		for i := 0; i+32 <= len(t.keys); i += 32 {
			if kk := [32]byte(t.keys[i:]); kk != ([32]byte{}) {
				t.byKey[kk] = uint32(i / 32)
			}
		}
	}
	ord, ok := t.byKey[k]
	return ord, ok
}

// add appends the log of key pub; it returns its ordinal. A key already
// listed (as when re-adding a log whose record became a hole) keeps the
// new ordinal in byKey.
func (t *logTable) add(pub []byte) uint32 {
	t.ensure()
	t.mu.Lock()
	defer t.mu.Unlock()
	ord := uint32(len(t.keys) / 32)
	t.keys = append(t.keys, pub...)
	if t.byKey != nil {
		t.byKey[[32]byte(pub)] = ord
	}
	return ord
}

// fileCount is the number of ordinals the logs file holds (holes
// included, virtual ones not).
func (t *logTable) fileCount() int {
	n := t.count()
	t.mu.RLock()
	defer t.mu.RUnlock()
	return n - t.virtual
}

// isRecovered reports whether ord's key came from a log directory (see
// findLost): its state entry, if any, is not known to be its own.
func (t *logTable) isRecovered(ord uint32) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.recovered[ord] || t.cleared[ord]
}

// isCleared reports whether dropLog deleted ord's data.
func (t *logTable) isCleared(ord uint32) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.cleared[ord]
}

// clear records that dropLog deleted ord's data: its state entry, if
// any, no longer describes it.
func (t *logTable) clear(ord uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cleared == nil {
		t.cleared = make(map[uint32]bool)
	}
	t.cleared[ord] = true
}

// refreshTable picks up logs another process added (read-only
// databases).
func (db *DB) refreshTable() {
	if !db.readOnly || db.closed.Load() {
		return
	}
	db.tab.reread()
}

// logAt returns the log of ordinal ord, loading it on first use; nil if
// ord is a hole or out of range.
func (db *DB) logAt(ord uint32) (*logState, error) {
	if l, ok := db.tab.loaded.Load(ord); ok {
		return l.(*logState).use(), nil
	}
	pub, ok := db.tab.key(ord)
	if !ok {
		return nil, nil
	}
	if db.blocks.skips(pub) {
		return nil, nil
	}
	db.tab.loadMu.Lock()
	defer db.tab.loadMu.Unlock()
	if l, ok := db.tab.loaded.Load(ord); ok {
		return l.(*logState), nil
	}
	if err := db.errIfClosed(); err != nil {
		return nil, err
	}
	ck, exact := db.st.checkpoint(ord, db.tab.isRecovered)
	l, err := db.lo.open(ord, pub, ck, exact, nil)
	if err != nil {
		return nil, err
	}
	db.st.clearExact(ord) // the log may change now: its entry is a floor again
	db.tab.store(l)
	db.tab.nLoaded.Add(1)
	if db.readOnly {
		db.tab.unloadAny()
	} else if db.tab.excess() > 0 && db.unloadAsked.CompareAndSwap(false, true) {
		// only the leader unloads a writer's logs: a round with no
		// data does it (unloadIdle)
		go func() {
			defer db.unloadAsked.Store(false)
			db.submit(&request{})
		}()
	}
	return l.use(), nil
}

// store records l as loaded (and used: see unload.go).
func (t *logTable) store(l *logState) {
	l.used.Store(true)
	t.loaded.Store(l.ord, l)
	t.byID.Store(l.id, l)
}

// logOf returns the log id, loading it on first use; nil if the
// database does not hold it. A read-only database first looks for logs
// another process added, if refresh.
func (db *DB) logOf(id ID, refresh bool) (*logState, error) {
	if db.own != nil && id == db.id {
		return db.own, nil
	}
	if l, ok := db.tab.byID.Load(id); ok {
		return l.(*logState).use(), nil
	}
	pub, ok := id.publicKey()
	if !ok {
		return nil, nil
	}
	ord, ok := db.tab.lookup(pub)
	if !ok && refresh && db.readOnly {
		db.refreshTable()
		ord, ok = db.tab.lookup(pub)
	}
	if !ok {
		return nil, nil
	}
	return db.logAt(ord)
}

// loadedLog returns the log of ordinal ord if it is loaded.
func (t *logTable) loadedLog(ord uint32) *logState {
	if l, ok := t.loaded.Load(ord); ok {
		return l.(*logState)
	}
	return nil
}

// loadedLogs returns the loaded logs, in ordinal order.
func (t *logTable) loadedLogs() []*logState {
	var ls []*logState
	t.loaded.Range(func(_, v any) bool {
		ls = append(ls, v.(*logState))
		return true
	})
	slices.SortFunc(ls, func(a, b *logState) int { return cmp.Compare(a.ord, b.ord) })
	return ls
}

// hasData reports whether log id is loaded, has a directory, or has a
// state entry that dropLog has not cleared: whether dropLog has anything
// to do.
func (t *logTable) hasData(id ID) bool {
	if _, ok := t.byID.Load(id); ok {
		return true
	}
	if pub, ok := id.publicKey(); ok {
		if ord, held := t.lookup(pub); held && !t.isCleared(ord) {
			return true
		}
	}
	_, err := os.Stat(filepath.Join(t.dir, string(id)))
	return err == nil
}

// drop unloads log id of ordinal ord, if loaded, for good (dropLog): a
// holder of its state fails with ErrBlocked. It returns the segments the
// state held, to unmap, or an error if the writer still holds its files.
// Caller holds loadMu.
func (t *logTable) drop(ord uint32, id ID) ([]*segment, error) {
	v, ok := t.loaded.Load(ord)
	if !ok {
		return nil, nil
	}
	l := v.(*logState)
	if l.w.seg != nil || l.w.idx != nil || l.w.seal != nil || l.w.write != nil {
		return nil, fmt.Errorf("applog: delete blocked log %s: files still held by the writer", id.Short())
	}
	l.dropped.Store(true) // iterators that still hold it fail with ErrBlocked
	t.loaded.Delete(ord)
	t.byID.Delete(id)
	t.nLoaded.Add(-1)
	return l.segments(), nil
}
