package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/blob"
)

// logOf returns the own log id of a new database in dir/name.
func logOf(t *testing.T, dir, name string) applog.ID {
	t.Helper()
	db, err := applog.Open(filepath.Join(dir, name), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.ID()
}

// storeFile adds data to the store of the database in db, named by the
// given logs, and returns its id.
func storeFile(t *testing.T, db string, data []byte, sources ...applog.ID) blob.ID {
	t.Helper()
	s, err := blob.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, data, 0o600)
	id, _, err := s.Add(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range sources {
		if err := s.AddSource(id, a); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// listed returns the ids scuttle files --json lists.
func listed(t *testing.T, db string) []string {
	t.Helper()
	out, stderr, code := runInProcess(t, nil, "", "files", "--db", db, "--json")
	if code != 0 {
		t.Fatalf("files: exit %d, %s", code, stderr)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if i := strings.Index(line, `"id":"`); i >= 0 {
			ids = append(ids, line[i+6:i+6+52])
		}
	}
	slices.Sort(ids)
	return ids
}

// TestBlockRemovesFiles: scuttle block deletes the files that only the
// blocked log named and says how many; a file another log also named
// stays, and so does the own; while a chat holds the database, the
// chat's outbox loop does it once its writer has read the block.
func TestBlockRemovesFiles(t *testing.T) {
	dir := t.TempDir()
	bobDB := filepath.Join(dir, "bob.db")
	bob := logOf(t, dir, "bob.db")
	alice, carol, dave := logOf(t, dir, "alice.db"), logOf(t, dir, "carol.db"), logOf(t, dir, "dave.db")
	src := filepath.Join(dir, "own.txt")
	os.WriteFile(src, []byte("bob's own"), 0o600)
	if out, stderr, code := runInProcess(t, nil, "", "send", "--db", bobDB, src); code != 0 {
		t.Fatalf("send: exit %d, %q %q", code, out, stderr)
	}
	own, _ := blob.Hash(strings.NewReader("bob's own"))
	aliceOnly := storeFile(t, bobDB, []byte("alice 1"), alice)
	aliceOnly2 := storeFile(t, bobDB, []byte("alice 2"), alice)
	shared := storeFile(t, bobDB, []byte("alice and carol"), alice, carol)
	daveOnly := storeFile(t, bobDB, []byte("dave"), dave)
	ids := func(x ...blob.ID) []string {
		var out []string
		for _, id := range x {
			out = append(out, id.String())
		}
		slices.Sort(out)
		return out
	}
	if got, want := listed(t, bobDB), ids(own.ID(), aliceOnly, aliceOnly2, shared, daveOnly); !slices.Equal(got, want) {
		t.Fatalf("files before the block: %v, want %v", got, want)
	}

	out := mustScuttle(t, dir, "", "block", "--db", bobDB, string(alice))
	if want := "blocked " + string(alice) + ": its entries and 2 files only it shared are deleted, and it is refused from every peer\n"; out != want {
		t.Errorf("block: %q, want %q", out, want)
	}
	if got, want := listed(t, bobDB), ids(own.ID(), shared, daveOnly); !slices.Equal(got, want) {
		t.Errorf("files after the block: %v, want %v", got, want)
	}
	s, err := blob.Open(bobDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Sources(shared); err != nil || !slices.Equal(got, []applog.ID{carol}) {
		t.Errorf("sources of the shared file: %v, %v; want carol alone", got, err)
	}
	if got, err := s.Sources(own.ID()); err != nil || !slices.Equal(got, []applog.ID{bob}) {
		t.Errorf("sources of the own file: %v, %v; want the own log", got, err)
	}

	// While a writer (a chat) holds the database.
	w, err := applog.Open(bobDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	out = mustScuttle(t, dir, "", "block", "--db", bobDB, string(dave))
	if !strings.HasPrefix(out, "blocked "+string(dave)+": the running chat refuses it from now on") {
		t.Errorf("block while a chat runs: %q", out)
	}
	if got, want := listed(t, bobDB), ids(own.ID(), shared, daveOnly); !slices.Equal(got, want) {
		t.Errorf("files before the chat applied the block: %v, want %v", got, want)
	}
	deadline := time.Now().Add(time.Second)
	for !w.Blocked(dave) {
		if time.Now().After(deadline) {
			t.Fatal("the writer did not read the block within a second")
		}
		time.Sleep(20 * time.Millisecond) // polling a file another process wrote
	}
	store, err := blob.Open(bobDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startOutbox(context.Background(), store, w, slog.New(slog.DiscardHandler)) // one round
	stop()
	if got, want := listed(t, bobDB), ids(own.ID(), shared); !slices.Equal(got, want) {
		t.Errorf("files after the chat's round: %v, want %v", got, want)
	}
}

// TestGetSealed: get writes out a sealed file with the key the store
// keeps; without the key it exits 1 saying so, and makes no output
// file; a tampered block exits 1 and leaves no output file.
func TestGetSealed(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "alice.db")
	logOf(t, dir, "alice.db")
	data := bytes.Repeat([]byte("secret plans "), 50_000) // 650 kB, 3 blocks
	p := filepath.Join(dir, "plans.txt")
	os.WriteFile(p, data, 0o600)
	s, err := blob.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, _, key, err := s.AddSealed(p)
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runInProcess(t, nil, "", "get", "--db", db, id.String())
	if code != 0 || out != string(data) {
		t.Fatalf("get of a sealed file: exit %d, %d bytes, identical %v, stderr %q", code, len(out), out == string(data), stderr)
	}
	outFile := filepath.Join(dir, "copy.txt")
	out, _, code = runInProcess(t, nil, "", "get", "--db", db, "-o", outFile, id.String())
	if want := "wrote " + outFile + ": 650000 bytes of " + id.String() + "\n"; code != 0 || out != want {
		t.Errorf("get -o of a sealed file: exit %d, %q, want %q", code, out, want)
	}

	keyFile := filepath.Join(db, "blobs", id.String()+".key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	noKey := filepath.Join(dir, "nokey")
	out, stderr, code = runInProcess(t, nil, "", "get", "--db", db, "-o", noKey, id.String())
	if want := id.String() + " is sealed and its key is not here"; code != 1 || out != "" || !strings.Contains(stderr, want) {
		t.Errorf("get without the key: exit %d, %q, stderr %q; want 1 and %q", code, out, stderr, want)
	}
	if _, err := os.Lstat(noKey); err == nil {
		t.Errorf("get without the key made the output file")
	}

	if err := s.SetKey(id, key); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(db, "blobs", id.String()), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{'x'}, blob.BlockSize+7)
	f.Close()
	bad := filepath.Join(dir, "bad")
	_, stderr, code = runInProcess(t, nil, "", "get", "--db", db, "-o", bad, id.String())
	if code != 1 || !strings.Contains(stderr, "block 1 of a sealed file does not open with its key") {
		t.Errorf("get of a tampered sealed file: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Lstat(bad); err == nil {
		t.Errorf("get of a tampered sealed file left the output file")
	}
}
