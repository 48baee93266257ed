//go:build !unix

package replicate

import "io/fs"

// allocated returns the size of the file fi: where there is no
// syscall.Stat_t, its blocks are not known.
func allocated(fi fs.FileInfo) int64 { return fi.Size() }
