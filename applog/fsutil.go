package applog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"scuttle/applog/internal/parallel"
)

// This file holds the compound file operations the store builds on its
// fileSystem (vfs.go): atomic replacement, grouped syncs, resetting a
// file to its header, and full positional reads.

// writeFileAtomic replaces path with data: write a temp file, fdatasync
// it, rename it over path, fsync the directory. A crash leaves either the
// old or the new content, and at worst a stray *.tmp file that the next
// writeFileAtomic replaces. The temp file is removed first and created
// with O_EXCL, so whatever was at its name (a symbolic link a local user
// planted, to receive the private key) is neither followed nor renamed
// over path.
func writeFileAtomic(fs fileSystem, path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := fs.remove(tmp); err != nil && !isNotExist(err) {
		return fmt.Errorf("applog: remove stale %s: %w", tmp, err)
	}
	f, err := fs.openFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	_, err = fs.writeAt(f, data, 0)
	if err == nil {
		err = fs.sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.rename(tmp, path)
	}
	if err != nil {
		_ = fs.remove(tmp)
		return fmt.Errorf("applog: write %s: %w", path, err)
	}
	return fs.syncDir(filepath.Dir(path))
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
func syncAll(fs fileSystem, files []*os.File, dirs []string) error {
	if err := parallel.Each(len(files), maxSyncs, func(i int) error { return fs.sync(files[i]) }); err != nil {
		return err
	}
	return parallel.Each(len(dirs), maxSyncs, func(i int) error { return fs.syncDir(dirs[i]) })
}

// maxSyncs bounds the syncs syncAll runs at once.
const maxSyncs = 32

// resetFile makes f hold just a file header (magic, base), durably: a
// new table or feed, or a segment whose creation was torn.
func resetFile(fs fileSystem, f *os.File, magic [8]byte, base uint64) error {
	h := fileHeader(magic, base)
	if _, err := fs.writeAt(f, h[:], 0); err != nil {
		return fmt.Errorf("applog: reset %s: %w", f.Name(), err)
	}
	if err := fs.truncate(f, fileHeaderSize); err != nil {
		return fmt.Errorf("applog: reset %s: %w", f.Name(), err)
	}
	return fs.sync(f)
}

// readAt is f.ReadAt after fs.checkRead.
func readAt(fs fileSystem, f *os.File, b []byte, off int64) (int, error) {
	if err := fs.checkRead(f); err != nil {
		return 0, err
	}
	return f.ReadAt(b, off)
}

// readFull reads len(b) bytes at off; a short read at the end of the file
// returns the count and io.ErrUnexpectedEOF (io.EOF if nothing was read).
func readFull(fs fileSystem, f *os.File, b []byte, off int64) (int, error) {
	n, err := readAt(fs, f, b, off)
	if n == len(b) {
		return n, nil
	}
	if err == io.EOF && n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// isNotExist reports whether err says a file is missing.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
