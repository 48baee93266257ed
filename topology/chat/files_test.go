package chat

import (
	"os"
	"path/filepath"
	"testing"

	"scuttle/applog/blob"
	"scuttle/applog/seal"
)

// The files shared in the chat (files.go), chats in this process as in
// chat_test.go, each with its database's store of files.

// startFileChat runs a chat with the store of files of its database, in
// dir (a new one if dir is ""), fetching files up to fetchMax bytes by
// itself, and the database's keyring.
func startFileChat(t *testing.T, fn *fakeNet, dir string, opts *blob.Options, fetchMax int64, me string, peers ...string) (*unitChat, *blob.Store) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	store, err := blob.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := seal.OpenKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	u := startUnitChatWith(t, fn, nil, func(c *Config) {
		c.Blobs, c.FetchMax, c.Keys = store, fetchMax, kr
	}, nil, dir, me, peers...)
	return u, store
}

// writeFile writes data to a file named name in a new directory, and
// returns its path and its content id.
func writeFile(t *testing.T, name string, data []byte) (string, blob.ID) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := blob.Hash(f)
	if err != nil {
		t.Fatal(err)
	}
	return p, m.ID()
}

// fileEntries returns the file entries of the own log of u.
func fileEntries(t *testing.T, u *unitChat) []blob.Entry {
	t.Helper()
	var out []blob.Entry
	it := u.db.Iter(u.db.ID(), 1)
	defer it.Close()
	for it.Next() {
		if e, err := blob.ParseEntry(it.Entry().Data); err == nil {
			out = append(out, e)
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUnitChatSend: /send copies the file into the store, appends one
// entry to the own log, and the line shows exactly as the peer shows
// it: "alice> [file] NAME (SIZE) ID".
func TestUnitChatSend(t *testing.T) {
	fn := newFakeNet()
	a, store := startFileChat(t, fn, "", nil, 0, "alice", "bob")
	b, _ := startFileChat(t, fn, "", nil, 0, "bob", "alice")
	a.expect(publishedLine, "info> direct connection to bob")
	b.expect(publishedLine, "info> direct connection to alice")
	p, id := writeFile(t, "notes.txt", []byte("hello, world"))
	a.say("/send " + p)
	want := "alice> [file] notes.txt (12 B) " + id.String()
	a.expectNext(want)
	b.expect(want)
	st, err := store.Have(id)
	if err != nil || !st.Complete || st.Size != 12 {
		t.Errorf("alice's store holds %+v, %v of the file; want it complete, 12 bytes", st, err)
	}
	got := fileEntries(t, a)
	wantEntry := blob.Entry{Name: "notes.txt", Size: 12, Media: "text/plain; charset=utf-8", ID: id}
	if len(got) != 1 || string(got[0].Encode()) != string(wantEntry.Encode()) {
		t.Errorf("alice's own log holds the file entries %+v, want one of notes.txt", got)
	}
}
