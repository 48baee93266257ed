//go:build !(linux || darwin || freebsd)

package applog

import "errors"

// diskFree reports the free space as unknown here, so that the
// free-space floor never refuses anything.
func diskFree(dir string) (avail, total uint64, err error) {
	return 0, 0, errors.ErrUnsupported
}
