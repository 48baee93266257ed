package applog

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"scuttle/applog/internal/osfile"
)

// Blocking a log: the user's way to get rid of a spammer. The block
// list is DIR/blocked, lines "block ID" or "unblock ID" appended by Block
// and Unblock (fsynced), the last line of an ID winning. Any process may
// append to it, also while a writer holds the database: the writer
// re-reads it when its size changes, looking at most every
// blockCheckEvery, so a block applies within a second. A blocked log is
// refused by Insert (ErrBlocked), left out of Heads (so it is neither
// advertised nor sent to peers) and of the Feed, and listed by Logs as
// blocked. A writer deletes its data: at Open (deleteBlocked), and
// while it runs within about a second of the block (watchBlocks,
// dropLog), without stopping the other logs. Unblock lets it come back
// from peers, from seq 1.

// ErrBlocked is returned by Insert for records of a blocked log.
var ErrBlocked = errors.New("applog: log is blocked")

const (
	fileBlocked     = "blocked"
	blockCheckEvery = 500 * time.Millisecond
	// maxBlockFile bounds the block list read.
	maxBlockFile = 64 << 20
)

// Block adds log id to the block list of the database in dir.
func Block(dir string, id ID) error { return writeBlock(dir, id, "block") }

// Unblock removes log id from the block list of the database in dir.
func Unblock(dir string, id ID) error { return writeBlock(dir, id, "unblock") }

func writeBlock(dir string, id ID, verb string) error {
	if _, ok := id.publicKey(); !ok {
		return fmt.Errorf("applog: %s: bad log id %q", verb, id)
	}
	if _, err := os.Stat(filepath.Join(dir, filePub)); err != nil {
		return fmt.Errorf("applog: %s %s: no database in %s: %w", verb, id.Short(), dir, err)
	}
	f, err := osfile.OpenFile(filepath.Join(dir, fileBlocked), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	_, err = fmt.Fprintf(f, "%s %s\n", verb, id)
	return errors.Join(err, f.Sync(), f.Close())
}

// blockList is the block list as last read.
type blockList struct {
	mu      sync.Mutex
	checked time.Time
	size    int64
	ids     map[ID]bool
	warned  atomic.Bool // applyBlocks warned of a log it could not delete
}

// blocked returns the current block list (not to be changed), reading
// DIR/blocked again if its size changed.
func (db *DB) blocked() map[ID]bool {
	b := &db.blocks
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if now.Sub(b.checked) < blockCheckEvery && !b.checked.IsZero() {
		return b.ids
	}
	b.checked = now
	path := filepath.Join(db.dir, fileBlocked)
	fi, err := os.Stat(path)
	if err != nil {
		if !isNotExist(err) {
			db.log.Warn("block list not read", "err", err)
		}
		b.ids, b.size = nil, 0
		return nil
	}
	if fi.Size() == b.size {
		return b.ids
	}
	ids, err := readBlocked(path)
	if err != nil {
		db.log.Warn("block list not read", "err", err)
		return b.ids
	}
	b.ids, b.size = ids, fi.Size()
	return ids
}

func readBlocked(path string) (map[ID]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("applog: %w", err)
	}
	if len(data) > maxBlockFile {
		return nil, fmt.Errorf("applog: %s: %d bytes, limit %d", path, len(data), maxBlockFile)
	}
	ids := map[ID]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		verb, s, ok := strings.Cut(sc.Text(), " ")
		id, err := ParseID(s)
		if !ok || err != nil {
			continue // a torn last line, or not ours
		}
		switch verb {
		case "block":
			ids[id] = true
		case "unblock":
			delete(ids, id)
		}
	}
	return ids, nil
}

// Blocked reports whether log id is on the block list.
func (db *DB) Blocked(id ID) bool { return db.blocked()[id] }

