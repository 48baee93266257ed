package chat

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"scuttle/applog/blob"
	"scuttle/applog/seal"
	"scuttle/topology/testkit"
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

// TestUnitChatSendErrors: a /send or /get that cannot be done says why
// in one info line and sends nothing: no such file, a directory, the
// store's quota; /get of an id that is not one, and of an id no line
// showed; /send and /get in a chat without a store. bob, connected,
// sees nothing but the last line.
func TestUnitChatSendErrors(t *testing.T) {
	fn := newFakeNet()
	a, _ := startFileChat(t, fn, "", &blob.Options{MaxBytes: 10}, 0, "alice", "bob")
	b := startUnitChat(t, fn, "", "bob", "alice")
	a.expect(publishedLine, "info> direct connection to bob")
	b.expect("info> direct connection to alice")

	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.txt")
	big, bigID := writeFile(t, "big.bin", make([]byte, 11))
	_, unknown := writeFile(t, "x", []byte("x"))
	_, statErr := os.Stat(missing)
	for _, tt := range []struct{ typed, want string }{
		{"/send " + missing, "info> /send: " + Escape(statErr.Error()) + ": not sent"},
		{"/send " + dir, "info> /send: " + Escape(dir) + " is not a regular file: not sent"},
		{"/send " + big, "info> /send: adding " + Escape(big) + ": blob: store quota reached: 0 bytes held and 11 more asked, the quota is 10: not sent"},
		{"/send", "info> usage: /send PATH..."},
		{"/get nonsense", "info> /get: " + Escape(blobIDErr("nonsense"))},
		{"/get " + unknown.String(), "info> /get: no file " + unknown.String() + " was shown in this chat: /get takes the id of a [file] line"},
		{"/get " + bigID.String(), "info> /get: no file " + bigID.String() + " was shown in this chat: /get takes the id of a [file] line"},
	} {
		a.say(tt.typed)
		a.expectNext(tt.want)
	}
	b.say("/send " + big)
	b.expectNext("info> /send: files are off in this chat: it has no store of files")
	b.say("/get " + bigID.String())
	b.expectNext("info> /get: files are off in this chat: it has no store of files")
	a.say("last")
	a.expectNext("alice> last")
	b.expectNext("alice> last") // nothing between: nothing was sent
	if got := fileEntries(t, a); len(got) != 0 {
		t.Errorf("alice's own log holds the file entries %+v, want none", got)
	}
}

// blobIDErr is blob.ParseID's error for s.
func blobIDErr(s string) string {
	_, err := blob.ParseID(s)
	return err.Error()
}

