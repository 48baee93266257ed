package names

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"scuttle/applog"
)

// TestFileIsPrivate: the store's file is made 0600, so that other local
// users cannot read who talks to whom.
func TestFileIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
	dir := t.TempDir()
	s := openTest(t, dir, 0)
	mustBind(t, s, "bob", testID(1), Claimed)
	fi, err := os.Lstat(filepath.Join(dir, FileName))
	if err != nil || fi.Mode() != 0o600 {
		t.Fatalf("%s: mode %v (%v), want -rw-------", FileName, fi.Mode(), err)
	}
}

// TestPlantedSymlink: a symbolic link a local user planted at DIR/names
// is never followed, whether it was there at Open or appeared later: the
// error matches applog.ErrSymlink and names the file, and the file the
// link points to is untouched.
func TestPlantedSymlink(t *testing.T) {
	plant := func(t *testing.T, path string) string {
		t.Helper()
		victim := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(victim, []byte("victim\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, path); err != nil {
			t.Skipf("cannot make a symbolic link: %v", err)
		}
		return victim
	}
	check := func(t *testing.T, err error, path, victim string) {
		t.Helper()
		want := "open " + path + ": " + applog.ErrSymlink.Error()
		if !errors.Is(err, applog.ErrSymlink) || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v; want an error matching applog.ErrSymlink that says %q", err, want)
		}
		if b, err := os.ReadFile(victim); err != nil || string(b) != "victim\n" {
			t.Errorf("victim now holds %q (%v), want %q", b, err, "victim\n")
		}
	}
	t.Run("at Open", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, FileName)
		victim := plant(t, path)
		_, err := Open(dir, nil)
		check(t, err, path, victim)
	})
	t.Run("at Bind", func(t *testing.T) {
		dir := t.TempDir()
		s := openTest(t, dir, 0)
		path := filepath.Join(dir, FileName)
		victim := plant(t, path)
		_, err := s.Bind("bob", testID(1), Direct)
		check(t, err, path, victim)
	})
}
