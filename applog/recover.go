package applog

import (
	"fmt"
	"os"
	"path/filepath"

	"scuttle/applog/internal/parallel"
)

// This file is the writer's recovery, in the order of "Recovery" in
// doc.go: recover runs the steps, the functions after it are the steps;
// one log's tail is recovered in recover_tail.go, the feed in
// recover_feed.go.

// recover is the writer's Open after the lock and key pair:
//
//  1. Read the state header (stateFile.open) and the log table
//     (logTable.read).
//  2. If the state says clean, lists every log of the table and the feed
//     has the length it records, nothing was committed since: load only
//     the own log now, and every other log on first use, cut back to
//     its state entry (logAt, logOpener.open,
//     tailRecovery.cutToCheckpoint). Done.
//  3. Otherwise load every log now, recovering each tail
//     (tailRecovery.recover, several at once); find the logs the table does not list from
//     their directories (findLost, addLost); add the own log if missing.
//  4. Repair the feed (feedWriter.recover).
func (db *DB) recover() error {
	if err := db.st.open(); err != nil {
		return err
	}
	f, err := db.fs.openFile(filepath.Join(db.dir, fileLogs), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	db.tab.f = f
	db.tab.fileMu.Lock()
	defer db.tab.fileMu.Unlock()
	if ok, err := db.openClean(); ok || err != nil {
		return err
	}
	db.st.lazy = false
	if err := db.tab.read(); err != nil {
		return err
	}
	lost, err := db.tab.findLost(true)
	if err != nil {
		return err
	}
	db.st.setAll(db.st.readAll()) // every log is loaded now
	if err := db.loadAll(); err != nil {
		return err
	}
	if err := db.addLost(lost); err != nil {
		return err
	}
	defer func() { db.fw.end.Store(db.fw.size) }()
	if ord, ok := db.tab.lookup(db.sign.pub); ok {
		db.own = db.tab.loadedLog(ord)
	}
	if db.own == nil {
		l, err := db.addLog(db.sign.pub, nil)
		if err != nil {
			return err
		}
		db.own = l
	}
	return db.fw.recover(db.st.hdr, db.tab.len(), db.st.allEntries(), db.tab.loadedLogs())
}

// openClean is step 2 of recover: if the state header says clean, the
// table lists the logs it records and the feed has the length it
// records, it loads the own log and leaves the table's keys to be read
// on first need. It reports false if the database was not closed cleanly
// (then nothing is changed).
func (db *DB) openClean() (bool, error) {
	h := db.st.hdr
	if h == nil || !h.clean {
		return false, nil
	}
	if !db.tab.lists(h.n, h.own, db.sign.pub) || !db.fw.resume(h.feedLen) {
		return false, nil
	}
	db.st.lazy, db.st.clean = true, true
	db.tab.readLater(int(h.n))
	ck, _ := db.st.checkpoint(h.own, db.tab.isRecovered)
	own, err := db.lo.open(h.own, db.sign.pub, ck, true, nil)
	if err != nil {
		return true, err
	}
	db.tab.store(own)
	db.tab.nLoaded.Add(1)
	db.own = own
	return true, nil
}

// maxLoading bounds the logs loadAll recovers at once.
const maxLoading = 8

// loadAll loads every log of the table (step 3 of recover).
func (db *DB) loadAll() error {
	n := db.tab.len()
	logs := make([]*logState, n)
	err := parallel.Each(n, maxLoading, func(i int) error {
		pub, ok := db.tab.key(uint32(i))
		if !ok || db.blocks.skips(pub) {
			return nil // a hole, or a blocked log: not loaded (see logAt)
		}
		ck, _ := db.st.checkpoint(uint32(i), db.tab.isRecovered)
		l, err := db.lo.open(uint32(i), pub, ck, false, nil)
		logs[i] = l
		return err
	})
	if err != nil {
		return err
	}
	seen := make(map[ID]bool, n)
	for _, l := range logs {
		if l == nil {
			continue
		}
		if seen[l.id] {
			return fmt.Errorf("applog: %s: log %s listed twice", fileLogs, l.id)
		}
		seen[l.id] = true
		db.tab.store(l)
	}
	db.tab.nLoaded.Store(int64(len(seen)))
	return nil
}

// addLost adds, at new ordinals, the logs findLost found and could not
// put in a hole (a table cut short, or more lost logs than holes).
// Their records are adopted from their files (see addLog), so a damaged
// table costs a log its place in the feed, never an entry.
func (db *DB) addLost(lost []lostLog) error {
	for _, l := range lost {
		db.repairs.note("log %s was not in the log table: re-added from its directory", idOf(l.pub))
		if _, err := db.addLog(l.pub, nil); err != nil {
			return err
		}
	}
	return nil
}