// TestUnitChatSendPrivate: alice /sends a file in the private room #r of
// alice and bob; carol, connected to both, is not a member. alice and
// bob show "#r alice> [file] NAME (SIZE) ID"; carol shows nothing of it.
// alice's store holds the file sealed: no byte of its plaintext is in
// any file of blobs/. bob fetches it by himself (it is small) and reads
// it with the key of the entry; carol, made to fetch the same blocks,
// holds them but no key, and cannot read them.
func TestUnitChatSendPrivate(t *testing.T) {
	fn := newFakeNet()
	a, as := startFileChat(t, fn, "", nil, 1<<20, "alice", "bob", "carol")
	b, bs := startFileChat(t, fn, "", nil, 1<<20, "bob", "alice", "carol")
	c, cs := startFileChat(t, fn, "", nil, 1<<20, "carol", "alice", "bob")
	a.expect(publishedLine, "info> direct connection to bob", "info> direct connection to carol")
	b.expect(publishedLine, "info> direct connection to alice", "info> direct connection to carol")
	c.expect(publishedLine, "info> direct connection to alice", "info> direct connection to bob")
	for _, u := range []*unitChat{a, b, c} { // each key entry comes before its log's line
		u.say("hi from " + u.name)
	}
	for _, u := range []*unitChat{a, b, c} {
		u.expect("alice> hi from alice", "bob> hi from bob", "carol> hi from carol")
		u.drain()
	}
	a.say("/join #r")
	a.expectNext("info> made #r: your lines go to it, sealed; /invite NAME gives NAME its key")
	a.say("/invite bob")
	a.expectNext("info> gave the key of #r to bob: members now alice, bob")
	b.expectNext("info> #r: members now alice, bob (key from alice)")

	secret := []byte("the secret plans, in a file of their own")
	p, _ := writeFile(t, "plans.txt", secret)
	a.say("/send " + p)
	line := a.expectFile("#r alice> [file] plans.txt (40 B) ")
	id, err := blob.ParseID(line[len(line)-52:])
	if err != nil {
		t.Fatal(err)
	}
	b.expectNext(line)
	b.expectNext("info> plans.txt complete: scuttle get " + id.String())
	a.say("/join")
	a.expectNext("info> your lines go to the public room")
	a.say("public end")
	for _, u := range []*unitChat{a, b, c} {
		u.expect("alice> public end")
	}
	checkPlain(t, bs, id, secret)

	// carol fetches the blocks of the id, as a relay may: told of the
	// file (its id, and that it is sealed and of 40 bytes, which the
	// chat checks the manifest against), not of its key.
	c.c.files.add(blob.Entry{Name: id.String(), Size: int64(len(secret)), ID: id, Key: [blob.KeySize]byte{1}}, a.db.ID())
	c.c.fetcher.Get(id)
	c.expectNext("info> " + id.String() + " complete: scuttle get " + id.String())
	for _, u := range []*unitChat{a, b, c} {
		u.stop(fn)
	}
	checkNoWords(t, c, "plans")
	realKey, _, err := bs.Key(id)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok, err := cs.Key(id); err != nil || (ok && k == realKey) {
		t.Errorf("carol's store keeps the key of the sealed file (%v)", err)
	}
	for _, s := range []*blob.Store{as, cs} {
		des, err := os.ReadDir(s.Dir())
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			data, err := os.ReadFile(filepath.Join(s.Dir(), de.Name()))
			if err == nil && bytes.Contains(data, secret[:10]) {
				t.Errorf("%s holds the plaintext", filepath.Join(s.Dir(), de.Name()))
			}
		}
	}
	f, err := cs.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := blob.CopySealed(io.Discard, f, [blob.KeySize]byte{1}); !errors.Is(err, blob.ErrBadBlock) {
		t.Errorf("carol opened the sealed file with a key of her own: %v", err)
	}
}

// expectFile waits for the next line of output, which must start with
// prefix and end with a content id, and returns it.
func (u *unitChat) expectFile(prefix string) string {
	u.t.Helper()
	select {
	case l := <-u.out.lines:
		u.seen = append(u.seen, l)
		if !strings.HasPrefix(l, prefix) || len(l) != len(prefix)+52 {
			u.t.Fatalf("%s printed %q, want %q and an id", u.name, l, prefix)
		}
		return l
	case <-time.After(testkit.ChatWait):
		u.t.Fatalf("%s printed no line within %v, want %q and an id", u.name, testkit.ChatWait, prefix)
	}
	return ""
}

// checkPlain fails the test unless store holds the file id complete
// and its content, opened with its key if sealed, is want.
func checkPlain(t *testing.T, store *blob.Store, id blob.ID, want []byte) {
	t.Helper()
	f, err := store.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got bytes.Buffer
	key, sealed, err := store.Key(id)
	if err != nil {
		t.Fatal(err)
	}
	if sealed {
		_, err = blob.CopySealed(&got, f, key)
	} else {
		_, err = blob.Copy(&got, f)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("the file %s holds %q, want %q", id, got.Bytes(), want)
	}
}

