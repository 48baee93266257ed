package applog

import (
	"errors"
	"fmt"
	"os"

	"scuttle/applog/internal/osfile"
)

// This file keeps a database private to the user who runs its writer;
// see "Local users" in doc.go for what it defends against.

// ErrSymlink is matched by the error of an operation that met a symbolic
// link at the name of one of the store's files (LOCK, the table, the
// feed, the state, the forks file, a segment or index, the block list):
// the store never follows one there, as a local user who planted it
// could make the writer truncate or write the file it points to. The
// error names the file; remove the link to go on.
var ErrSymlink = osfile.ErrSymlink

// ErrUnsafeDir is matched by the error of a writer Open whose database
// directory another user may change: one writable by its group or by
// others, or owned by another user. Such a user could have planted
// links or files in it, or swapped the key. The error says which and
// how to fix it.
var ErrUnsafeDir = errors.New("applog: database directory not private")

// checkPrivateDir is the writer's check of its database directory dir,
// made before it opens any file there: dir must belong to the user the
// process runs as (or to root), and no one else may write to it
// (checkDirOwner, per OS). Then it drops the group and other bits of
// dir's mode, so that the files of a database made before they were
// private (0644 in 0755) are out of other users' reach.
func checkPrivateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	if err := checkDirOwner(dir, fi); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&^ownerOnly != 0 && privateModes {
		if err := os.Chmod(dir, perm&ownerOnly); err != nil {
			return fmt.Errorf("applog: making %s private: %w", dir, err)
		}
	}
	return nil
}
