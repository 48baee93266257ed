//go:build unix

package replicate

import (
	"io/fs"
	"syscall"
)

// allocated returns the bytes of disk allocated to the file fi.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
