package applog

import (
	"fmt"
	"os"

	"scuttle/applog/internal/osfile"
)

// fileSystem is the seam under every file operation of the store: each
// open and create, positional read (see checkRead) and write,
// fdatasync, truncate, rename, remove, mkdir and directory fsync of the
// logs, the table, the feed, the state, the forks file and the writer
// lock goes through it.
// In production it is osFS; tests wrap it (faultFS in vfs_test.go) to
// fail one operation on one file, and so show that the writer fails
// closed and loses nothing acknowledged, recovery's own writes
// included.
//
// osFS keeps the database private to its owner's user and refuses to
// be redirected by links (see "Local users" in doc.go): it never
// follows a symbolic link at the name it opens (osfile.OpenFile,
// failing with ErrSymlink), and it drops the group and other bits of
// every mode it creates with, so the store's files are 0600 and its
// directories 0700 whatever its callers and the umask say.
//
// What stays outside: metadata (Stat, ReadDir), the small files read
// whole (key, key.pub, the block list, a sealed index Verify checks,
// the forks file once open), the memory maps of sealed indexes (their
// files are opened through it), and the block list's appends, which
// Block makes without a DB.
type fileSystem interface {
	// openFile is os.OpenFile, but never through a symbolic link at
	// path (ErrSymlink).
	openFile(path string, flag int, perm os.FileMode) (*os.File, error)
	// checkRead returns an error if a read of f is to fail: never, for
	// the OS. The read itself is f.ReadAt, called by readAt (fsutil.go)
	// and not through this interface, so that a buffer on the reader's
	// stack stays there: passed to an interface method it would move to
	// the heap, an allocation for each Get.
	checkRead(f *os.File) error
	// writeAt is f.WriteAt.
	writeAt(f *os.File, b []byte, off int64) (int, error)
	// truncate is f.Truncate.
	truncate(f *os.File, size int64) error
	// sync makes f's data, and the metadata needed to read it back
	// (its size), durable: fdatasync, or what stands for it on each OS
	// (internal/osfile).
	sync(f *os.File) error
	// syncDir makes the creates, renames and removes in dir durable.
	syncDir(dir string) error
	// rename moves oldpath to newpath atomically (write-through on
	// Windows, which has no directory fsync).
	rename(oldpath, newpath string) error
	// remove is os.Remove.
	remove(path string) error
	// removeAll is os.RemoveAll.
	removeAll(path string) error
	// mkdir is os.Mkdir.
	mkdir(path string, perm os.FileMode) error
	// mkdirAll is os.MkdirAll.
	mkdirAll(path string, perm os.FileMode) error
}

// osFS is the fileSystem of the operating system: package os, with the
// syncs and renames of internal/osfile.
type osFS struct{}

func (osFS) openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	return osfile.OpenFile(path, flag, perm&ownerOnly)
}

func (osFS) checkRead(*os.File) error                             { return nil }
func (osFS) writeAt(f *os.File, b []byte, off int64) (int, error) { return f.WriteAt(b, off) }
func (osFS) truncate(f *os.File, size int64) error                { return f.Truncate(size) }
func (osFS) sync(f *os.File) error                                { return fdatasync(f) }
func (osFS) syncDir(dir string) error                             { return syncDir(dir) }
func (osFS) rename(oldpath, newpath string) error                 { return osfile.Rename(oldpath, newpath) }
func (osFS) remove(path string) error                             { return os.Remove(path) }
func (osFS) removeAll(path string) error                          { return os.RemoveAll(path) }
func (osFS) mkdir(path string, perm os.FileMode) error            { return os.Mkdir(path, perm&ownerOnly) }
func (osFS) mkdirAll(path string, perm os.FileMode) error         { return os.MkdirAll(path, perm&ownerOnly) }

// ownerOnly is the mask osFS applies to the modes it creates with.
const ownerOnly os.FileMode = 0o700

// fileSystem returns the file system Open works on: the OS's, unless a
// test set another.
func (o *Options) fileSystem() fileSystem {
	if o.fs != nil {
		return o.fs
	}
	return osFS{}
}

// fdatasync is osFS's sync; the store calls it through a fileSystem.
func fdatasync(f *os.File) error {
	if err := osfile.Fdatasync(f); err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	return nil
}

// syncDir is osFS's syncDir; the store calls it through a fileSystem.
func syncDir(dir string) error {
	if err := osfile.SyncDir(dir); err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	return nil
}
