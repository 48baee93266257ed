package blob

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// TestSealedRoundTrip: AddSealed stores ciphertext cut in blocks where
// it was sealed (each block but the last exactly BlockSize), under an id
// whose manifest is sealed and parses back; its key is kept as id.key
// (0600); CopySealed gives back the content, whatever its size around
// the chunk boundaries, and the id.
func TestSealedRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, sealChunk - 1, sealChunk, sealChunk + 1, 2*sealChunk + 5} {
		s := newStore(t, nil)
		data := gen(50, n)
		id, m, key, err := s.AddSealed(writeSource(t, data))
		if err != nil {
			t.Fatal(err)
		}
		wantBlocks := max(1, (n+sealChunk-1)/sealChunk)
		if m.ID() != id || !m.Sealed() || m.Blocks() != wantBlocks || m.PlainSize() != int64(n) || m.Size() != sealedSize(int64(n)) || m.Size() != int64(n+16*wantBlocks) {
			t.Fatalf("%d bytes: manifest sealed %v, %d blocks, %d bytes (%d of content); want sealed, %d blocks, %d bytes", n, m.Sealed(), m.Blocks(), m.Size(), m.PlainSize(), wantBlocks, n+16*wantBlocks)
		}
		for i := range m.Blocks() - 1 {
			if m.BlockLen(i) != BlockSize {
				t.Errorf("%d bytes: block %d of %d bytes", n, i, m.BlockLen(i))
			}
		}
		b, _ := m.MarshalBinary()
		if !bytes.HasPrefix(b, []byte("scuttle blob s1\n")) {
			t.Errorf("%d bytes: a sealed manifest starts %q", n, b[:16])
		}
		if back, err := ParseManifest(b); err != nil || back.ID() != id || !back.Sealed() {
			t.Errorf("%d bytes: ParseManifest = %v; want the sealed manifest of %s", n, err, id)
		}
		// The same ciphertext hashed as a plain file: another id.
		ct := readAll(t, s, id)
		if pm, _ := Hash(bytes.NewReader(ct)); pm.ID() == id || pm.Sealed() || !bytes.Equal(pm.hashes, m.hashes) {
			t.Errorf("%d bytes: the ciphertext as a plain file: same id %v, or other block hashes", n, pm.ID() == id)
		}
		if k, ok, err := s.Key(id); err != nil || !ok || k != key {
			t.Errorf("%d bytes: Key = %v, %v; want the key AddSealed returned", n, ok, err)
		}
		if fi, err := os.Stat(s.path(id, keyExt)); err != nil || privateModes && fi.Mode().Perm() != 0o600 {
			t.Errorf("%d bytes: id.key: %v; want mode 0600", n, err)
		}
		var out bytes.Buffer
		got, err := CopySealed(&out, bytes.NewReader(ct), key)
		if err != nil || got.ID() != id || !bytes.Equal(out.Bytes(), data) {
			t.Errorf("%d bytes: CopySealed = %v, same id %v, %d bytes back, identical %v", n, err, got != nil && got.ID() == id, out.Len(), bytes.Equal(out.Bytes(), data))
		}
		r, err := s.OpenSealed(id, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := iotest.TestReader(r, data); err != nil {
			t.Errorf("%d bytes: OpenSealed: %v", n, err)
		}
		r.Close()
	}
}

