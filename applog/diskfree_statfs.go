//go:build linux || darwin || freebsd

package applog

import (
	"fmt"
	"syscall"
)

// diskFree returns the bytes available to this user and the size of the
// file system holding dir.
func diskFree(dir string) (avail, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("applog: statfs %s: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), uint64(st.Blocks) * uint64(st.Bsize), nil
}
