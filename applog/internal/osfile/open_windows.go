package osfile

import (
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// openNoFollow opens with FILE_FLAG_OPEN_REPARSE_POINT, which package
// syscall passes on to CreateFile: a symbolic link, junction or other
// reparse point at path is opened itself, not its target. If what was
// opened is a reparse point, it is closed and refused. The one effect
// on the link itself, of O_TRUNC, is nil: a link has no data.
// Making a symbolic link on Windows takes the SeCreateSymbolicLinkPrivilege
// (administrators, or developer mode), so this guards against fewer
// users than on Unix, and against junctions, which anyone may make.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.FILE_FLAG_OPEN_REPARSE_POINT, perm)
	if err != nil {
		return nil, err
	}
	var fi windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &fi); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if fi.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: path, Err: ErrSymlink}
	}
	return f, nil
}
