package applog

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// faultFS is the OS file system with a fault function asked before each
// operation: an error it returns is returned instead of doing the
// operation. Ops: "open", "create" (openFile with O_CREATE), "read",
// "write", "truncate", "sync", "syncdir", "rename" (of the old path),
// "remove" (remove and removeAll) and "mkdir" (mkdir and mkdirAll).
type faultFS struct {
	fault atomic.Pointer[func(op, path string) error] // nil: no faults
}

var _ fileSystem = (*faultFS)(nil)

// set makes fn the fault function; nil ends the faults.
func (fs *faultFS) set(fn func(op, path string) error) {
	if fn == nil {
		fs.fault.Store(nil)
		return
	}
	fs.fault.Store(&fn)
}

// check returns the injected error for op on path, if any.
func (fs *faultFS) check(op, path string) error {
	if fn := fs.fault.Load(); fn != nil {
		if err := (*fn)(op, path); err != nil {
			return &os.PathError{Op: op, Path: path, Err: err}
		}
	}
	return nil
}

func (fs *faultFS) openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	op := "open"
	if flag&os.O_CREATE != 0 {
		op = "create"
	}
	if err := fs.check(op, path); err != nil {
		return nil, err
	}
	return osFS{}.openFile(path, flag, perm)
}

func (fs *faultFS) checkRead(f *os.File) error {
	return fs.check("read", f.Name())
}

func (fs *faultFS) writeAt(f *os.File, b []byte, off int64) (int, error) {
	if err := fs.check("write", f.Name()); err != nil {
		return 0, err
	}
	return osFS{}.writeAt(f, b, off)
}

func (fs *faultFS) truncate(f *os.File, size int64) error {
	if err := fs.check("truncate", f.Name()); err != nil {
		return err
	}
	return osFS{}.truncate(f, size)
}

func (fs *faultFS) sync(f *os.File) error {
	if err := fs.check("sync", f.Name()); err != nil {
		return err
	}
	return osFS{}.sync(f)
}

func (fs *faultFS) syncDir(dir string) error {
	if err := fs.check("syncdir", dir); err != nil {
		return err
	}
	return osFS{}.syncDir(dir)
}

func (fs *faultFS) rename(oldpath, newpath string) error {
	if err := fs.check("rename", oldpath); err != nil {
		return err
	}
	return osFS{}.rename(oldpath, newpath)
}

func (fs *faultFS) remove(path string) error {
	if err := fs.check("remove", path); err != nil {
		return err
	}
	return osFS{}.remove(path)
}

func (fs *faultFS) removeAll(path string) error {
	if err := fs.check("remove", path); err != nil {
		return err
	}
	return osFS{}.removeAll(path)
}

func (fs *faultFS) mkdir(path string, perm os.FileMode) error {
	if err := fs.check("mkdir", path); err != nil {
		return err
	}
	return osFS{}.mkdir(path, perm)
}

func (fs *faultFS) mkdirAll(path string, perm os.FileMode) error {
	if err := fs.check("mkdir", path); err != nil {
		return err
	}
	return osFS{}.mkdirAll(path, perm)
}

// openFaulty opens a writer in dir on a faultFS (no faults yet) and
// closes it at the end of the test.
func openFaulty(t testing.TB, dir string, opts *Options) (*DB, *faultFS) {
	t.Helper()
	fs := new(faultFS)
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.fs = fs
	return openT(t, dir, &o), fs
}

// injectOnce makes the next op on a file whose name contains match fail
// with errno, once; it returns how to tell whether it fired.
func injectOnce(fs *faultFS, op, match string, errno syscall.Errno) *atomic.Bool {
	fired := new(atomic.Bool)
	fs.set(func(o, path string) error {
		if o == op && strings.Contains(filepath.Base(path), match) && fired.CompareAndSwap(false, true) {
			return errno
		}
		return nil
	})
	return fired
}
