package applog

import (
	"cmp"
	"crypto/ed25519"
	"fmt"
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
	holes   int                 // records that failed their CRC
	byKey   map[[32]byte]uint32 // nil until the first lookup by key
	fileLen int64               // bytes of the logs file read (reader) or written (writer)

	// A clean writer Open does not read the keys (see openClean): they
	// are read on first need, by ensure.
	pending  atomic.Bool
	n        int // ordinals in the file while pending
	loadOnce sync.Once
	loadFn   func() error

	loaded sync.Map // uint32 → *logState
	byID   sync.Map // ID → *logState, of the loaded logs: lookups by ID without decoding it
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

// readTable reads the logs file from where it was last read into the
// table. A record that fails its CRC becomes a hole: it costs that log
// its ordinal, not the logs after it (the writer finds the log again
// from its directory, see recoverHoles). A torn last record is cut by a
// writer and left for later by a reader. Caller holds db.tableMu.
func (db *DB) readTable() error {
	t := db.tab
	f := db.logsF
	path := filepath.Join(db.dir, fileLogs)
	if f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
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
		var h [fileHeaderSize]byte
		n, _ := readFull(f, h[:], 0)
		if err := checkFileHeader(h[:n], magicLogs, 0); err != nil {
			if db.readOnly {
				if size < fileHeaderSize {
					return nil // being created
				}
				db.log.Warn("applog: log table header damaged", "file", path, "err", err)
			} else if size <= fileHeaderSize {
				if err := resetFile(f, magicLogs, 0); err != nil {
					return err
				}
				size = fileHeaderSize
			} else {
				// the records are still good: mend the header only
				db.log.Warn("applog: log table header damaged, rewriting it", "file", path, "err", err)
				hb := fileHeader(magicLogs, 0)
				if _, err := f.WriteAt(hb[:], 0); err != nil {
					return fmt.Errorf("applog: %w", err)
				}
				if err := fdatasync(f); err != nil {
					return err
				}
			}
		}
		t.fileLen = fileHeaderSize
	}
	if size <= t.fileLen {
		return nil
	}
	b := make([]byte, size-t.fileLen)
	if _, err := readFull(f, b, t.fileLen); err != nil {
		return fmt.Errorf("applog: read %s: %w", path, err)
	}
	whole := len(b) - len(b)%logsRecordSize
	keys := make([]byte, 0, whole/logsRecordSize*32)
	holes := 0
	for i := 0; i < whole; i += logsRecordSize {
		pub, ok := decodeLogsRecord(b[i:])
		if !ok {
			db.log.Warn("applog: log table record damaged", "file", path, "ordinal", (t.fileLen-fileHeaderSize+int64(i))/logsRecordSize)
			pub = make([]byte, 32)
			holes++
		}
		keys = append(keys, pub...)
	}
	t.mu.Lock()
	first := len(t.keys) / 32
	t.keys = append(t.keys, keys...)
	t.holes += holes
	if t.byKey != nil {
		for i := 0; i+32 <= len(keys); i += 32 {
			if k := [32]byte(keys[i:]); k != ([32]byte{}) {
				t.byKey[k] = uint32(first + i/32)
			}
		}
	}
	t.fileLen += int64(whole)
	t.mu.Unlock()
	if whole < len(b) && !db.readOnly {
		// a torn append of a new log: never acknowledged, cut it
		db.log.Warn("applog: cutting torn log table tail", "offset", t.fileLen)
		if err := f.Truncate(t.fileLen); err != nil {
			return fmt.Errorf("applog: %w", err)
		}
	}
	return nil
}

// fillHole finds the log of a damaged table record from the log
// directories when that is unambiguous: one hole, and one directory
// named by an ID the table does not list. It puts the key in the hole
// (and a writer mends the record on disk). Other holes are left to
// recoverHoles (writer) or stay unknown to a reader.
func (db *DB) fillHole() error {
	t := db.tab
	if t.holes != 1 {
		return nil
	}
	ents, err := os.ReadDir(db.dir)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	t.mu.RLock()
	listed := make(map[[32]byte]bool, len(t.keys)/32)
	for i := 0; i+32 <= len(t.keys); i += 32 {
		listed[[32]byte(t.keys[i:])] = true
	}
	t.mu.RUnlock()
	var found []ed25519.PublicKey
	for _, e := range ents {
		id, err := ParseID(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		pub, _ := id.publicKey()
		if !listed[[32]byte(pub)] {
			found = append(found, pub)
		}
	}
	if len(found) != 1 {
		return nil
	}
	t.mu.Lock()
	hole := -1
	for i := 0; i+32 <= len(t.keys); i += 32 {
		if isZero(t.keys[i : i+32]) {
			hole = i / 32
			break
		}
	}
	if hole >= 0 {
		copy(t.keys[hole*32:], found[0])
		t.holes = 0
		if t.byKey != nil {
			t.byKey[[32]byte(found[0])] = uint32(hole)
		}
	}
	t.mu.Unlock()
	if hole < 0 {
		return nil
	}
	db.log.Warn("applog: found the log of a damaged table record from its directory", "ordinal", hole, "log", idOf(found[0]))
	if db.readOnly {
		return nil
	}
	rec := appendLogsRecord(nil, found[0])
	if _, err := db.logsF.WriteAt(rec, fileHeaderSize+int64(hole)*logsRecordSize); err != nil {
		return fmt.Errorf("applog: mend log table: %w", err)
	}
	return fdatasync(db.logsF)
}

// refreshTable picks up logs another process added (read-only
// databases).
func (db *DB) refreshTable() {
	if !db.readOnly || db.closed.Load() {
		return
	}
	db.tableMu.Lock()
	defer db.tableMu.Unlock()
	if err := db.readTable(); err != nil {
		db.log.Debug("applog: reload log table", "err", err)
	}
}

// logAt returns the log of ordinal ord, loading it on first use; nil if
// ord is a hole or out of range.
func (db *DB) logAt(ord uint32) (*logState, error) {
	if l, ok := db.tab.loaded.Load(ord); ok {
		return l.(*logState), nil
	}
	pub, ok := db.tab.key(ord)
	if !ok {
		return nil, nil
	}
	db.loadMu.Lock()
	defer db.loadMu.Unlock()
	if l, ok := db.tab.loaded.Load(ord); ok {
		return l.(*logState), nil
	}
	if err := db.errIfClosed(); err != nil {
		return nil, err
	}
	ck, exact := db.checkpointOf(ord)
	l, err := db.openLog(ord, pub, ck, exact, nil)
	if err != nil {
		return nil, err
	}
	db.tab.store(l)
	db.loadedLogs.Add(1)
	return l, nil
}

// store records l as loaded.
func (t *logTable) store(l *logState) {
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
		return l.(*logState), nil
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
func (db *DB) loadedLog(ord uint32) *logState {
	if l, ok := db.tab.loaded.Load(ord); ok {
		return l.(*logState)
	}
	return nil
}

// eachLoaded calls fn for every loaded log, in ordinal order.
func (db *DB) eachLoaded(fn func(l *logState)) {
	var ls []*logState
	db.tab.loaded.Range(func(_, v any) bool {
		ls = append(ls, v.(*logState))
		return true
	})
	slices.SortFunc(ls, func(a, b *logState) int { return cmp.Compare(a.ord, b.ord) })
	for _, l := range ls {
		fn(l)
	}
}
