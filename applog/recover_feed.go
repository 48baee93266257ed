package applog

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// This file is the last step of the writer's recovery (see recover):
// the feed is cut after its last good record and repaired from the
// logs' heads.

// openFeed opens the feed file for writing and repairs it (writer Open):
//
//  1. Open it and check its header (openFeedFile). Start from the state
//     header's feed length and the entries' feed heads if the state is
//     usable (the feed was fsynced up to there before that length was
//     written, and the feed only ever grows past it; an entry's feed
//     head may be older, which costs at most a repeated feed record);
//     otherwise from the header with every head 0.
//  2. Scan the records after that point (scanFeed); the first one that
//     is short, fails its CRC or names an unknown log ends the feed: cut
//     it there.
//  3. For every log whose durable head is beyond the last head the feed
//     names for it, append a feed record (ord, head) (repairFeed):
//     entries made durable just before a crash join the feed at its end.
func (db *DB) openFeed(ck *stateHeader) error {
	size, ck, err := db.openFeedFile(ck)
	if err != nil {
		return err
	}
	nlogs := db.tab.len()
	heads := make([]uint64, nlogs)
	off := int64(fileHeaderSize)
	if ck != nil && ck.feedLen >= fileHeaderSize && ck.feedLen <= size && (ck.feedLen-fileHeaderSize)%feedRecordSize == 0 && int(ck.n) <= nlogs {
		off = ck.feedLen
		for i, lc := range db.st.allEntries() {
			heads[i] = lc.feedHead
		}
	}
	if off, err = db.scanFeed(off, size, heads); err != nil {
		return err
	}
	if off != size {
		if size-off > feedRecordSize {
			// more than a torn last record: damage
			db.repairs.note("feed record at offset %d is damaged: the feed is cut there (%d bytes) and repaired from the logs' heads", off, size-off)
		}
		db.log.Warn("applog: cutting feed tail", "offset", off, "size", size)
		if err := db.fs.truncate(db.fw.f, off); err != nil {
			return fmt.Errorf("applog: %w", err)
		}
	}
	db.fw.size = off
	db.fw.hintLen = off
	db.fw.synced = -1 // unknown: the next checkpoint syncs it
	if ck != nil && ck.feedLen == size && off == size {
		db.fw.synced = off // as the last clean Close left it
	}
	return db.repairFeed(heads)
}

// openFeedFile opens (or creates) the feed file for writing and checks
// its header (step 1 of openFeed). It returns the file's size, and ck,
// or nil if the feed was made anew: a feed whose header is damaged is
// moved aside (feed.corrupt-<time>) and a new one made.
func (db *DB) openFeedFile(ck *stateHeader) (int64, *stateHeader, error) {
	path := filepath.Join(db.dir, fileFeed)
	f, err := db.fs.openFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, nil, fmt.Errorf("applog: %w", err)
	}
	db.fw.f = f
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, fmt.Errorf("applog: %w", err)
	}
	size := fi.Size()
	var h [fileHeaderSize]byte
	n, _ := readFull(db.fs, f, h[:], 0)
	err = checkFileHeader(h[:n], magicFeed, 0)
	if err == nil {
		return size, ck, nil
	}
	if size > fileHeaderSize {
		// keep the damaged feed for inspection, start a new one
		aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().UnixNano())
		db.repairs.note("feed header was damaged (%v): moved to %s, a new feed made from the logs' heads", err, aside)
		f.Close()
		db.fw.f = nil
		if err := db.fs.rename(path, aside); err != nil {
			return 0, nil, fmt.Errorf("applog: %w", err)
		}
		return db.openFeedFile(nil)
	}
	if err := resetFile(db.fs, f, magicFeed, 0); err != nil {
		return 0, nil, err
	}
	if err := db.fs.syncDir(db.dir); err != nil {
		return 0, nil, err
	}
	return fileHeaderSize, nil, nil
}

// scanFeed reads the feed's records from off up to size into heads (the
// highest head each names per ordinal), and returns the offset after
// the last good one: the first that is short, fails its CRC or names an
// unknown log ends the feed (step 2 of openFeed).
func (db *DB) scanFeed(off, size int64, heads []uint64) (int64, error) {
	buf := make([]byte, 64<<10)
	for off < size {
		n, err := readFull(db.fs, db.fw.f, buf[:min(int64(len(buf)), size-off)], off)
		if err != nil && n == 0 {
			return off, fmt.Errorf("applog: read feed: %w", err)
		}
		b := buf[:n-n%feedRecordSize]
		for len(b) > 0 {
			r, ok := decodeFeedRecord(b)
			if !ok || int(r.ord) >= len(heads) {
				return off, nil
			}
			heads[r.ord] = max(heads[r.ord], r.head)
			b = b[feedRecordSize:]
			off += feedRecordSize
		}
		if n < feedRecordSize {
			break
		}
	}
	return off, nil
}

// repairFeed appends (ord, head) for every loaded log whose durable head
// is beyond heads[ord], the last the feed names for it (step 3 of
// openFeed).
func (db *DB) repairFeed(heads []uint64) error {
	var repair []byte
	for _, l := range db.tab.loadedLogs() {
		l.feedHead = heads[l.ord]
		if l.w.head > heads[l.ord] {
			repair = appendFeedRecord(repair, feedRecord{ord: l.ord, head: l.w.head})
			l.feedHead = l.w.head
		}
	}
	if len(repair) == 0 {
		return nil
	}
	db.log.Info("applog: feed repaired", "records", len(repair)/feedRecordSize)
	if _, err := db.fs.writeAt(db.fw.f, repair, db.fw.size); err != nil {
		return fmt.Errorf("applog: repair feed: %w", err)
	}
	db.fw.size += int64(len(repair))
	return nil
}
