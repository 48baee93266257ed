package osfile

import (
	"fmt"
	"os"
	"syscall"
)

// Fdatasync flushes f's data, and the metadata needed to read it back
// (its size), to stable storage.
func Fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("fdatasync %s: %w", f.Name(), err)
		}
		return nil
	}
}
