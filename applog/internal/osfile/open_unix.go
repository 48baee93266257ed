//go:build unix

package osfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// openNoFollow opens with O_NOFOLLOW: open(2) fails on a symbolic link
// (with ELOOP on Linux and macOS, EMLINK on FreeBSD, EFTYPE on NetBSD),
// so symlinkError tells that case by an lstat(2) after the failure.
// There is no race: whatever the name is by then, the open did not go
// through a link.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW, perm)
	if err != nil {
		return nil, symlinkError(path, err)
	}
	return f, nil
}

// symlinkError returns ErrSymlink in a PathError for path if path is a
// symbolic link, else err: the open failed for another reason.
func symlinkError(path string, err error) error {
	if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
		return &os.PathError{Op: "open", Path: path, Err: ErrSymlink}
	}
	return err
}
