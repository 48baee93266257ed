//go:build unix

package applog

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// privateModes says that the OS keeps Unix permission bits, which
// checkPrivateDir reads and tightens.
const privateModes = true

// checkDirOwner refuses dir, whose Stat is fi, unless it belongs to the
// effective user or to root, and neither others nor its group may write
// to it; the group may, as Debian's OpenSSH allows, when it is the
// user's private group (named as the user, and the process's own), the
// usual case of a umask of 002.
func checkDirOwner(dir string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := os.Geteuid()
	if int(st.Uid) != uid && st.Uid != 0 {
		return fmt.Errorf("%w: %s belongs to uid %d, not to uid %d that opens it; use a directory of your own", ErrUnsafeDir, dir, st.Uid, uid)
	}
	perm := fi.Mode().Perm()
	if perm&0o002 != 0 || perm&0o020 != 0 && !privateGroup(int(st.Gid)) {
		return fmt.Errorf("%w: %s is writable by other users (%v); fix: chmod 700 %s", ErrUnsafeDir, dir, fi.Mode(), dir)
	}
	return nil
}

// privateGroup reports whether gid is the process's own group and bears
// the user's name, the mark of a user private group. It errs on the
// side of false when either lookup fails.
func privateGroup(gid int) bool {
	if gid != os.Getegid() {
		return false
	}
	u, err := user.Current()
	if err != nil {
		return false
	}
	g, err := user.LookupGroupId(strconv.Itoa(gid))
	return err == nil && g.Name == u.Username
}
