package osfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFdatasyncRenameSyncDir(t *testing.T) {
	dir := t.TempDir()
	tmp, dst := filepath.Join(dir, "a.tmp"), filepath.Join(dir, "a")
	if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("new"); err != nil {
		t.Fatal(err)
	}
	if err := Fdatasync(f); err != nil {
		t.Fatalf("Fdatasync: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Rename(tmp, dst); err != nil {
		t.Fatalf("Rename over an existing file: %v", err)
	}
	if err := SyncDir(dir); err != nil {
		t.Fatalf("SyncDir: %v", err)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "new" {
		t.Fatalf("after Rename: %q, %v; want \"new\"", b, err)
	}
	if err := SyncDir(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("SyncDir of a missing directory: no error")
	}
}

func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b := open(), open()
	if err := TryLock(a); err != nil {
		t.Fatalf("first TryLock: %v", err)
	}
	if err := TryLock(b); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("second TryLock: %v, want ErrWouldBlock", err)
	}
	if err := Unlock(a); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if err := TryLock(b); err != nil {
		t.Fatalf("TryLock after Unlock: %v", err)
	}
}

// TestTryLockLeavesContentReadable checks that the lock does not cover
// the file's content: the holder writes its pid there, and whoever
// waits for the lock reads it (Windows locks are mandatory, so this
// fails if the locked range includes the content).
func TestTryLockLeavesContentReadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	a, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := TryLock(a); err != nil {
		t.Fatalf("TryLock: %v", err)
	}
	defer Unlock(a)
	if _, err := a.WriteAt([]byte("4242\n"), 0); err != nil {
		t.Fatalf("holder writes its pid: %v", err)
	}
	b, err := os.Open(path)
	if err != nil {
		t.Fatalf("open while locked: %v", err)
	}
	defer b.Close()
	buf := make([]byte, 32)
	n, err := b.ReadAt(buf, 0)
	if got := string(buf[:n]); got != "4242\n" {
		t.Fatalf("read while locked: %q, %v; want \"4242\\n\"", got, err)
	}
}

func TestMap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idx")
	want := []byte("0123456789abcdef")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Map(f, len(want))
	f.Close() // the mapping outlives the file
	if errors.Is(err, ErrNoMap) {
		t.Skip("no memory mapping on this OS")
	}
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	if !bytes.Equal(m, want) {
		t.Errorf("mapped %q, want %q", m, want)
	}
	if err := Unmap(m); err != nil {
		t.Errorf("Unmap: %v", err)
	}
}
