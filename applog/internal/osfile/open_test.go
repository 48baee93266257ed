package osfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenFileNoFollow: OpenFile opens a regular file as os.OpenFile
// does, and refuses a symbolic link at the name, live or dangling, with
// ErrSymlink in a PathError naming it, creating and truncating nothing.
func TestOpenFileNoFollow(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link, dangling := filepath.Join(dir, "link"), filepath.Join(dir, "dangling")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot make a symbolic link: %v", err)
	}
	if err := os.Symlink(filepath.Join(dir, "made"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{link, dangling} {
		for _, flag := range []int{os.O_RDONLY, os.O_RDWR | os.O_CREATE, os.O_WRONLY | os.O_CREATE | os.O_TRUNC, os.O_WRONLY | os.O_APPEND | os.O_CREATE} {
			f, err := OpenFile(path, flag, 0o600)
			if err == nil {
				f.Close()
			}
			var pe *fs.PathError
			if !errors.Is(err, ErrSymlink) || !errors.As(err, &pe) || pe.Path != path {
				t.Errorf("OpenFile(%s, %#x) = %v, want a PathError of it matching ErrSymlink", filepath.Base(path), flag, err)
			}
		}
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep" {
		t.Errorf("target holds %q (%v), want %q", b, err, "keep")
	}
	if _, err := os.Lstat(filepath.Join(dir, "made")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dangling link's target was made: %v", err)
	}
	f, err := OpenFile(target, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("OpenFile of a regular file: %v", err)
	}
	f.Close()
	if _, err := OpenFile(filepath.Join(dir, "none"), os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenFile of a missing file: %v, want ErrNotExist", err)
	}
}
