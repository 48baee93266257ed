package applog

// This file loads a log's state from its files (logOpener): a writer
// recovers its tail, a reader finds its durable head and looks again
// for what a writer in another process made durable since.

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// logOpener opens a log's state when the log is loaded (logAt, addLog,
// Open), and refreshes a reader's; for Insert, it makes a new log's files
// before the round that adds it (prepare, see newlog.go).
type logOpener struct {
	dir      string // the database's directory, which holds the log directories
	fs       fileSystem
	files    *fileCache
	readOnly bool
	rr       *recordReader // a writer's recovery reads the record before an empty tail
	st       *stateFile    // a reader looks again only while the state has changed
	log      *slog.Logger

	preparing sync.Map // ID → chan struct{}: new logs whose files are being made (prepare)
}

// open opens the log of public key pub at ordinal ord. ck is the log's
// state entry, or nil; exact says it describes the log exactly (a clean
// state), else it is a durable floor. A writer recovers the tail
// segment (cuts a torn tail, fixes the index); a reader only finds its
// durable head. A writer creates a missing log directory and first
// segment; with a round rd, it leaves their syncs to the round (see
// addLog).
func (lo *logOpener) open(ord uint32, pub ed25519.PublicKey, ck *logCheckpoint, exact bool, rd *round) (*logState, error) {
	id := idOf(pub)
	l := &logState{id: id, pub: pub, ord: ord, dir: filepath.Join(lo.dir, string(id)), ck: ck}
	if ck != nil {
		l.feedHead = ck.feedHead
	}
	if lo.readOnly && exact && ck != nil && ck.tailBase == 1 {
		// one segment, exactly as the state describes it: no need to
		// look at the files until the writer changes something
		segs := []*segment{newSegment(l.dir, 1)}
		l.segs.Store(&segs)
		l.head.Store(ck.head)
		l.rOff = ck.segSize
		return l, nil
	}
	segs, err := listSegments(l.dir)
	if err != nil && !isNotExist(err) {
		return nil, fmt.Errorf("applog: open log %s: %w", id, err)
	}
	if len(segs) == 0 {
		l.segs.Store(&segs)
		if !lo.readOnly {
			if err := lo.fs.mkdirAll(l.dir, 0o755); err != nil {
				return nil, fmt.Errorf("applog: %w", err)
			}
			if err := lo.files.startSegment(l, 1, rd == nil); err != nil {
				return nil, err
			}
			if rd == nil {
				if err := lo.fs.syncDir(lo.dir); err != nil {
					return nil, err
				}
			}
		}
		return l, nil
	}
	l.segs.Store(&segs)
	tail := segs[len(segs)-1]
	if lo.readOnly {
		return l, lo.openReader(l, tail, ck)
	}
	tr := tailRecovery{fs: lo.fs, files: lo.files, rr: lo.rr, log: lo.log}
	return l, tr.recover(l, segs, ck, exact)
}

// openReader finds the durable head of a log for a read-only
// database: the checkpoint's if the tail is unchanged since, else the
// last signed record of the tail segment (or of the one before).
func (lo *logOpener) openReader(l *logState, tail *segment, ck *logCheckpoint) error {
	if checkpointMatches(tail, ck) {
		l.head.Store(ck.head)
		l.rOff = ck.segSize
		return nil
	}
	l.rmu.Lock()
	defer l.rmu.Unlock()
	return lo.refreshLocked(l, true)
}

// refresh looks for records a writer in another process made durable
// since the last look (read-only databases only).
func (lo *logOpener) refresh(l *logState) {
	if !lo.readOnly || lo.st.unchanged() {
		return
	}
	l.rmu.Lock()
	defer l.rmu.Unlock()
	if err := lo.refreshLocked(l, false); err != nil {
		lo.log.Debug("applog: refresh", "log", l.id, "err", err)
	}
}

// refreshLocked is refresh's look, and openReader's first one
// (initial): it scans the tail segment past the head for signed records,
// and follows the writer into the segments it rolled to. Caller holds
// l.rmu.
func (lo *logOpener) refreshLocked(l *logState, initial bool) error {
	segs := l.segments()
	if len(segs) == 0 {
		s, err := listSegments(l.dir)
		if err != nil || len(s) == 0 {
			return nil
		}
		segs = s
		l.segs.Store(&segs)
		initial = true
	}
	tail := segs[len(segs)-1]
	if initial {
		l.rOff = fileHeaderSize
		if len(segs) > 1 || tail.base > 1 {
			// until the tail shows a signed record, the head is the end
			// of the previous segment
			l.head.Store(tail.base - 1)
		}
	}
	for {
		cf, err := lo.files.acquire(tail.seg, false)
		if err != nil {
			return err
		}
		head := l.head.Load()
		if head+1 >= tail.base {
			res := scanSegment(lo.fs, cf.File, l.rOff, head+1, false, &l.rBuf)
			if res.last > 0 {
				l.head.Store(res.last)
				l.rOff = res.end
				head = res.last
			}
		}
		lo.files.release(cf)
		// has the writer rolled to a new segment?
		next := newSegment(l.dir, head+1)
		if _, err := os.Stat(next.seg); err != nil || head+1 == tail.base {
			break
		}
		segs = append(segs[:len(segs):len(segs)], next)
		l.segs.Store(&segs)
		tail = next
		l.rOff = fileHeaderSize
	}
	l.rBuf = nil // a reader holds no buffer between looks
	return nil
}

// prepare creates the directory and first segment files of log id, not
// yet held, with their headers, and syncs nothing: the commit round that
// adds the log (addLog) syncs them. It never truncates or overwrites an
// existing file, so it is harmless if the log was added meanwhile;
// concurrent calls for one id wait for the first. Errors are left for
// addLog to meet and report.
func (lo *logOpener) prepare(id ID) {
	ch := make(chan struct{})
	if c, loaded := lo.preparing.LoadOrStore(id, ch); loaded {
		<-c.(chan struct{})
		return
	}
	defer func() {
		lo.preparing.Delete(id)
		close(ch)
	}()
	dir := filepath.Join(lo.dir, string(id))
	if err := lo.fs.mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return
	}
	s := newSegment(dir, 1)
	for _, f := range []struct {
		path  string
		magic [8]byte
	}{{s.seg, magicSegment}, {s.idx, magicIndex}} {
		fh, err := lo.fs.openFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			continue // exists already: the writer's open checks it
		}
		h := fileHeader(f.magic, 1)
		_, _ = lo.fs.writeAt(fh, h[:], 0)
		fh.Close()
	}
}