// TestUnitChatFetch: bob fetches by himself the file alice /sends of up
// to --fetch-max bytes, and holds the same bytes; one larger he shows
// but does not fetch until /get, which then tells of its completion.
func TestUnitChatFetch(t *testing.T) {
	fn := newFakeNet()
	a, as := startFileChat(t, fn, "", nil, 0, "alice", "bob")
	b, bs := startFileChat(t, fn, "", nil, 300<<10, "bob", "alice")
	a.expect(publishedLine, "info> direct connection to bob")
	b.expect(publishedLine, "info> direct connection to alice")

	small := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16) // 300 KiB: 2 blocks, at fetch-max
	large := append(bytes.Clone(small), 'x')                      // one byte more
	ps, sid := writeFile(t, "small.bin", small)
	pl, lid := writeFile(t, "large.bin", large)
	a.say("/send " + ps)
	a.expectNext("alice> [file] small.bin (307.2 kB) " + sid.String())
	b.expectNext("alice> [file] small.bin (307.2 kB) " + sid.String())
	b.expectNext("info> small.bin complete: scuttle get " + sid.String())
	checkPlain(t, bs, sid, small)

	a.say("/send " + pl)
	a.expectNext("alice> [file] large.bin (307.2 kB) " + lid.String())
	b.expectNext("alice> [file] large.bin (307.2 kB) " + lid.String())
	a.say("between")
	b.expectNext("alice> between") // no completion before it: not fetched
	if _, err := bs.Have(lid); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("bob's store holds something of the large file before /get: %v", err)
	}
	b.say("/get " + lid.String())
	b.expectNext("info> fetching large.bin (307.2 kB) from the peers that hold it")
	b.expectNext("info> large.bin complete: scuttle get " + lid.String())
	checkPlain(t, bs, lid, large)
	b.say("/get " + lid.String())
	b.expectNext("info> large.bin is here: scuttle get " + lid.String())
	if _, err := as.Have(lid); err != nil {
		t.Errorf("alice's store: %v", err)
	}
}

// TestUnitChatBlockFiles: bob holds the file carol sent (fetched by
// itself) and the one alice sent; /block carol removes carol's file from
// his store and leaves alice's; a file named by both is kept.
func TestUnitChatBlockFiles(t *testing.T) {
	fn := newFakeNet()
	a, _ := startFileChat(t, fn, "", nil, 1<<20, "alice", "bob")
	b, bs := startFileChat(t, fn, "", nil, 1<<20, "bob", "alice", "carol")
	c, _ := startFileChat(t, fn, "", nil, 1<<20, "carol", "bob")
	a.expect(publishedLine, "info> direct connection to bob")
	c.expect(publishedLine, "info> direct connection to bob")
	b.expect(publishedLine, "info> direct connection to alice", "info> direct connection to carol")

	pc, cid := writeFile(t, "carols.txt", []byte("carol's file"))
	pa, aid := writeFile(t, "alices.txt", []byte("alice's file"))
	pboth, both := writeFile(t, "both.txt", []byte("a file of both"))
	c.say("/send " + pc)
	b.expect("carol> [file] carols.txt (12 B) "+cid.String(), "info> carols.txt complete: scuttle get "+cid.String())
	a.say("/send " + pa)
	b.expect("alice> [file] alices.txt (12 B) "+aid.String(), "info> alices.txt complete: scuttle get "+aid.String())
	c.say("/send " + pboth)
	b.expect("carol> [file] both.txt (14 B) "+both.String(), "info> both.txt complete: scuttle get "+both.String())
	a.say("/send " + pboth)
	b.expect("alice> [file] both.txt (14 B) " + both.String())
	b.drain()

	b.say("/block carol")
	b.expectNext("info> blocked carol "+string(c.db.ID())+": its entries are deleted within a second, and it is refused from every peer from now on; scuttle unblock undoes it",
		"info> deleted 1 of its files, which no other log named")
	if _, err := bs.Have(cid); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("bob's store holds carol's file after the block: %v", err)
	}
	for _, id := range []blob.ID{aid, both} {
		if st, err := bs.Have(id); err != nil || !st.Complete {
			t.Errorf("bob's store after the block: %s: %+v, %v; want it complete", id, st, err)
		}
	}
}

