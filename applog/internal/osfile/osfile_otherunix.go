//go:build unix && !linux && !darwin && !freebsd

package osfile

import (
	"fmt"
	"os"
)

// Fdatasync flushes f's data and metadata to stable storage with
// fsync(2), on the Unix systems scuttle is not released for.
func Fdatasync(f *os.File) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", f.Name(), err)
	}
	return nil
}
