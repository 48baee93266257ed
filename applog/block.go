package applog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Blocking a log: the user's way to get rid of a spammer. The block
// list is DIR/blocked, lines "block ID" or "unblock ID" appended by Block
// and Unblock (fsynced), the last line of an ID winning. Any process may
// append to it, also while a writer holds the database: the writer
// re-reads it when its size changes, looking at most every
// blockCheckEvery, so a block applies within a second. A blocked log is
// refused by Insert (ErrBlocked), left out of Heads (so it is neither
// advertised nor sent to peers) and of the Feed, and listed by Logs as
// blocked; a writer's Open deletes its data (see deleteBlocked). Unblock lets it come back
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
	f, err := os.OpenFile(filepath.Join(dir, fileBlocked), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
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
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("applog: deleting blocked log %s: %w", id.Short(), err)
		}
		db.log.Info("deleted a blocked log", "log", id)
		deleted = true
	}
	if !deleted {
		return nil
	}
	if err := os.Remove(filepath.Join(db.dir, fileState)); err != nil && !isNotExist(err) {
		return fmt.Errorf("applog: %w", err)
	}
	return syncDir(db.dir)
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
