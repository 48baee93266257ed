package applog

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
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
// blocked. A writer deletes its data: at Open (deleteAll), and
// while it runs within about a second of the block (applyBlocks,
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

// ErrOwnLog is returned by DB.Block for the database's own log.
var ErrOwnLog = errors.New("applog: the database's own log")

// Block adds log id to the block list of db's directory, as Block does,
// unless it is db's own log (ErrOwnLog). db refuses the log from then
// on (Blocked); a writer, db or another process's, deletes the log's
// data within a second (see applyBlocks). db may be read-only.
func (db *DB) Block(id ID) error {
	if id == db.id {
		return fmt.Errorf("%w %s: not blocked", ErrOwnLog, id)
	}
	if err := Block(db.blocks.dir, id); err != nil {
		return err
	}
	db.blocks.reread()
	return nil
}

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

	dir      string // the database's directory, which holds the list
	own      ID     // never deleted, never skipped
	readOnly bool
	log      *slog.Logger
}

// list returns the current block list (not to be changed), reading
// DIR/blocked again if its size changed.
func (b *blockList) list() map[ID]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if now.Sub(b.checked) < blockCheckEvery && !b.checked.IsZero() {
		return b.ids
	}
	b.checked = now
	path := filepath.Join(b.dir, fileBlocked)
	fi, err := os.Stat(path)
	if err != nil {
		if !isNotExist(err) {
			b.log.Warn("block list not read", "err", err)
		}
		b.ids, b.size = nil, 0
		return nil
	}
	if fi.Size() == b.size {
		return b.ids
	}
	ids, err := readBlocked(path)
	if err != nil {
		b.log.Warn("block list not read", "err", err)
		return b.ids
	}
	b.ids, b.size = ids, fi.Size()
	return ids
}

// sorted returns the blocked logs, sorted.
func (b *blockList) sorted() []ID {
	var out []ID
	for id := range b.list() {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// reread makes the next list look at DIR/blocked now, whatever its
// blockCheckEvery cache says.
func (b *blockList) reread() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checked = time.Time{}
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
func (db *DB) Blocked(id ID) bool { return db.blocks.list()[id] }

// BlockedLogs returns the blocked logs, sorted.
func (db *DB) BlockedLogs() []ID { return db.blocks.sorted() }

// deleteAll deletes, before a writer's recovery, the files of every
// blocked log but the own one, and then the state file, so that Open
// recovers every log from its files (the logs table keeps the log's
// ordinal; its files are made again, empty). Nothing acknowledged of
// another log is lost: the state is derived data.
func (b *blockList) deleteAll(fsys fileSystem) error {
	ids, err := readBlocked(filepath.Join(b.dir, fileBlocked))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	deleted := false
	for id := range ids {
		if id == b.own {
			continue // the own log is never deleted
		}
		dir := filepath.Join(b.dir, string(id))
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		if err := fsys.removeAll(dir); err != nil {
			return fmt.Errorf("applog: deleting blocked log %s: %w", id.Short(), err)
		}
		b.log.Info("deleted a blocked log", "log", id)
		deleted = true
	}
	if !deleted {
		return nil
	}
	if err := fsys.remove(filepath.Join(b.dir, fileState)); err != nil && !isNotExist(err) {
		return fmt.Errorf("applog: remove %s: %w", fileState, err)
	}
	return fsys.syncDir(b.dir)
}

// appendNotHeld appends to logs a blocked entry for each blocked log
// that logs does not list.
func (b *blockList) appendNotHeld(logs []LogInfo) []LogInfo {
	ids := b.sorted()
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

// watch calls apply every blockCheckEvery, until stop is closed; then
// it closes done. A running writer applies the block list so (see
// applyBlocks).
func (b *blockList) watch(stop <-chan struct{}, done chan<- struct{}, apply func()) {
	defer close(done)
	t := time.NewTicker(blockCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			apply()
		}
	}
}

// applyBlocks re-reads the block list now (its size, and the list if
// that changed) and deletes the data of every blocked log that still has
// some (see dropLog). Writer only. It does not wait for the list's own
// blockCheckEvery cache: re-armed by the last tick a hair less than
// blockCheckEvery ago, that would skip every other tick.
func (db *DB) applyBlocks() {
	db.blocks.reread()
	for _, id := range db.blocks.sorted() {
		if id == db.id || !db.tab.hasData(id) {
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

// skips reports whether a writer leaves the log of pub unloaded because
// it is blocked: loading it would make its files again (see logOpener.open),
// and the own log is never blocked.
func (b *blockList) skips(pub ed25519.PublicKey) bool {
	id := idOf(pub)
	return !b.readOnly && id != b.own && b.list()[id]
}

// dropLog deletes the data of the blocked log id in a running writer.
// The leader runs it at the start of its round, so no round writes or
// syncs the log meanwhile: it waits for the round before to publish
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
func (rw *roundWriter) dropLog(id ID) error {
	db, rd := rw.db, rw.rd
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
		var err error
		if segs, err = db.tab.drop(ord, id); err != nil {
			return err
		}
		if !db.tab.isCleared(ord) {
			// once: a retry (a directory Windows would not remove yet)
			// finds it done
			if err := db.st.clearEntries([]uint32{ord}); err != nil {
				return err
			}
		}
		db.tab.clear(ord)
		db.st.clearExact(ord)
	}
	dir := filepath.Join(db.dir, string(id))
	db.files.dropDir(dir)
	db.rr.mapMu.Lock()
	for _, s := range segs {
		s.unmap()
	}
	db.rr.mapMu.Unlock()
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	if err := db.fs.removeAll(dir); err != nil {
		return fmt.Errorf("applog: delete blocked log %s: %w", id.Short(), err)
	}
	return db.fs.syncDir(db.dir)
}
