//go:build windows && !osfile_nomap

package osfile

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Map maps the first size bytes of f read-only (CreateFileMapping and
// MapViewOfFile). The mapping stays valid after f is closed, until
// Unmap. While it exists, Windows refuses to truncate the file, so only
// files that no longer change may be mapped.
func Map(f *os.File, size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("map %s: size %d: %w", f.Name(), size, windows.ERROR_INVALID_PARAMETER)
	}
	n := uint64(size)
	h, err := windows.CreateFileMapping(windows.Handle(f.Fd()), nil, windows.PAGE_READONLY, uint32(n>>32), uint32(n), nil)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	// The view keeps the mapping object alive; its handle is not needed.
	defer windows.CloseHandle(h)
	addr, err := windows.MapViewOfFile(h, windows.FILE_MAP_READ, 0, 0, uintptr(size))
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	// addr is memory the OS mapped outside Go's heap: reinterpreting the
	// integer as a pointer is safe, and spelled so that vet can tell.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), size), nil
}

// Unmap releases a mapping made by Map.
func Unmap(m []byte) error {
	if len(m) == 0 {
		return nil
	}
	return windows.UnmapViewOfFile(uintptr(unsafe.Pointer(&m[0])))
}
