package applog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"scuttle/applog/internal/osfile"
	"scuttle/applog/internal/parallel"
)

// syncDir fsyncs a directory so that creates, renames and removes in it
// are durable.
func syncDir(dir string) error {
	if err := osfile.SyncDir(dir); err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data: write a temp file, fsync it,
// rename it over path, fsync the directory. A crash leaves either the old
// or the new content, and at worst a stray *.tmp file that the next
// writeFileAtomic truncates.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = osfile.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("applog: write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// fdatasync flushes a file's data (and the metadata needed to read it
// back, such as its size) to stable storage.
func fdatasync(f *os.File) error {
	if err := osfile.Fdatasync(f); err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	return nil
}

// fsys is the seam under the store's file operations whose failure
// matters: opening or creating, writing, fdatasyncing and reading the
// files of logs, the table, the feed and the state. In production each call goes to the OS (syncs
// through osfile); a test sets a fault function, which is asked before
// each operation and whose error is returned instead of doing it, to
// show that the writer fails closed and loses nothing acknowledged.
type fsys struct {
	fault atomic.Pointer[func(op, path string) error] // nil in production
}

// check returns the injected error for op ("open", "create", "write",
// "sync", "read") on
// the file at path, if any.
func (fs *fsys) check(op, path string) error {
	if fn := fs.fault.Load(); fn != nil {
		if err := (*fn)(op, path); err != nil {
			return &os.PathError{Op: op, Path: path, Err: err}
		}
	}
	return nil
}

// openFile is os.OpenFile, checked as op "create" when flag has
// O_CREATE (a new log's files, the table, feed and state) and "open"
// otherwise.
func (fs *fsys) openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	op := "open"
	if flag&os.O_CREATE != 0 {
		op = "create"
	}
	if err := fs.check(op, path); err != nil {
		return nil, err
	}
	return os.OpenFile(path, flag, perm)
}

// writeAt is f.WriteAt.
func (fs *fsys) writeAt(f *os.File, b []byte, off int64) (int, error) {
	if err := fs.check("write", f.Name()); err != nil {
		return 0, err
	}
	return f.WriteAt(b, off)
}

// sync is fdatasync.
func (fs *fsys) sync(f *os.File) error {
	if err := fs.check("sync", f.Name()); err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	return fdatasync(f)
}

// syncAll fdatasyncs files and then fsyncs dirs, each group all at once,
// and returns the first error. Issued together, syncs cost about one:
// the file system flushes their data in parallel and commits their
// metadata in one journal transaction, where one after the other would
// each wait for its own commit. The files go first because their syncs
// carry data: a directory sync issued alongside would commit the
// journal early, and the files' size updates would need a second
// commit; after them, on a journaling file system, the directory syncs
// find their entries committed already and cost little.
func (fs *fsys) syncAll(files []*os.File, dirs []string) error {
	if err := parallel.Each(len(files), maxSyncs, func(i int) error { return fs.sync(files[i]) }); err != nil {
		return err
	}
	return parallel.Each(len(dirs), maxSyncs, func(i int) error { return syncDir(dirs[i]) })
}

// maxSyncs bounds the syncs syncAll runs at once.
const maxSyncs = 32

// resetFile makes f hold just a file header (magic, base), durably: a
// new table or feed, or a segment whose creation was torn.
func resetFile(f *os.File, magic [8]byte, base uint64) error {
	h := fileHeader(magic, base)
	if _, err := f.WriteAt(h[:], 0); err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	if err := f.Truncate(fileHeaderSize); err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	return fdatasync(f)
}

// readFull reads len(b) bytes at off; a short read at the end of the file
// returns the count and io.ErrUnexpectedEOF (io.EOF if nothing was read).
func readFull(f *os.File, b []byte, off int64) (int, error) {
	n, err := f.ReadAt(b, off)
	if n == len(b) {
		return n, nil
	}
	if err == io.EOF && n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// lockFile is the database's writer lock: osfile.TryLock on DIR/LOCK, held
// for the life of the writer, with the holder's pid written in the file.
type lockFile struct{ f *os.File }

// acquireLock takes the exclusive lock on path, polling for up to wait
// (negative: one try). The error wraps ErrLocked and names the holder's
// pid as written in the file.
func acquireLock(path string, wait time.Duration) (*lockFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("applog: open lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	delay := time.Millisecond
	for {
		err := osfile.TryLock(f)
		if err == nil {
			break
		}
		if !errors.Is(err, osfile.ErrWouldBlock) {
			f.Close()
			return nil, fmt.Errorf("applog: %w", err)
		}
		if wait < 0 || time.Now().After(deadline) {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			f.Close()
			holder := strings.TrimSpace(string(b[:n]))
			if _, perr := strconv.Atoi(holder); perr != nil {
				holder = "unknown"
			}
			return nil, fmt.Errorf("%w: %s held by pid %s (waited %v)", ErrLocked, path, holder, max(wait, 0))
		}
		time.Sleep(delay)
		delay = min(2*delay, 20*time.Millisecond)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(pid, 0)
	}
	return &lockFile{f: f}, nil
}

// release clears the pid and drops the lock.
func (l *lockFile) release() error {
	_ = l.f.Truncate(0)
	err := osfile.Unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// isNotExist reports whether err says a file is missing.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
