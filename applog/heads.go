package applog

// This file lists the logs held and their heads: Head, Heads and Logs,
// answered from memory and the state entries where they can be.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Head returns the highest durable seq held of log id; 0 if none.
func (db *DB) Head(id ID) uint64 {
	l, err := db.logOf(id, true)
	if l == nil || err != nil {
		return 0
	}
	db.lo.refresh(l)
	return l.head.Load()
}

// Heads returns every log held and its head (durable records only). A
// writer answers from memory and the state file, without opening a
// log's files; so does a reader while no writer has committed since it
// opened (see stateFile.unchanged); else it looks at each log's tail.
func (db *DB) Heads() map[ID]uint64 {
	m := make(map[ID]uint64)
	blocked := db.blocks.list()
	db.eachHead(func(l logHeadInfo) error {
		if !blocked[l.id] {
			m[l.id] = l.head
		}
		return nil
	})
	return m
}

// logHeadInfo is what eachHead knows of a log.
type logHeadInfo struct {
	id    ID
	head  uint64
	bytes int64 // bytes of its files; -1 if not known without looking
}

// eachHead calls fn for every log held, in ordinal order, with its head.
// Logs not loaded that the state describes exactly (a clean writer Open,
// or a reader while unchanged) are answered from the state entries, read
// all at once, and stay unloaded.
func (db *DB) eachHead(fn func(logHeadInfo) error) error {
	db.refreshTable()
	n := db.tab.len()
	var entries []logCheckpoint
	exact := (db.st.lazy && !db.readOnly) || db.st.unchanged() // every entry of the state Open found
	unloaded := db.st.anyExact()                               // and those of unloaded logs (unload.go)
	if (exact || unloaded) && int(db.tab.nLoaded.Load()) < n {
		entries = db.st.allEntries()
		if entries == nil || (unloaded && len(entries) < n) {
			entries = db.st.readN(uint32(n))
			if !db.readOnly {
				db.st.setAll(entries) // true until Close, or the next unload
			}
		}
	}
	for ord := range uint32(n) {
		var info logHeadInfo
		if l := db.tab.loadedLog(ord); l != nil {
			db.lo.refresh(l)
			info = logHeadInfo{id: l.id, head: l.head.Load(), bytes: -1}
			if c := l.ck; c != nil && c.head == info.head && c.tailBase == 1 && c.idxSize > 0 && db.readOnly {
				info.bytes = c.segSize + c.idxSize
			}
		} else if int(ord) < len(entries) && entries[ord].tailBase != 0 && (db.st.isExact(ord) || exact && ord < db.st.count() && !db.tab.isRecovered(ord)) {
			pub, ok := db.tab.key(ord)
			if !ok {
				continue
			}
			e := entries[ord]
			info = logHeadInfo{id: idOf(pub), head: e.head, bytes: -1}
			if e.tailBase == 1 && e.idxSize > 0 {
				info.bytes = e.segSize + e.idxSize
			}
		} else {
			l, err := db.logAt(ord)
			if err != nil {
				return err
			}
			if l == nil {
				continue // a hole, or a blocked log (see dropLog)
			}
			db.lo.refresh(l)
			info = logHeadInfo{id: l.id, head: l.head.Load(), bytes: -1}
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// LogInfo describes one log held.
type LogInfo struct {
	ID   ID
	Head uint64 // the highest durable seq held (see DB.Head)
	// Entries is the number of entries held: always Head, since a log
	// holds every seq from 1 to its head. Kept for the callers that
	// count entries rather than read seqs.
	Entries uint64
	Bytes   int64  // bytes on disk: segments and indexes
	Own     bool   // the database's own log
	Forked  uint64 // the seq at which the log is forked (see Forked); 0 if it is not
	Blocked bool   // on the block list (see Block): refused, and its data deleted (see Block)
}

// Logs lists the logs held, in the order they were first stored, and
// then the blocked logs never held.
func (db *DB) Logs() ([]LogInfo, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	blocked := db.blocks.list()
	var out []LogInfo
	err := db.eachHead(func(l logHeadInfo) error {
		info := LogInfo{ID: l.id, Head: l.head, Entries: l.head, Own: l.id == db.id, Bytes: l.bytes, Forked: db.Forked(l.id), Blocked: blocked[l.id]}
		if l.bytes < 0 {
			info.Bytes = 0
			ents, err := os.ReadDir(filepath.Join(db.dir, string(l.id)))
			if err != nil && !isNotExist(err) {
				return fmt.Errorf("applog: %w", err)
			}
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".seg") || strings.HasSuffix(e.Name(), ".idx") {
					if fi, err := e.Info(); err == nil {
						info.Bytes += fi.Size()
					}
				}
			}
		}
		out = append(out, info)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.blocks.appendNotHeld(out), nil
}
