package applog

import (
	"bytes"
	"os"
	"path/filepath"
)

// This file writes and reads the state file (see "State" in doc.go).

// readCheckpoint reads the state file; nil if missing or damaged.
func (db *DB) readCheckpoint() *checkpoint {
	b, err := os.ReadFile(filepath.Join(db.dir, fileState))
	if err != nil {
		if !isNotExist(err) {
			db.log.Warn("applog: reading checkpoint", "err", err)
		}
		return nil
	}
	ck, err := decodeCheckpoint(b)
	if err != nil {
		db.log.Warn("applog: ignoring damaged checkpoint", "err", err)
		return nil
	}
	if !db.readOnly {
		db.openCkB = b
	}
	return ck
}

// writeCheckpoint syncs every tail and the feed and records their sizes
// in the state file.
//
// Only what was written since its last sync is synced, all at once
// (syncAll): a tiny append already synced its segment in its round, so
// closing after it syncs just the feed and that log's index, together;
// the other logs' files, untouched since open, cost nothing. If nothing
// changed since Open, the state file is not rewritten.
func (db *DB) writeCheckpoint() error {
	if err := db.flushAll(); err != nil {
		return err
	}
	var files []*os.File
	if db.feedSync != db.feedLen {
		files = append(files, db.feedF)
	}
	t := db.logs.Load()
	ck := &checkpoint{feedLen: db.feedLen, logs: make([]logCheckpoint, len(t.list))}
	var synced []*logState
	for i, l := range t.list {
		ck.logs[i].feedHead = l.feedHead
		if l.w.seg == nil || l.broken.Load() != nil {
			continue // tailBase 0 never matches: the next open scans
		}
		if l.w.idxDirty {
			files = append(files, l.w.idx)
		}
		if l.w.dirty {
			files = append(files, l.w.seg)
		}
		if l.w.idxDirty || l.w.dirty {
			synced = append(synced, l)
		}
		ck.logs[i] = logCheckpoint{
			tailBase: l.w.tail.base,
			segSize:  l.w.segSize,
			idxSize:  fileHeaderSize + int64(l.w.head+1-l.w.tail.base)*indexEntrySize,
			head:     l.w.head,
			feedHead: l.feedHead,
		}
	}
	if err := syncAll(files, nil); err != nil {
		return err
	}
	db.feedSync = db.feedLen
	for _, l := range synced {
		l.w.dirty, l.w.idxDirty = false, false
	}
	b := encodeCheckpoint(ck)
	if bytes.Equal(b, db.openCkB) {
		return nil // still true as it is
	}
	// No fsync: the state is a CRC-checked hint about data already
	// synced; a lost rename leaves the previous state, which is still true.
	return writeFileHint(filepath.Join(db.dir, fileState), b)
}

// hintEvery is how much the feed may grow between two state files, so
// that the feed scan after a crash stays bounded (~65,000 commits).
const hintEvery = 1 << 20

// writeFeedHint refreshes the state file's feed part while the writer
// runs: fsync the feed, then record its length and the per-log feed
// heads. The per-log tail entries are those found at Open: still true
// durable floors, and a "nothing written since" claim only where that is
// still the case. Called under qmu after a feed write.
func (db *DB) writeFeedHint() {
	if db.feedLen-db.hintLen < db.hintStep {
		return
	}
	db.hintLen = db.feedLen
	if err := fdatasync(db.feedF); err != nil {
		db.log.Warn("applog: feed hint", "err", err)
		return
	}
	db.feedSync = db.feedLen
	t := db.logs.Load()
	ck := &checkpoint{feedLen: db.feedLen, logs: make([]logCheckpoint, len(t.list))}
	for i, l := range t.list {
		if db.openCk != nil && i < len(db.openCk.logs) {
			ck.logs[i] = db.openCk.logs[i]
		}
		ck.logs[i].feedHead = l.feedHead
	}
	if err := writeFileHint(filepath.Join(db.dir, fileState), encodeCheckpoint(ck)); err != nil {
		db.log.Warn("applog: feed hint", "err", err)
	}
}
