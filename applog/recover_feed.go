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

// recover opens the feed file for writing and repairs it (writer Open)
// from the state header ck, the entries of the nlogs logs and the logs
// loaded:
//
//  1. Open it and check its header (openFile). Start from the state
//     header's feed length and the entries' feed heads if the state is
//     usable (the feed was fsynced up to there before that length was
//     written, and the feed only ever grows past it; an entry's feed
//     head may be older, which costs at most a repeated feed record);
//     otherwise from the header with every head 0.
//  2. Scan the records after that point (scan); the first one that
//     is short, fails its CRC or names an unknown log ends the feed: cut
//     it there.
//  3. For every log whose durable head is beyond the last head the feed
//     names for it, append a feed record (ord, head) (repair):
//     entries made durable just before a crash join the feed at its end.
func (fw *feedWriter) recover(ck *stateHeader, nlogs int, entries []logCheckpoint, loaded []*logState) error {
	size, ck, err := fw.openFile(ck)
	if err != nil {
		return err
	}
	heads := make([]uint64, nlogs)
	off := int64(fileHeaderSize)
	if ck != nil && ck.feedLen >= fileHeaderSize && ck.feedLen <= size && (ck.feedLen-fileHeaderSize)%feedRecordSize == 0 && int(ck.n) <= nlogs {
		off = ck.feedLen
		for i, lc := range entries {
			heads[i] = lc.feedHead
		}
	}
	if off, err = fw.scan(off, size, heads); err != nil {
		return err
	}
	if off != size {
		if size-off > feedRecordSize {
			// more than a torn last record: damage
			fw.repairs.note("feed record at offset %d is damaged: the feed is cut there (%d bytes) and repaired from the logs' heads", off, size-off)
		}
		fw.log.Warn("applog: cutting feed tail", "offset", off, "size", size)
		if err := fw.fs.truncate(fw.f, off); err != nil {
			return fmt.Errorf("applog: cut feed: %w", err)
		}
	}
	fw.size = off
	fw.hintLen = off
	fw.synced = -1 // unknown: the next checkpoint syncs it
	if ck != nil && ck.feedLen == size && off == size {
		fw.synced = off // as the last clean Close left it
	}
	return fw.repair(loaded, heads)
}

// openFile opens (or creates) the feed file for writing and checks its
// header (step 1 of recover). It returns the file's size, and ck,
// or nil if the feed was made anew: a feed whose header is damaged is
// moved aside (feed.corrupt-<time>) and a new one made.
func (fw *feedWriter) openFile(ck *stateHeader) (int64, *stateHeader, error) {
	path := filepath.Join(fw.dir, fileFeed)
	f, err := fw.fs.openFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, nil, fmt.Errorf("applog: %w", err)
	}
	fw.f = f
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, fmt.Errorf("applog: %w", err)
	}
	size := fi.Size()
	var h [fileHeaderSize]byte
	n, _ := readFull(fw.fs, f, h[:], 0)
	err = checkFileHeader(h[:n], magicFeed, 0)
	if err == nil {
		return size, ck, nil
	}
	if size > fileHeaderSize {
		// keep the damaged feed for inspection, start a new one
		aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().UnixNano())
		fw.repairs.note("feed header was damaged (%v): moved to %s, a new feed made from the logs' heads", err, aside)
		f.Close()
		fw.f = nil
		if err := fw.fs.rename(path, aside); err != nil {
			return 0, nil, fmt.Errorf("applog: %w", err)
		}
		return fw.openFile(nil)
	}
	if err := resetFile(fw.fs, f, magicFeed, 0); err != nil {
		return 0, nil, err
	}
	if err := fw.fs.syncDir(fw.dir); err != nil {
		return 0, nil, err
	}
	return fileHeaderSize, nil, nil
}

// scan reads the feed's records from off up to size into heads (the
// highest head each names per ordinal), and returns the offset after
// the last good one: the first that is short, fails its CRC or names an
// unknown log ends the feed (step 2 of recover).
func (fw *feedWriter) scan(off, size int64, heads []uint64) (int64, error) {
	buf := make([]byte, 64<<10)
	for off < size {
		n, err := readFull(fw.fs, fw.f, buf[:min(int64(len(buf)), size-off)], off)
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

// repair appends (ord, head) for every one of the loaded logs whose
// durable head is beyond heads[ord], the last the feed names for it
// (step 3 of recover).
func (fw *feedWriter) repair(loaded []*logState, heads []uint64) error {
	var repair []byte
	for _, l := range loaded {
		l.feedHead = heads[l.ord]
		if l.w.head > heads[l.ord] {
			repair = appendFeedRecord(repair, feedRecord{ord: l.ord, head: l.w.head})
			l.feedHead = l.w.head
		}
	}
	if len(repair) == 0 {
		return nil
	}
	fw.log.Info("applog: feed repaired", "records", len(repair)/feedRecordSize)
	if _, err := fw.fs.writeAt(fw.f, repair, fw.size); err != nil {
		return fmt.Errorf("applog: repair feed: %w", err)
	}
	fw.size += int64(len(repair))
	return nil
}
