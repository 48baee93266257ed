package osfile

import (
	"errors"
	"os"
)

// ErrSymlink is the error OpenFile returns, in an *os.PathError naming
// the file, when the file's name is a symbolic link (on Windows, any
// reparse point).
var ErrSymlink = errors.New("is a symbolic link, which scuttle does not follow")

// OpenFile is os.OpenFile for a file of the store's own: when the last
// element of path is a symbolic link, it fails with ErrSymlink instead
// of opening (and, with O_CREATE or O_TRUNC, creating or truncating)
// the file the link points to. A local user who could plant links in a
// database directory therefore cannot make the store write through
// them. Links among the directories above the file are followed, so a
// database directory may itself be reached by a link.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	return openNoFollow(path, flag, perm)
}