// TestSealedNotForOthers: a peer that fetched every block of a sealed
// file, but not its key, holds no byte of its content: a known word of
// the content is in none of its store's files, nor in the sender's; and
// CopySealed with another key opens nothing.
func TestSealedNotForOthers(t *testing.T) {
	word := []byte("confidential-budget-figures")
	data := bytes.Repeat(append(word, ' '), 2*BlockSize/len(word))
	sender := newStore(t, nil)
	id, m, _, err := sender.AddSealed(writeSource(t, data))
	if err != nil {
		t.Fatal(err)
	}
	relay := newStore(t, nil)
	if err := relay.Begin(m); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, BlockSize)
	for i := range m.Blocks() {
		b, err := sender.ReadBlock(m, i, buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := relay.WriteBlock(id, i, b); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := relay.Have(id); err != nil || !st.Complete {
		t.Fatalf("the relay's copy: %+v, %v; want complete", st, err)
	}
	for _, s := range []*Store{sender, relay} {
		filepath.Walk(s.Dir(), func(p string, fi os.FileInfo, err error) error {
			if err != nil || !fi.Mode().IsRegular() {
				return err
			}
			if b, _ := os.ReadFile(p); bytes.Contains(b, word) {
				t.Errorf("%s holds the plaintext", p)
			}
			return nil
		})
	}
	if _, ok, err := relay.Key(id); ok || err != nil {
		t.Errorf("the relay has a key: %v, %v", ok, err)
	}
	f, err := relay.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	if _, err := CopySealed(&out, f, [KeySize]byte{1}); !errors.Is(err, ErrBadBlock) || out.Len() != 0 {
		t.Errorf("CopySealed with another key = %v, %d bytes out; want ErrBadBlock and none", err, out.Len())
	}
}

// TestSealedTampered: a sealed file whose ciphertext was changed, cut
// short at a block boundary, extended, or had two blocks swapped, does
// not open, and no byte of the bad block is written.
func TestSealedTampered(t *testing.T) {
	s := newStore(t, nil)
	data := gen(51, 3*sealChunk)
	id, _, key, err := s.AddSealed(writeSource(t, data))
	if err != nil {
		t.Fatal(err)
	}
	ct := readAll(t, s, id)
	swap := bytes.Clone(ct)
	copy(swap[:BlockSize], ct[BlockSize:2*BlockSize])
	copy(swap[BlockSize:], ct[:BlockSize])
	// In the store: OpenSealed gives the blocks before the bad one, then
	// the error.
	f, err := os.OpenFile(s.path(id, ""), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{ct[BlockSize+100] ^ 1}, BlockSize+100)
	f.Close()
	r, err := s.OpenSealed(id, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if !errors.Is(err, ErrBadBlock) || !bytes.Equal(got, data[:sealChunk]) {
		t.Errorf("OpenSealed of a file with block 1 changed: %d bytes, %v; want block 0's content and ErrBadBlock", len(got), err)
	}
	for _, tc := range []struct {
		name    string
		ct      []byte
		written int // bytes of content before the bad block
	}{
		{"bit flipped in block 1", func() []byte { b := bytes.Clone(ct); b[BlockSize+100] ^= 1; return b }(), sealChunk},
		{"tag changed in the last block", func() []byte { b := bytes.Clone(ct); b[len(b)-1] ^= 0x80; return b }(), 2 * sealChunk},
		{"cut after block 1", ct[:2*BlockSize], sealChunk},
		{"one byte short", ct[:len(ct)-1], 2 * sealChunk},
		{"a byte more", append(bytes.Clone(ct), 0), 2 * sealChunk},
		{"blocks 0 and 1 swapped", swap, 0},
		{"empty", nil, 0},
	} {
		var out bytes.Buffer
		_, err := CopySealed(&out, bytes.NewReader(tc.ct), key)
		if !errors.Is(err, ErrBadBlock) || out.Len() != tc.written || !bytes.Equal(out.Bytes(), data[:out.Len()]) {
			t.Errorf("%s: CopySealed = %v, %d bytes out; want ErrBadBlock after %d", tc.name, err, out.Len(), tc.written)
		}
	}
}

// TestSetKey: SetKey keeps the key of a file held (mode 0600), replaces
// it, refuses a file not held, and Remove deletes it.
func TestSetKey(t *testing.T) {
	s := newStore(t, nil)
	m, _ := Hash(bytes.NewReader(gen(52, 100)))
	if err := s.SetKey(m.ID(), [KeySize]byte{1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetKey of a file not held = %v, want ErrNotFound", err)
	}
	if err := s.Begin(m); err != nil {
		t.Fatal(err)
	}
	for _, k := range [][KeySize]byte{{1}, {2}, {2}} {
		if err := s.SetKey(m.ID(), k); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Key(m.ID()); err != nil || !ok || got != k {
			t.Errorf("Key = %x, %v, %v; want %x", got, ok, err, k)
		}
	}
	os.WriteFile(s.path(m.ID(), keyExt), []byte("short"), 0o600)
	if _, _, err := s.Key(m.ID()); err == nil || !strings.Contains(err.Error(), "5 bytes, want 32") {
		t.Errorf("Key of a damaged key file = %v", err)
	}
	if err := s.Remove(m.ID()); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Key(m.ID()); ok || err != nil {
		t.Errorf("Key after Remove = %v, %v; want none", ok, err)
	}
}

// TestSealedEntry: a sealed file's entry carries its key last, parses
// back, matches its manifest (and a plain one does not); bad keys are
// refused.
func TestSealedEntry(t *testing.T) {
	s := newStore(t, nil)
	id, m, key, err := s.AddSealed(writeSource(t, []byte("%PDF-1.7 hello")))
	if err != nil {
		t.Fatal(err)
	}
	e := NewSealedEntry("/tmp/a.pdf", m, key, []byte("%PDF-1.7"))
	want := `{"kind":"file","name":"a.pdf","size":14,"media":"application/pdf","id":"` + id.String() + `","key":"` + idEncoding.EncodeToString(key[:]) + `"}`
	if got := string(e.Encode()); got != want {
		t.Fatalf("Encode = %s\nwant     %s", got, want)
	}
	back, err := ParseEntry(e.Encode())
	if err != nil || back != e || !back.Sealed() {
		t.Fatalf("ParseEntry = %+v, %v; want %+v", back, err, e)
	}
	if err := e.Matches(m); err != nil {
		t.Errorf("Matches its manifest: %v", err)
	}
	plain, _ := Hash(strings.NewReader("%PDF-1.7 hello"))
	if err := e.Matches(plain); !errors.Is(err, ErrBadEntry) {
		t.Errorf("a sealed entry Matches a plain manifest: %v", err)
	}
	if err := NewEntry("a", plain, nil).Matches(m); !errors.Is(err, ErrBadEntry) {
		t.Errorf("a plain entry Matches a sealed manifest: %v", err)
	}
	if err := NewEntry("a", plain, nil).Matches(plain); err != nil {
		t.Errorf("a plain entry does not match its manifest: %v", err)
	}
	base := `{"kind":"file","name":"a","size":1,"id":"` + id.String() + `","key":`
	for _, tc := range []struct{ name, key string }{
		{"short", `"abc"`},
		{"zero", `"` + ID{}.String() + `"`},
		{"not canonical", `"` + id.String()[:51] + `b"`},
		{"empty", `""`},
	} {
		if _, err := ParseEntry([]byte(base + tc.key + `}`)); !errors.Is(err, ErrBadEntry) {
			t.Errorf("%s key: ParseEntry = %v, want ErrBadEntry", tc.name, err)
		}
	}
	big := `{"kind":"file","name":"a","size":17179869184,"id":"` + id.String() + `","key":"` + idEncoding.EncodeToString(key[:]) + `"}`
	if _, err := ParseEntry([]byte(big)); !errors.Is(err, ErrBadEntry) {
		t.Errorf("a sealed entry of MaxSize bytes: %v, want ErrBadEntry (past MaxSealedSize)", err)
	}
}

// TestSealedMemory: sealing streams: AddSealed and CopySealed of 32 MiB
// each allocate less than 2 MiB (their two block buffers, the cipher,
// the manifest), whatever the file's size.
func TestSealedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 32 MiB")
	}
	s := newStore(t, nil)
	src := writeSource(t, gen(54, 32<<20))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	id, _, key, err := s.AddSealed(src)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20 {
		t.Errorf("AddSealed of 32 MiB allocated %d bytes, want under 2 MiB", got)
	}
	f, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.ReadMemStats(&before)
	if _, err := CopySealed(io.Discard, f, key); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20 {
		t.Errorf("CopySealed of 32 MiB allocated %d bytes, want under 2 MiB", got)
	}
}

// TestSealedRefusals: the quota counts a sealed file at its ciphertext's
// size.
func TestSealedRefusals(t *testing.T) {
	data := gen(53, 100)
	s := newStore(t, &Options{MaxBytes: 115})
	if _, _, _, err := s.AddSealed(writeSource(t, data)); !errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), "116 more asked") {
		t.Errorf("AddSealed past the quota = %v, want ErrQuota for 116 bytes", err)
	}
}
