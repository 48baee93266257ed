//go:build unix && !osfile_nomap

package osfile

import (
	"fmt"
	"os"
	"syscall"
)

// Map maps the first size bytes of f read-only and shared. The mapping
// stays valid after f is closed, until Unmap.
func Map(f *os.File, size int) ([]byte, error) {
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", f.Name(), err)
	}
	return m, nil
}

// Unmap releases a mapping made by Map.
func Unmap(m []byte) error { return syscall.Munmap(m) }
