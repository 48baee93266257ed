//go:build unix

package osfile

import (
	"fmt"
	"os"
	"syscall"
)

// SyncDir fsyncs the directory dir, so that creates, renames and
// removes in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// Rename renames oldpath to newpath, replacing newpath if it exists.
// rename(2) is atomic; the caller makes it durable with SyncDir.
func Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// TryLock takes an exclusive flock(2) on f without waiting; it returns
// ErrWouldBlock while another open file description holds it.
func TryLock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch err {
		case nil:
			return nil
		case syscall.EINTR:
			continue
		case syscall.EWOULDBLOCK:
			return ErrWouldBlock
		default:
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
	}
}

// Unlock drops the lock TryLock took on f.
func Unlock(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		return fmt.Errorf("unlock %s: %w", f.Name(), err)
	}
	return nil
}
