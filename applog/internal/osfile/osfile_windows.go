package osfile

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// Fdatasync flushes f's data and metadata to stable storage with
// FlushFileBuffers, which also flushes the drive's cache. f must be
// open for writing.
func Fdatasync(f *os.File) error {
	if err := windows.FlushFileBuffers(windows.Handle(f.Fd())); err != nil {
		return fmt.Errorf("flush %s: %w", f.Name(), err)
	}
	return nil
}

// SyncDir only checks that dir is a directory: Windows has no way to
// flush one (FlushFileBuffers refuses a directory handle). NTFS
// journals directory changes in its log, and flushing a file
// (Fdatasync) commits that log up to the file's latest change, which
// includes the file's creation; renames are made write-through by
// Rename instead.
func SyncDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("sync dir %s: not a directory", dir)
	}
	return nil
}

// Rename renames oldpath to newpath, replacing newpath if it exists, with
// MoveFileEx(MOVEFILE_REPLACE_EXISTING|MOVEFILE_WRITE_THROUGH): the call
// returns once the rename is on disk, which stands in for the directory
// fsync that Windows lacks. Replacing fails with an access-denied error
// while another process holds newpath open without FILE_SHARE_DELETE, as
// Go's os.Open does.
func Rename(oldpath, newpath string) error {
	from, err := windows.UTF16PtrFromString(oldpath)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	to, err := windows.UTF16PtrFromString(newpath)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	if err := windows.MoveFileEx(from, to, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

// lockOffset is the byte TryLock locks. Windows locks are mandatory: a
// locked byte cannot be read by any other handle. Locking one byte far
// past the end of the file (locks beyond the end are allowed) leaves
// the file's content, the holder's pid, readable by the processes that
// wait for it; SQLite locks bytes past 1 GiB for the same reason.
const lockOffset = 1 << 30

// TryLock takes an exclusive LockFileEx lock on f without waiting; it
// returns ErrWouldBlock while another handle, in this process or
// another, holds it.
func TryLock(f *os.File) error {
	ol := windows.Overlapped{Offset: lockOffset}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return ErrWouldBlock
	default:
		return fmt.Errorf("lock %s: %w", f.Name(), err)
	}
}

// Unlock drops the lock TryLock took on f.
func Unlock(f *os.File) error {
	ol := windows.Overlapped{Offset: lockOffset}
	if err := windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol); err != nil {
		return fmt.Errorf("unlock %s: %w", f.Name(), err)
	}
	return nil
}