// BlockedLogs returns the blocked logs, sorted.
func (db *DB) BlockedLogs() []ID {
	var out []ID
	for id := range db.blocked() {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// deleteBlocked deletes, before a writer's recovery, the files of every
// blocked log but the own one, and then the state file, so that Open
// recovers every log from its files (the logs table keeps the log's
// ordinal; its files are made again, empty). Nothing acknowledged of
// another log is lost: the state is derived data.
func (db *DB) deleteBlocked() error {
	ids, err := readBlocked(filepath.Join(db.dir, fileBlocked))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	deleted := false
	for id := range ids {
		if id == db.id {
			continue // the own log is never deleted
		}
		dir := filepath.Join(db.dir, string(id))
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		if err := db.fs.removeAll(dir); err != nil {
			return fmt.Errorf("applog: deleting blocked log %s: %w", id.Short(), err)
		}
		db.log.Info("deleted a blocked log", "log", id)
		deleted = true
	}
	if !deleted {
		return nil
	}
	if err := db.fs.remove(filepath.Join(db.dir, fileState)); err != nil && !isNotExist(err) {
		return fmt.Errorf("applog: %w", err)
	}
	return db.fs.syncDir(db.dir)
}

// appendBlockedNotHeld appends to logs a blocked entry for each blocked
// log that logs does not list.
func (db *DB) appendBlockedNotHeld(logs []LogInfo) []LogInfo {
	ids := db.BlockedLogs()
	if len(ids) == 0 {
		return logs
	}
	listed := make(map[ID]bool, len(logs))
	for _, li := range logs {
		listed[li.ID] = true
	}
	for _, id := range ids {
		if !listed[id] {
			logs = append(logs, LogInfo{ID: id, Blocked: true})
		}
	}
	return logs
}

// watchBlocks applies the block list in a running writer: every
// blockCheckEvery it re-reads the list (if its size changed) and deletes
// the data of each newly blocked log (applyBlocks), until stop is
// closed.
func (db *DB) watchBlocks(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(blockCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			db.applyBlocks()
		}
	}
}

// applyBlocks re-reads the block list now (its size, and the list if
// that changed) and deletes the data of every blocked log that still has
// some (see dropLog). Writer only. It does not wait for the list's own
// blockCheckEvery cache: re-armed by the last tick a hair less than
// blockCheckEvery ago, that would skip every other tick.
func (db *DB) applyBlocks() {
	db.blocks.mu.Lock()
	db.blocks.checked = time.Time{}
	db.blocks.mu.Unlock()
	for _, id := range db.BlockedLogs() {
		if id == db.id || !db.hasData(id) {
			continue
		}
		r := &request{drop: id}
		db.submit(r)
		if r.err != nil {
			// retried every blockCheckEvery (on Windows a file another
			// process has open cannot be removed): warned once
			if !errors.Is(r.err, ErrClosed) && !db.blocks.warned.Swap(true) {
				db.log.Warn("blocked log not deleted, retrying", "log", id, "err", r.err)
			}
			continue
		}
		db.log.Info("deleted a blocked log", "log", id)
	}
}

// skipsBlocked reports whether a writer leaves the log of pub unloaded
// because it is blocked: loading it would make its files again (see
// openLog), and the own log is never blocked.
func (db *DB) skipsBlocked(pub ed25519.PublicKey) bool {
	id := idOf(pub)
	return !db.readOnly && id != db.id && db.blocked()[id]
}

// hasData reports whether log id is loaded, has a directory, or has a
// state entry that dropLog has not cleared: whether dropLog has anything
// to do.
func (db *DB) hasData(id ID) bool {
	if _, ok := db.tab.byID.Load(id); ok {
		return true
	}
	if pub, ok := id.publicKey(); ok {
		if ord, held := db.tab.lookup(pub); held && !db.tab.isCleared(ord) {
			return true
		}
	}
	_, err := os.Stat(filepath.Join(db.dir, string(id)))
	return err == nil
}

// dropLog deletes the data of the blocked log id in a running writer.
// The leader runs it at the start of round rd, so no round writes or
// syncs the log meanwhile: it waits for the round before rd to publish
// (rounds end with every write, seal and sync done and the files let
// go). Then, with no log being loaded:
//
//  1. the log is unloaded (readers that hold it find its files gone: an
//     error for that log only), and its state entry is made unknown and
//     fdatasynced, so that no later Open trusts its old sizes;
//  2. the file cache forgets its files and the mapped indexes are
//     unmapped;
//  3. its directory is removed, and DIR fsynced.
//
// The table keeps the log's ordinal. While the log is blocked a writer
// does not load it again (logAt), so no file of it is made; after
// Unblock it loads empty, its files are made again, and Insert stores it
// from seq 1. The error is the request's; the writer goes on.
func (db *DB) dropLog(rd *round, id ID) error {
	if id == db.id {
		return nil // the own log is never deleted
	}
	if rd.prev != nil {
		<-rd.prev.published // it may have written the log; its heads are stored
	}
	pub, ok := id.publicKey()
	if !ok {
		return nil
	}
	db.tab.loadMu.Lock()
	defer db.tab.loadMu.Unlock()
	ord, held := db.tab.lookup(pub)
	var segs []*segment
	if held {
		if v, ok := db.tab.loaded.Load(ord); ok {
			l := v.(*logState)
			if l.w.seg != nil || l.w.idx != nil || l.w.seal != nil || l.w.write != nil {
				return fmt.Errorf("applog: delete blocked log %s: files still held by the writer", id.Short())
			}
			segs = l.segments()
			l.dropped.Store(true) // iterators that still hold it fail with ErrBlocked
			db.tab.loaded.Delete(ord)
			db.tab.byID.Delete(id)
			db.tab.nLoaded.Add(-1)
		}
		if db.st.f != nil && ord < db.st.count() && !db.tab.isCleared(ord) {
			// once: a retry (a directory Windows would not remove yet)
			// finds it done
			var zero [stateEntrySize]byte
			if _, err := db.fs.writeAt(db.st.f, zero[:], stateEntryOffset(ord)); err != nil {
				return fmt.Errorf("applog: delete blocked log %s: write state: %w", id.Short(), err)
			}
			if err := db.fs.sync(db.st.f); err != nil {
				return fmt.Errorf("applog: delete blocked log %s: %w", id.Short(), err)
			}
		}
		db.tab.clear(ord)
		db.st.clearExact(ord)
	}
	dir := filepath.Join(db.dir, string(id))
	db.files.dropDir(dir)
	db.mapMu.Lock()
	for _, s := range segs {
		s.unmap()
	}
	db.mapMu.Unlock()
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	if err := db.fs.removeAll(dir); err != nil {
		return fmt.Errorf("applog: delete blocked log %s: %w", id.Short(), err)
	}
	return db.fs.syncDir(db.dir)
}
