package applog

import "os"

// privateModes is false: Windows keeps no Unix permission bits (package
// os makes them up from the read-only attribute). A directory's access
// is its ACL, inherited from the directory it is made in; the user's
// profile, where scuttle's databases usually live, is private to the
// user by default.
const privateModes = false

// checkDirOwner accepts every directory on Windows: its ACL decides who
// may write to it, and scuttle does not read ACLs.
func checkDirOwner(string, os.FileInfo) error { return nil }