// TestUnitChatImage: the images a chat shows may be read back by id
// (Chat.Image, which the web page's GET /image/{id} serves): a PNG alice
// /sent shows with Line.Image set, and Image returns "image/png" and its
// bytes; an SVG, a text file, an id no line showed and an id that is not
// one are refused with ErrNoImage, and their lines name no image.
func TestUnitChatImage(t *testing.T) {
	fn := newFakeNet()
	a, _ := startFileChat(t, fn, "", nil, 0, "alice")
	a.expect(publishedLine)
	lines := make(chan Line, 16)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	subscribe(a.c, ctx, func(l Line) error {
		if l.Kind == Message {
			lines <- l
		}
		return nil
	})
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR not really")
	ppng, pid := writeFile(t, "cat.png", png)
	psvg, sid := writeFile(t, "cat.svg", []byte("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"))
	ptxt, tid := writeFile(t, "cat.txt", []byte("not an image"))
	_, unshown := writeFile(t, "other.png", []byte("\x89PNG\r\n\x1a\nother"))
	for _, tt := range []struct {
		path  string
		id    blob.ID
		image string
	}{{ppng, pid, pid.String()}, {psvg, sid, ""}, {ptxt, tid, ""}} {
		a.say("/send " + tt.path)
		l := await(t, lines, "line of "+filepath.Base(tt.path))
		if l.Image != tt.image || !strings.HasSuffix(l.Text, tt.id.String()) {
			t.Errorf("%s shows as %q with Image %q, want %q", filepath.Base(tt.path), l.Text, l.Image, tt.image)
		}
	}
	media, r, err := a.c.Image(pid.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if media != "image/png" || err != nil || !bytes.Equal(got, png) {
		t.Errorf("Image(png): %q, %q, %v; want image/png and the file", media, got, err)
	}
	for _, id := range []string{sid.String(), tid.String(), unshown.String(), "nonsense"} {
		if _, _, err := a.c.Image(id); !errors.Is(err, ErrNoImage) {
			t.Errorf("Image(%s): %v, want ErrNoImage", id, err)
		}
	}
}

// TestUnitChatFilesScreen: /send and /get typed through Type (the
// terminal's and the web page's way) do what they do from the pipe: bob,
// on a Screen, sends an image whose name holds a terminal escape; both
// print the same line, the name escaped; alice, on the pipe, fetches it
// by herself, and bob's Screen got the line with Image set.
func TestUnitChatFilesScreen(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no escape bytes in Windows file names")
	}
	fn := newFakeNet()
	a, as := startFileChat(t, fn, "", nil, 1<<20, "alice", "bob")
	bdir := t.TempDir()
	kr, err := seal.OpenKeyring(bdir)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := blob.Open(bdir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var scr *recScreen
	b := startUnitChatWith(t, fn, nil, func(c *Config) {
		scr = newRecScreen(c.Out.(*lineWriter))
		c.Out = failWriter{t}
		c.Screen = scr
		c.Keys, c.Blobs = kr, bs
	}, nil, bdir, "bob", "alice")
	a.expect(publishedLine, "info> direct connection to bob")
	b.expect(publishedLine, "info> direct connection to alice")

	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR not really")
	p, id := writeFile(t, "a\x1b[2Jb.png", png)
	b.typeLine("/send " + p)
	want := `bob> [file] a\x1b[2Jb.png (27 B) ` + id.String()
	b.expectNext(want)
	a.expect(want, `info> a\x1b[2Jb.png complete: scuttle get `+id.String())
	checkPlain(t, as, id, png)
	b.typeLine("/get " + id.String())
	b.expectNext(`info> a\x1b[2Jb.png is here: scuttle get ` + id.String())

	var got []Line
	for _, l := range scr.shown() {
		if l.Kind == Message && strings.Contains(l.Text, "[file]") {
			l.Time = time.Time{}
			got = append(got, l)
		}
	}
	wantLines := []Line{{Kind: Message, From: "bob", Log: b.db.ID(), Own: true, Text: `[file] a\x1b[2Jb.png (27 B) ` + id.String(), Image: id.String()}}
	if !slices.Equal(got, wantLines) {
		t.Errorf("bob's screen was shown\n%+v\nwant\n%+v", got, wantLines)
	}
}

// TestUnitChatImageSealed: an image /sent in a private room is held
// sealed, and Chat.Image hands it out opened with the key of its entry.
func TestUnitChatImageSealed(t *testing.T) {
	fn := newFakeNet()
	a, as := startFileChat(t, fn, "", nil, 0, "alice")
	a.expect(publishedLine)
	a.say("/join #r")
	a.expectNext("info> made #r: your lines go to it, sealed; /invite NAME gives NAME its key")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR sealed")
	p, plainID := writeFile(t, "s.png", png)
	a.say("/send " + p)
	line := a.expectFile("#r alice> [file] s.png (23 B) ")
	id, err := blob.ParseID(line[len(line)-52:])
	if err != nil {
		t.Fatal(err)
	}
	if id == plainID {
		t.Fatal("the file is held as it is, not sealed")
	}
	if _, sealed, err := as.Key(id); !sealed || err != nil {
		t.Errorf("the store keeps no key of the sealed file (%v)", err)
	}
	media, r, err := a.c.Image(id.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if media != "image/png" || err != nil || !bytes.Equal(got, png) {
		t.Errorf("Image of the sealed png: %q, %q, %v; want image/png and the file", media, got, err)
	}
}

// TestUnitChatFetchResumes: a fetch cut short (bob stopped with one of
// the file's three blocks on disk) carries on when bob's chat starts
// again and shows the file's line from its history: larger than
// --fetch-max, it is fetched without a new /get, from the blocks on
// disk. Before, the partial file stayed partial until the user typed
// /get again.
func TestUnitChatFetchResumes(t *testing.T) {
	fn := newFakeNet()
	a, _ := startFileChat(t, fn, "", nil, 0, "alice", "bob")
	bdir := t.TempDir()
	b, bs := startFileChat(t, fn, bdir, nil, 0, "bob", "alice")
	a.expect(publishedLine, "info> direct connection to bob")
	b.expect(publishedLine, "info> direct connection to alice")

	data := bytes.Repeat([]byte("resume me "), 600<<10/10) // 600 KiB: 3 blocks
	p, id := writeFile(t, "big.bin", data)
	a.say("/send " + p)
	line := "alice> [file] big.bin (614.4 kB) " + id.String()
	a.expectNext(line)
	b.expectNext(line)
	b.stop(fn)

	// What a fetch stopped after its first block leaves on disk.
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := blob.Hash(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := bs.Begin(m); err != nil {
		t.Fatal(err)
	}
	if err := bs.WriteBlock(id, 0, data[:blob.BlockSize]); err != nil {
		t.Fatal(err)
	}

	b, bs = startFileChat(t, fn, bdir, nil, 0, "bob", "alice")
	b.expect(line, "info> direct connection to alice", "info> big.bin complete: scuttle get "+id.String())
	checkPlain(t, bs, id, data)
}

// TestUnitChatFetchLyingEntry: an entry that claims 10 bytes for the id
// of a 600 KiB file is not fetched by itself under a --fetch-max of 300
// KiB: the manifest disagrees with the entry, and the fetch ends before
// the store makes room for it. Before, the whole file was fetched.
func TestUnitChatFetchLyingEntry(t *testing.T) {
	fn := newFakeNet()
	a, as := startFileChat(t, fn, "", nil, 0, "alice", "bob")
	b, bs := startFileChat(t, fn, "", nil, 300<<10, "bob", "alice")
	a.expect(publishedLine, "info> direct connection to bob")
	b.expect(publishedLine, "info> direct connection to alice")

	p, id := writeFile(t, "big.bin", bytes.Repeat([]byte("large "), 600<<10/6))
	if _, _, err := as.Add(p); err != nil {
		t.Fatal(err)
	}
	if err := as.AddSource(id, a.db.ID()); err != nil {
		t.Fatal(err)
	}
	lie := `{"kind":"file","name":"tiny.txt","size":10,"media":"text/plain","id":"` + id.String() + `"}`
	if _, err := a.db.Append([]byte(lie)); err != nil {
		t.Fatal(err)
	}
	b.expectNext("alice> [file] tiny.txt (10 B) " + id.String())
	b.expectNext("info> tiny.txt not fetched: blob: bad file entry: the entry of " + id.String() + " says 10 bytes, sealed false; its manifest 614400, sealed false")
	if _, err := bs.Have(id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("bob's store holds something of the file: %v", err)
	}
}
