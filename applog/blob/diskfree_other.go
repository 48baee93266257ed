//go:build !(linux || darwin || freebsd)

package blob

import (
	"errors"
	"runtime"
)

// privateModes is true where the OS keeps Unix permission bits (not on
// Windows, where the directory's ACL decides).
const privateModes = runtime.GOOS != "windows"

// diskFree reports the free space as unknown here, so that the
// free-space floor never refuses anything.
func diskFree(dir string) (avail, total uint64, err error) {
	return 0, 0, errors.ErrUnsupported
}
