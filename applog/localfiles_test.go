package applog

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// These tests play a local user who shares the machine: one who reads
// what the database leaves readable, or plants symbolic links in a
// database directory before its owner's scuttle uses it. They run as
// root too: they check modes with Stat and the refusal logic, never on
// the kernel denying access.

// skipNoUnixModes skips on Windows, whose file modes are made up by
// package os from the read-only attribute.
func skipNoUnixModes(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
}

// TestDatabaseIsPrivate: every directory a writer makes is 0700 and
// every file 0600, whatever the umask: the key, LOCK, the table, the
// feed, the state, a peer's log, the forks file and the block list.
// (A new database used to be 0755 with 0644 files, so any local user
// could read a private network's history.)
func TestDatabaseIsPrivate(t *testing.T) {
	skipNoUnixModes(t)
	id, ra, rb := forkedLog(t, []int{3}, []int{3}, []int{3})
	dir := filepath.Join(t.TempDir(), "db")
	db := openT(t, dir, nil)
	if _, err := db.Append([]byte("mine")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Insert(id, ra); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Insert(id, rb); !errors.Is(err, ErrFork) {
		t.Fatalf("Insert of the other branch: %v, want ErrFork (to make the forks file)", err)
	}
	if err := Block(dir, db.ID()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if fi.IsDir() {
			want = fs.ModeDir | 0o700
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
		seen[filepath.Base(path)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{fileKey, filePub, fileLock, fileLogs, fileFeed, fileState, fileForks, fileBlocked, string(id)} {
		if !seen[name] {
			t.Errorf("no %s in the database: the test did not check its mode", name)
		}
	}
}

// plantSymlink makes path a symbolic link to a victim file outside the
// database, which holds "victim\n" with mode 0644, and returns the
// victim's path. It skips where the user may not make links (Windows
// without the privilege).
func plantSymlink(t *testing.T, path string) string {
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

// checkVictim fails the test unless the victim file is as plantSymlink
// made it.
func checkVictim(t *testing.T, victim string) {
	t.Helper()
	b, err := os.ReadFile(victim)
	if err != nil || string(b) != "victim\n" {
		t.Errorf("victim %s now holds %q (%v), want %q", victim, b, err, "victim\n")
	}
	if fi, err := os.Stat(victim); err == nil && runtime.GOOS != "windows" && fi.Mode() != 0o644 {
		t.Errorf("victim %s: mode %v, want -rw-r--r--", victim, fi.Mode())
	}
}

// TestPlantedSymlinks: a symbolic link planted at the name of a file the
// writer opens is never followed. At LOCK, the table, the feed, the
// state, the forks file, a segment or the block list, the operation
// fails with an error matching ErrSymlink and naming the file; at a
// temporary file, the link is removed and the file written anew. The
// file the link points to is never touched. (LOCK as a link used to
// truncate its target; key.tmp as a link received the private key, and
// key ended up a link to it.)
func TestPlantedSymlinks(t *testing.T) {
	for _, name := range []string{fileLock, fileLogs, fileFeed, fileState} {
		t.Run("new/"+name, func(t *testing.T) {
			dir := privateDir(t)
			path := filepath.Join(dir, name)
			victim := plantSymlink(t, path)
			db, err := Open(dir, nil)
			if err == nil {
				db.Close()
			}
			checkRefused(t, err, path)
			checkVictim(t, victim)
		})
	}
	for _, name := range []string{fileKey + ".tmp", filePub + ".tmp"} {
		t.Run("new/"+name, func(t *testing.T) {
			dir := privateDir(t)
			victim := plantSymlink(t, filepath.Join(dir, name))
			db := openT(t, dir, nil)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			checkVictim(t, victim)
			for _, f := range []string{fileKey, filePub} {
				fi, err := os.Lstat(filepath.Join(dir, f))
				if err != nil || !fi.Mode().IsRegular() {
					t.Errorf("%s: %v, %v; want a regular file", f, fi.Mode(), err)
				}
			}
			if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s still there after Open: %v", name, err)
			}
		})
	}
	t.Run("existing/segment", func(t *testing.T) {
		dir := privateDir(t)
		db := openT(t, dir, nil)
		if _, err := db.Append([]byte("one")); err != nil {
			t.Fatal(err)
		}
		id := db.ID()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		seg := filepath.Join(dir, string(id), segName(1))
		if err := os.Remove(seg); err != nil {
			t.Fatal(err)
		}
		victim := plantSymlink(t, seg)
		db, err := Open(dir, nil)
		if err == nil {
			_, err = db.Append([]byte("two"))
			db.Close()
		}
		checkRefused(t, err, seg)
		checkVictim(t, victim)
	})
	t.Run("existing/"+fileBlocked, func(t *testing.T) {
		dir := privateDir(t)
		db := openT(t, dir, nil)
		id := db.ID()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fileBlocked)
		victim := plantSymlink(t, path)
		checkRefused(t, Block(dir, id), path)
		checkVictim(t, victim)
	})
}

// privateDir returns a new, empty directory of mode 0700.
func privateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkRefused fails the test unless err refuses the symbolic link at
// path: it matches ErrSymlink and its text names path.
func checkRefused(t *testing.T, err error, path string) {
	t.Helper()
	want := "open " + path + ": " + ErrSymlink.Error()
	if !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v; want an error matching ErrSymlink that says %q", err, want)
	}
}

// TestExistingDatabaseMadePrivate: a database made before databases were
// private, a 0755 directory of 0644 files, is out of other users' reach
// after a writer opens it: its directory becomes 0700.
func TestExistingDatabaseMadePrivate(t *testing.T) {
	skipNoUnixModes(t)
	dir := privateDir(t)
	db := openT(t, dir, nil)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, 0o755)
		}
		return os.Chmod(path, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := openT(t, dir, nil).ID(); got != db.ID() {
		t.Errorf("reopened as %s, want %s", got.Short(), db.ID().Short())
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode() != fs.ModeDir|0o700 {
		t.Errorf("after Open: mode %v (%v), want drwx------", fi.Mode(), err)
	}
}
