package applog

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Adding a log costs three file creations (its directory, first segment
// and index) and the syncs that make them durable. Creations are slow
// on some file systems (over a millisecond of kernel time each here), so
// Insert makes them in the caller's goroutine before the commit round
// (prepareLog), where concurrent inserters make them in parallel, and the
// round only adopts the files and syncs them together with its data.

// prepareLog creates the directory and first segment files of log id, not
// yet held, with their headers, and syncs nothing: the commit round that
// adds the log (addLog) syncs them. It never truncates or overwrites an
// existing file, so it is harmless if the log was added meanwhile;
// concurrent calls for one id wait for the first. Errors are left for
// addLog to meet and report.
func (db *DB) prepareLog(id ID) {
	ch := make(chan struct{})
	if c, loaded := db.preparing.LoadOrStore(id, ch); loaded {
		<-c.(chan struct{})
		return
	}
	defer func() {
		db.preparing.Delete(id)
		close(ch)
	}()
	dir := filepath.Join(db.dir, string(id))
	if err := db.fs.mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return
	}
	s := newSegment(dir, 1)
	for _, f := range []struct {
		path  string
		magic [8]byte
	}{{s.seg, magicSegment}, {s.idx, magicIndex}} {
		fh, err := db.fs.openFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			continue // exists already: the writer's open checks it
		}
		h := fileHeader(f.magic, 1)
		_, _ = db.fs.writeAt(fh, h[:], 0)
		fh.Close()
	}
}

// addLog adds a log to the table and opens it, creating its directory
// and first segment unless prepareLog did. Writer only; the caller is the
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
		// prepareLog's index header is not synced yet either; the
		// segment's is synced with the round's data
		l.w.idxDirty = true
	}
	// loaded before it is listed, so that no reader loads it again
	db.tab.store(l)
	db.tab.nLoaded.Add(1)
	db.tab.add(pub)
	return l, nil
}
