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

	// A clean writer Open does not read the keys (see openClean): they
	// are read on first need, by ensure.
	pending  atomic.Bool
	n        int // ordinals in the file while pending
	loadOnce sync.Once
	loadFn   func() error

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
			_ = t.loadFn()
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

// read reads the logs file from where it was last read into the
// table. A record that fails its CRC becomes a hole: it costs that log
// its ordinal, not the logs after it (the writer finds the log again
// from its directory, see findLost). A torn last record is cut by a
// writer and left for later by a reader. Caller holds t.fileMu.
func (t *logTable) read() error {
	f := t.f
	path := filepath.Join(t.dir, fileLogs)
	if f == nil {
		var err error
		if f, err = t.fs.openFile(path, os.O_RDONLY, 0); err != nil {
			if isNotExist(err) {
				return nil
			}
			return fmt.Errorf("applog: %w", err)
		}
		defer f.Close()
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	size := fi.Size()
	if t.fileLen == 0 {
		var ok bool
		if size, ok, err = t.checkHeader(f, size); !ok || err != nil {
			return err
		}
		t.fileLen = fileHeaderSize
	}
	if size-t.fileLen < logsRecordSize {
		return nil
	}
	t.dropVirtual()
	b := make([]byte, size-t.fileLen)
	if _, err := readFull(t.fs, f, b, t.fileLen); err != nil {
		return fmt.Errorf("applog: read %s: %w", path, err)
	}
	whole := len(b) - len(b)%logsRecordSize
	keys := make([]byte, 0, whole/logsRecordSize*32)
	holes := 0
	for i := 0; i < whole; i += logsRecordSize {
		pub, ok := decodeLogsRecord(b[i:])
		if !ok {
			t.repairs.note("log table record %d is damaged (%s offset %d)", (t.fileLen-fileHeaderSize+int64(i))/logsRecordSize, path, t.fileLen+int64(i))
			pub = make([]byte, 32)
			holes++
		}
		keys = append(keys, pub...)
	}
	t.appendKeys(keys, holes)
	if whole < len(b) && !t.readOnly {
		// a torn append of a new log: never acknowledged, cut it
		t.log.Warn("applog: cutting torn log table tail", "offset", t.fileLen)
		if err := t.fs.truncate(f, t.fileLen); err != nil {
			return fmt.Errorf("applog: cut %s: %w", path, err)
		}
	}
	return nil
}

// checkHeader checks the header of the logs file f, of size bytes,
// on its first read. A writer makes a missing header and mends a damaged
// one (the records after it are still good); a reader reads the records
// after a damaged one, and none of a file shorter than a header. It
// returns the size to read up to, and ok false if there is nothing to
// read yet.
func (t *logTable) checkHeader(f *os.File, size int64) (int64, bool, error) {
	var h [fileHeaderSize]byte
	n, _ := readFull(t.fs, f, h[:], 0)
	err := checkFileHeader(h[:n], magicLogs, 0)
	if err == nil {
		return size, true, nil
	}
	if t.readOnly {
		if size < fileHeaderSize {
			// being created, or cut short: findLost looks at
			// the directories once (cheap if it is new)
			t.checked = -1
			if n := t.st.count(); n > 0 {
				t.repairs.note("log table is cut short (%d bytes) while the state names %d logs", size, n)
			}
			return size, false, nil
		}
		t.repairs.note("log table header is damaged (%v): its records are read", err)
	} else if size <= fileHeaderSize {
		if err := resetFile(t.fs, f, magicLogs, 0); err != nil {
			return size, false, err
		}
		size = fileHeaderSize
	} else {
		// the records are still good: mend the header only
		t.repairs.note("log table header was damaged (%v): rewritten", err)
		hb := fileHeader(magicLogs, 0)
		if _, err := t.fs.writeAt(f, hb[:], 0); err != nil {
			return size, false, fmt.Errorf("applog: %w", err)
		}
		if err := t.fs.sync(f); err != nil {
			return size, false, err
		}
	}
	return size, true, nil
}

// appendKeys adds the keys read from the logs file, 32 bytes per
// ordinal, holes zero, and counts the bytes read.
func (t *logTable) appendKeys(keys []byte, holes int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	first := len(t.keys) / 32
	t.keys = append(t.keys, keys...)
	t.holes += holes
	if holes > 0 {
		t.damaged.Store(true)
	}
	if t.byKey != nil {
		for i := 0; i+32 <= len(keys); i += 32 {
			if k := [32]byte(keys[i:]); k != ([32]byte{}) {
				t.byKey[k] = uint32(first + i/32)
			}
		}
	}
	t.fileLen += int64(len(keys) / 32 * logsRecordSize)
}

// dropVirtual forgets the ordinals a reader gave lost logs in memory
// (see findLost) before it reads records a writer appended at those
// ordinals: a writer adds lost logs itself, and findLost looks again
// after the read. Caller holds t.fileMu.
func (t *logTable) dropVirtual() {
	if t.virtual == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.keys)/32 - t.virtual
	for ord := uint32(n); ord < uint32(n+t.virtual); ord++ {
		k := [32]byte(t.keys[ord*32:])
		if t.byKey != nil && t.byKey[k] == ord {
			delete(t.byKey, k)
		}
		if l, ok := t.loaded.LoadAndDelete(ord); ok {
			t.byID.CompareAndDelete(l.(*logState).id, l)
		}
		delete(t.recovered, ord)
	}
	t.keys = t.keys[:n*32]
	t.virtual = 0
	t.checked = -1 // the lost logs may not be listed yet: look again
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

// reread reads what another process appended to the logs file, and
// looks for lost logs if it may miss some (a reader's refresh).
func (t *logTable) reread() {
	t.fileMu.Lock()
	defer t.fileMu.Unlock()
	if err := t.read(); err != nil {
		t.log.Debug("applog: reload log table", "err", err)
	}
	if _, err := t.findLost(false); err != nil {
		t.log.Debug("applog: find lost logs", "err", err)
	}
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
