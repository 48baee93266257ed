package applog

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// feedWriter is the writing end of the feed file, in the writer's
// process: publish appends the records of each round, Open repairs it
// (recover, before any round), Close catches it up and syncs it
// (writeCheckpoint), and feed hints record its durable length (hint). Its mutex guards its state and each log's feedHead; the
// committer calls publish under its own lock, so the order is always
// committer.mu, then feedWriter.mu.
type feedWriter struct {
	mu       sync.Mutex
	f        *os.File     // the feed file, open for writing
	size     int64        // size of the feed
	end      atomic.Int64 // size, for feed readers without the lock
	buf      []byte       // the records of a round
	synced   int64        // the feed is durable up to here (-1: unknown)
	hintLen  int64        // feed size at the last feed hint
	hintStep int64        // write a feed hint when the feed grew this much (hintEvery)
	hintMu   sync.Mutex   // one feed hint at a time

	fs      fileSystem
	dir     string     // the database's directory, which holds the feed
	repairs *repairLog // where recover notes damage
	log     *slog.Logger
}

// publish appends a feed record for each head past the highest the feed
// names of its log. It returns the feed length at which a feed hint is
// due, 0 if none is (or hintable is false: no state file to record it).
// The logs are durable already: a failed write is logged, and the next
// Open repairs the feed.
func (fw *feedWriter) publish(heads []logHead, hintable bool) (hint int64) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.buf = fw.buf[:0]
	for _, h := range heads {
		if h.head > h.l.feedHead {
			fw.buf = appendFeedRecord(fw.buf, feedRecord{ord: h.l.ord, head: h.head})
			h.l.feedHead = h.head
		}
	}
	if len(fw.buf) > 0 {
		if _, ferr := fw.fs.writeAt(fw.f, fw.buf, fw.size); ferr != nil {
			// The logs are durable; the next open repairs the feed.
			fw.log.Error("applog: feed write failed", "err", ferr)
		} else {
			fw.size += int64(len(fw.buf))
			fw.end.Store(fw.size)
			if fw.size-fw.hintLen >= fw.hintStep && hintable {
				fw.hintLen = fw.size
				hint = fw.size
			}
		}
	}
	return hint
}

// catchUp appends a feed record for each of logs whose writer head is
// past what the feed names, so that the feed names every durable head
// (Close, before it writes a clean state). It returns whether the feed
// must be synced (records written since its last sync) and its length.
func (fw *feedWriter) catchUp(logs []*logState) (unsynced bool, size int64, err error) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	var repair []byte
	for _, l := range logs {
		if l.w.head > l.feedHead {
			repair = appendFeedRecord(repair, feedRecord{ord: l.ord, head: l.w.head})
			l.feedHead = l.w.head
		}
	}
	if len(repair) > 0 {
		if _, err := fw.fs.writeAt(fw.f, repair, fw.size); err != nil {
			return false, 0, fmt.Errorf("applog: write feed: %w", err)
		}
		fw.size += int64(len(repair))
	}
	return fw.synced != fw.size, fw.size, nil
}

// markSynced records that the feed is durable up to size.
func (fw *feedWriter) markSynced(size int64) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.synced = size
}

// hintEvery is how much the feed may grow between two feed hints, so
// that the feed scan after a crash stays bounded (~65,000 commits).
const hintEvery = 1 << 20

// hint refreshes the feed length in st's header while the writer runs:
// fsync the feed up to feedLen, then record that length (see
// stateFile.writeFeedLen; own is the own log's ordinal). Runs outside
// the commit lock, one at a time (hintMu), in the goroutine of the round
// that made the feed grow past the step.
func (fw *feedWriter) hint(feedLen int64, st *stateFile, own uint32) {
	if !fw.hintMu.TryLock() {
		return // a hint is being written; the next round tries again
	}
	defer fw.hintMu.Unlock()
	if err := fw.fs.sync(fw.f); err != nil {
		fw.log.Warn("applog: feed hint", "err", err)
		return
	}
	if err := st.writeFeedLen(own, feedLen); err != nil {
		fw.log.Warn("applog: feed hint", "err", err)
	}
}

// resume opens the feed as a clean Close left it, if it has the length
// feedLen that the clean state header records and its header is good;
// it reports false otherwise, with nothing changed (Open then recovers
// the feed).
func (fw *feedWriter) resume(feedLen int64) bool {
	f, err := fw.fs.openFile(filepath.Join(fw.dir, fileFeed), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	fi, err := f.Stat()
	var hb [fileHeaderSize]byte
	if err == nil {
		_, err = readFull(fw.fs, f, hb[:], 0)
	}
	if err != nil || fi.Size() != feedLen || checkFileHeader(hb[:], magicFeed, 0) != nil {
		f.Close()
		return false
	}
	fw.f = f
	fw.size, fw.synced, fw.hintLen = feedLen, feedLen, feedLen
	fw.end.Store(feedLen)
	return true
}
