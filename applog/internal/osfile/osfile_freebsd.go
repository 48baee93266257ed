package osfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Fdatasync flushes f's data, and the metadata needed to read it back
// (its size), to stable storage with fdatasync(2) (FreeBSD 11.1 and
// later; fsync(2) on a kernel without it).
func Fdatasync(f *os.File) error {
	fd := uintptr(f.Fd())
	for {
		_, _, errno := unix.Syscall(unix.SYS_FDATASYNC, fd, 0, 0)
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		case unix.ENOSYS:
			if err := f.Sync(); err != nil {
				return fmt.Errorf("fsync %s: %w", f.Name(), err)
			}
			return nil
		default:
			return fmt.Errorf("fdatasync %s: %w", f.Name(), errno)
		}
	}
}
