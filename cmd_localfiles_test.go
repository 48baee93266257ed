//go:build unix

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestUnsafeDatabaseDir: a command that writes a database refuses a
// directory other users may write, with the line README.md shows, and
// makes nothing in it.
func TestUnsafeDatabaseDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "alice.db")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runInProcess(t, nil, "", "append", "--db", dir, "hi")
	want := "scuttle append: applog: database directory not private: " + dir + " is writable by other users (drwxrwxrwx); fix: chmod 700 " + dir
	if code != 1 || firstLine(stderr) != want {
		t.Errorf("append in a 0777 directory:\n got exit %d, %q\nwant exit 1, %q", code, firstLine(stderr), want)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the refused directory holds %d files, want none", len(ents))
	}
}
