package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"scuttle/applog"
	"scuttle/applog/blob"
)

// fileData returns n deterministic bytes.
func fileData(n int) []byte {
	b := make([]byte, n+4)
	x := uint32(5)
	for i := 0; i < n; i += 4 {
		x = x*1664525 + 1013904223
		binary.LittleEndian.PutUint32(b[i:], x)
	}
	return b[:n]
}

// sourcesOf returns the logs the store of the database in dir records as
// naming the file id.
func sourcesOf(t *testing.T, dir string, id blob.ID) []applog.ID {
	t.Helper()
	s, err := blob.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Sources(id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// ownID returns the own log of the database in dir.
func ownID(t *testing.T, dir string) applog.ID {
	t.Helper()
	db, err := applog.Open(dir, &applog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.ID()
}

// ownEntries returns the entries of the own log of the database in dir.
func ownEntries(t *testing.T, dir string) []string {
	t.Helper()
	db, err := applog.Open(dir, &applog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []string
	it := db.Iter(db.ID(), 1)
	for it.Next() {
		out = append(out, string(it.Entry().Data))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSendGetFiles: send stores a file and appends its entry to the own
// log; get writes back the same bytes, to a file or standard output;
// files lists it; a file not all here makes get exit 1 saying how much
// is; an unknown id exits 1, a malformed one 2.
func TestSendGetFiles(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "alice.db")
	data := fileData(2*blob.BlockSize + 1000)
	src := filepath.Join(dir, "slides.pdf")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runInProcess(t, nil, "", "send", "--db", db, src)
	m, _ := blob.Hash(bytes.NewReader(data))
	id := m.ID().String()
	if want := "sent slides.pdf (525.3 kB) " + id + "\n"; code != 0 || out != want {
		t.Fatalf("send: exit %d, %q (stderr %q), want %q", code, out, stderr, want)
	}
	want := `{"kind":"file","name":"slides.pdf","size":525288,"media":"application/pdf","id":"` + id + `"}`
	if got := ownEntries(t, db); len(got) != 1 || got[0] != want {
		t.Fatalf("own log holds %q, want the one entry %s", got, want)
	}
	if got := sourcesOf(t, db, m.ID()); len(got) != 1 || got[0] != ownID(t, db) {
		t.Errorf("sources of the sent file: %v, want the own log", got)
	}

	outFile := filepath.Join(dir, "copy.pdf")
	out, stderr, code = runInProcess(t, nil, "", "get", "--db", db, "-o", outFile, id)
	if code != 0 || out != "wrote "+outFile+": 525288 bytes of "+id+"\n" {
		t.Fatalf("get -o: exit %d, %q, stderr %q", code, out, stderr)
	}
	if got, _ := os.ReadFile(outFile); !bytes.Equal(got, data) {
		t.Fatalf("get -o wrote %d bytes that differ from the %d sent", len(got), len(data))
	}
	out, _, code = runInProcess(t, nil, "", "get", "--db", db, id)
	if code != 0 || out != string(data) {
		t.Fatalf("get to stdout: exit %d, %d bytes, identical %v", code, len(out), out == string(data))
	}

	// A file of three blocks begun, one block here.
	part := fileData(3 * blob.BlockSize)[1:]
	pm, _ := blob.Hash(bytes.NewReader(part))
	store, err := blob.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Begin(pm); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteBlock(pm.ID(), 0, part[:blob.BlockSize]); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = runInProcess(t, nil, "", "get", "--db", db, "-o", filepath.Join(dir, "partial"), pm.ID().String())
	if code != 1 || out != "" || !strings.Contains(stderr, "file incomplete: "+pm.ID().String()+": 1 of 3 blocks here (262144 of 786431 bytes)") {
		t.Errorf("get of a partial file: exit %d, stdout %q, stderr %q; want 1 and how much is here", code, out, stderr)
	}
	if _, err := os.Lstat(filepath.Join(dir, "partial")); err == nil {
		t.Errorf("get of a partial file made the output file")
	}

	out, _, code = runInProcess(t, nil, "", "files", "--db", db)
	rows := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ID +SIZE +HELD$`),
		regexp.MustCompile(`(?m)^` + id + ` +525\.3 kB +complete$`),
		regexp.MustCompile(`(?m)^` + pm.ID().String() + ` +786\.4 kB +1 of 3 blocks$`),
	}
	for _, re := range rows {
		if code != 0 || !re.MatchString(out) {
			t.Errorf("files: exit %d, lacks %s:\n%s", code, re, out)
		}
	}
	out, _, code = runInProcess(t, nil, "", "files", "--db", db, "--json")
	for _, line := range []string{
		`{"id":"` + id + `","size":525288,"blocks":3,"held":3,"complete":true}`,
		`{"id":"` + pm.ID().String() + `","size":786431,"blocks":3,"held":1,"complete":false}`,
	} {
		if code != 0 || !hasLine(out, line) {
			t.Errorf("files --json lacks %s:\n%s", line, out)
		}
	}

	unknown, _ := blob.Hash(strings.NewReader("nobody has this"))
	if _, stderr, code := runInProcess(t, nil, "", "get", "--db", db, unknown.ID().String()); code != 1 || !strings.Contains(stderr, "not in the store") {
		t.Errorf("get of an unknown id: exit %d, stderr %q; want 1, not in the store", code, stderr)
	}
	if _, _, code := runInProcess(t, nil, "", "get", "--db", db, "nonsense"); code != 2 {
		t.Errorf("get of a malformed id: exit %d, want 2", code)
	}
	if _, _, code := runInProcess(t, nil, "", "send", "--db", db); code != 2 {
		t.Errorf("send without PATH: exit %d, want 2", code)
	}
	if _, stderr, code := runInProcess(t, nil, "", "send", "--db", db, filepath.Join(dir, "none")); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("send of a missing file: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := runInProcess(t, nil, "", "send", "--db", db, "--max-blob-bytes", "1000", src); code != 1 || !strings.Contains(stderr, "quota") {
		t.Errorf("send past the quota: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := runInProcess(t, nil, "", "send", "--db", db, "--max-blob-bytes", "-1", src); code != 2 || !strings.Contains(stderr, "--max-blob-bytes -1: want 0 (no quota) or more") {
		t.Errorf("send with a negative quota: exit %d, stderr %q; want 2", code, stderr)
	}
}

// TestSendWhileChatRuns: while another writer (a chat) holds the
// database, send stores the file and queues its entry; the chat's
// outbox loop appends it to the own log.
func TestSendWhileChatRuns(t *testing.T) {
	dir := t.TempDir()
	dbDir := filepath.Join(dir, "alice.db")
	w, err := applog.Open(dbDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	src := filepath.Join(dir, "notes")
	os.WriteFile(src, []byte("plain notes\n"), 0o644)
	out, stderr, code := runInProcess(t, nil, "", "send", "--db", dbDir, src)
	m, _ := blob.Hash(strings.NewReader("plain notes\n"))
	if want := "queued notes (12 B) " + m.ID().String() + ": the running chat adds it to the own log within a second\n"; code != 0 || out != want {
		t.Fatalf("send while locked: exit %d, %q (stderr %q), want %q", code, out, stderr, want)
	}
	if n := w.Head(w.ID()); n != 0 {
		t.Fatalf("own log has %d entries before the chat drained", n)
	}
	if got := sourcesOf(t, dbDir, m.ID()); len(got) != 0 {
		t.Fatalf("sources before the chat drained: %v, want none (only the writer records them)", got)
	}
	// One round of the chat's loop: it drains before it looks at ctx.
	store, err := blob.Open(dbDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startOutbox(context.Background(), store, w, slog.New(slog.DiscardHandler))
	stop()
	e, err := w.Get(w.ID(), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"file","name":"notes","size":12,"media":"text/plain; charset=utf-8","id":"` + m.ID().String() + `"}`
	if string(e.Data) != want {
		t.Errorf("own log entry %s, want %s", e.Data, want)
	}
	if n := w.Head(w.ID()); n != 1 {
		t.Errorf("own log has %d entries, want 1", n)
	}
	if got := sourcesOf(t, dbDir, m.ID()); len(got) != 1 || got[0] != w.ID() {
		t.Errorf("sources after the chat drained: %v, want the own log", got)
	}
}

// TestSendEscapesName: a file name with a terminal escape prints
// escaped, and is stored in the entry as it is.
func TestSendEscapesName(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no escape bytes in Windows file names")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "alice.db")
	src := filepath.Join(dir, "a\x1b[2Jb")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runInProcess(t, nil, "", "send", "--db", db, src)
	if code != 0 || strings.ContainsRune(out, 0x1b) || !strings.HasPrefix(out, "sent a") {
		t.Fatalf("send: exit %d, %q (stderr %q); want the name escaped", code, out, stderr)
	}
	got := ownEntries(t, db)
	if len(got) != 1 || !strings.Contains(got[0], `"name":"a\u001b[2Jb"`) {
		t.Errorf("own log holds %q, want the name as it is", got)
	}
}
