package applog

import (
	"crypto/ed25519"
	"fmt"
)

// Adding a log costs three file creations (its directory, first segment
// and index) and the syncs that make them durable. Creations are slow
// on some file systems (over a millisecond of kernel time each here), so
// Insert makes them in the caller's goroutine before the commit round
// (logOpener.prepare), where concurrent inserters make them in parallel, and the
// round only adopts the files and syncs them together with its data.

// addLog adds a log to the table and opens it, creating its directory
// and first segment unless logOpener.prepare did. Writer only; the caller is the
// leader or Open. With a round, nothing is synced here: the round syncs
// the table, DIR and the new log's directory together with its data,
// before anything is acknowledged or named in the feed (see "New logs"
// in doc.go), so the logs new in one round share one sync. Without one
// (Open), it syncs before it returns.
func (db *DB) addLog(pub ed25519.PublicKey, rd *round) (*logState, error) {
	db.tab.ensure() // the ordinal follows every listed one
	rec := appendLogsRecord(nil, pub)
	if _, err := db.fs.writeAt(db.tab.f, rec, db.tab.fileLen); err != nil {
		return nil, fmt.Errorf("applog: add log: %w", err)
	}
	if rd == nil {
		if err := db.fs.sync(db.tab.f); err != nil {
			return nil, err
		}
	} else if !rd.newLogs {
		rd.newLogs = true
		rd.syncPlain = append(rd.syncPlain, db.tab.f)
		rd.dirs = append(rd.dirs, db.dir)
	}
	db.tab.fileLen += int64(len(rec))
	ord := uint32(db.tab.len())
	l, err := db.lo.open(ord, pub, nil, false, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		rd.dirs = append(rd.dirs, l.dir)
		// prepare's index header is not synced yet either; the
		// segment's is synced with the round's data
		l.w.idxDirty = true
	}
	// loaded before it is listed, so that no reader loads it again
	db.tab.store(l)
	db.tab.nLoaded.Add(1)
	db.tab.add(pub)
	return l, nil
}
