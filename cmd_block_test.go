package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"scuttle/applog"
)

// TestBlockCommands: block deletes the log and lists it as blocked, also
// while another process (here: this one) holds the database, which then
// refuses the log within a second; unblock undoes it; the own log
// cannot be blocked.
func TestBlockCommands(t *testing.T) {
	dir := t.TempDir()
	aliceDB, bobDB := filepath.Join(dir, "alice.db"), filepath.Join(dir, "bob.db")
	mustScuttle(t, dir, "", "append", "--db", aliceDB, "spam")
	mustScuttle(t, dir, "", "append", "--db", bobDB, "hello")
	alice := strings.TrimSpace(mustScuttle(t, dir, "", "id", "--db", aliceDB))
	bob := strings.TrimSpace(mustScuttle(t, dir, "", "id", "--db", bobDB))
	copyAll := func() {
		src, err := applog.Open(aliceDB, &applog.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var recs [][]byte
		it := src.Iter(src.ID(), 1)
		for it.Next() {
			recs = append(recs, append([]byte(nil), it.Record()...))
		}
		it.Close()
		dst, err := applog.Open(bobDB, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		if _, err := dst.Insert(src.ID(), recs); err != nil {
			t.Fatal(err)
		}
	}
	copyAll()

	out := mustScuttle(t, dir, "", "block", "--db", bobDB, alice)
	if want := "blocked " + alice + ": its entries and 0 files only it shared are deleted, and it is refused from every peer\n"; out != want {
		t.Errorf("block: %q, want %q", out, want)
	}
	logs := mustScuttle(t, dir, "", "logs", "--db", bobDB)
	if !regexp.MustCompile(`(?m)^` + alice + ` +0 +0 +\d+ +blocked$`).MatchString(logs) {
		t.Errorf("logs after block:\n%s", logs)
	}
	if got := mustScuttle(t, dir, "", "read", "--db", bobDB); strings.Contains(got, "spam") {
		t.Errorf("read after block still shows the blocked log:\n%s", got)
	}
	if _, stderr, code := scuttle(t, dir, "", nil, "block", "--db", bobDB, bob); code != 1 || !strings.Contains(stderr, "own log") {
		t.Errorf("block of the own log: exit %d, stderr %q", code, stderr)
	}
	if _, _, code := scuttle(t, dir, "", nil, "block", "--db", bobDB, "nonsense"); code != 2 {
		t.Errorf("block of a bad id: exit %d, want 2", code)
	}
	if out := mustScuttle(t, dir, "", "unblock", "--db", bobDB, alice); out != "unblocked "+alice+": peers may send it again\n" {
		t.Errorf("unblock: %q", out)
	}
	copyAll() // it may come back
	if logs := mustScuttle(t, dir, "", "logs", "--db", bobDB); !regexp.MustCompile(`(?m)^` + alice + ` +1 +1 +\d+ +$`).MatchString(logs) {
		t.Errorf("logs after unblock:\n%s", logs)
	}

	// while a writer (a chat) holds the database
	w, err := applog.Open(bobDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	out = mustScuttle(t, dir, "", "block", "--db", bobDB, alice)
	if want := "blocked " + alice + ": the running chat refuses it from now on, no longer shows or forwards it, and deletes its entries from disk within a second and the files only it shared within two\n"; out != want {
		t.Errorf("block while locked: %q, want %q", out, want)
	}
	deadline := time.Now().Add(time.Second)
	for !w.Refuses(applog.ID(alice)) {
		if time.Now().After(deadline) {
			t.Fatal("the writer did not apply the block within a second")
		}
		time.Sleep(20 * time.Millisecond) // polling a file another process wrote
	}
	if got := mustScuttle(t, dir, "", "read", "--db", bobDB); strings.Contains(got, "spam") || !strings.Contains(got, "hello") {
		t.Errorf("read while the writer runs, after block:\n%s", got)
	}
	// the running writer deletes the log's files itself
	aliceDir := filepath.Join(bobDB, alice)
	deadline = time.Now().Add(2 * time.Second)
	for {
		if _, err := os.Stat(aliceDir); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the running writer did not delete the blocked log's directory within 2 s")
		}
		time.Sleep(20 * time.Millisecond) // polling the file system: no event to await
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// and a writer's reopen makes no files for it
	w2, err := applog.Open(bobDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if h := w2.Head(applog.ID(alice)); h != 0 {
		t.Errorf("blocked log's head %d after the writer's reopen, want 0", h)
	}
	if _, err := os.Stat(aliceDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the blocked log's directory after the writer's reopen: %v; want it gone", err)
	}
}
