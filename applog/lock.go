package applog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"scuttle/applog/internal/osfile"
)

// lockFile is the database's writer lock: osfile.TryLock on DIR/LOCK, held
// for the life of the writer, with the holder's pid written in the file.
type lockFile struct {
	fs fileSystem
	f  *os.File
}

// acquireLock takes the exclusive lock on path, polling for up to wait
// (negative: one try). The error wraps ErrLocked and names the holder's
// pid as written in the file. First it checks that the database
// directory, path's, is the user's alone (checkPrivateDir: the error
// then matches ErrUnsafeDir); the lock file is opened never through a
// symbolic link (ErrSymlink).
func acquireLock(fs fileSystem, path string, wait time.Duration) (*lockFile, error) {
	if err := checkPrivateDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	f, err := fs.openFile(path, os.O_RDWR|os.O_CREATE, 0o600)
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
			n, _ := readAt(fs, f, b, 0)
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
	if err := fs.truncate(f, 0); err == nil {
		_, _ = fs.writeAt(f, pid, 0)
	}
	return &lockFile{fs: fs, f: f}, nil
}

// release clears the pid and drops the lock.
func (l *lockFile) release() error {
	_ = l.fs.truncate(l.f, 0)
	err := osfile.Unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}
