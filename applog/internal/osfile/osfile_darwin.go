package osfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Fdatasync flushes f's data and metadata to stable storage with
// fcntl(F_FULLFSYNC): on macOS, fsync(2) only hands the data to the
// drive, whose cache may lose it on power loss; F_FULLFSYNC also asks
// the drive to flush its cache. A file system that refuses F_FULLFSYNC
// (SMB, some FUSE mounts) gets fsync(2), the best it offers.
func Fdatasync(f *os.File) error {
	fd := f.Fd()
	for {
		_, err := unix.FcntlInt(fd, unix.F_FULLFSYNC, 0)
		switch err {
		case nil:
			return nil
		case unix.EINTR:
			continue
		case unix.ENOTSUP, unix.ENOTTY, unix.EINVAL:
			if err := fsync(int(fd)); err != nil {
				return fmt.Errorf("fsync %s: %w", f.Name(), err)
			}
			return nil
		default:
			return fmt.Errorf("fcntl F_FULLFSYNC %s: %w", f.Name(), err)
		}
	}
}

// fsync is fsync(2), retried on EINTR.
func fsync(fd int) error {
	for {
		if err := unix.Fsync(fd); err != unix.EINTR {
			return err
		}
	}
}
