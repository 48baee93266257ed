//go:build unix

package applog

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestUnsafeDirRefused: a writer refuses, before it makes any file, a
// database directory that another user may change, with an error that
// matches ErrUnsafeDir and says how to fix it; it makes one that others
// may only read private (0700), since its files may be 0644 from before.
func TestUnsafeDirRefused(t *testing.T) {
	uid := os.Geteuid()
	tests := []struct {
		name     string
		mode     fs.FileMode
		owner    int // -1: leave it
		group    int // -1: leave it
		wantErr  string
		wantMode fs.FileMode // after an Open that succeeds
	}{
		{"others may write", 0o777, -1, -1, "applog: database directory not private: DIR is writable by other users (drwxrwxrwx); fix: chmod 700 DIR", 0},
		{"others may write, sticky", 0o777 | fs.ModeSticky, -1, -1, "applog: database directory not private: DIR is writable by other users (dtrwxrwxrwx); fix: chmod 700 DIR", 0},
		{"a shared group may write", 0o770, -1, 4242, "applog: database directory not private: DIR is writable by other users (drwxrwx---); fix: chmod 700 DIR", 0},
		{"another user's", 0o700, 4242, -1, "applog: database directory not private: DIR belongs to uid 4242, not to uid " + strconv.Itoa(uid) + " that opens it; use a directory of your own", 0},
		{"the user's private group may write", 0o770, -1, -1, "", fs.ModeDir | 0o700},
		{"others may read", 0o755, -1, -1, "", fs.ModeDir | 0o700},
		{"private", 0o700, -1, -1, "", fs.ModeDir | 0o700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := privateDir(t)
			if tt.owner >= 0 || tt.group >= 0 {
				if err := os.Chown(dir, tt.owner, tt.group); err != nil {
					t.Skipf("cannot give the directory away (needs root): %v", err)
				}
			}
			if tt.mode&0o020 != 0 && tt.group < 0 && !privateGroup(os.Getegid()) {
				t.Skip("the process's group is not a user private group")
			}
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			db, err := Open(dir, nil)
			if err == nil {
				db.Close()
			}
			want := strings.ReplaceAll(tt.wantErr, "DIR", dir)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if fi, err := os.Stat(dir); err != nil || fi.Mode() != tt.wantMode {
					t.Errorf("after Open: mode %v (%v), want %v", fi.Mode(), err, tt.wantMode)
				}
				return
			}
			if !errors.Is(err, ErrUnsafeDir) || err.Error() != want {
				t.Fatalf("Open:\n got %v\nwant %s (matching ErrUnsafeDir)", err, want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("the refused directory holds %d files, want none", len(ents))
			}
		})
	}
}
