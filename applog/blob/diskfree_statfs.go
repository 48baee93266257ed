//go:build linux || darwin || freebsd

package blob

import (
	"fmt"
	"syscall"
)

// privateModes says that the OS keeps Unix permission bits, which Open
// tightens on the store's directory.
const privateModes = true

// diskFree returns the bytes available to this user and the size of the
// file system holding dir.
func diskFree(dir string) (avail, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("blob: statfs %s: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), uint64(st.Blocks) * uint64(st.Bsize), nil
}
