//go:build osfile_nomap || !(unix || windows)

package osfile

import "os"

// Map returns ErrNoMap: this build reads files with ReadAt only. The
// osfile_nomap build tag selects it on any OS, so that the callers'
// ReadAt path is tested where mapping works.
func Map(f *os.File, size int) ([]byte, error) { return nil, ErrNoMap }

// Unmap does nothing: Map never maps.
func Unmap(m []byte) error { return nil }
