package seal

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"scuttle/applog"
)

// The fuzz targets take bytes from outside: a payload (FuzzOpen,
// FuzzParseHeader), a key entry (FuzzParseKeyEntry), a room key and a
// direct body as an author seals them (FuzzParseRoom, FuzzParseDirect),
// and the keyring file (FuzzKeyring). Each fails on an empty corpus in
// testdata/fuzz, which go test -run TestVectors -update rewrites.

// fuzzWorld is fixed keys and payloads for the seeds and the targets.
type fuzzWorld struct {
	ctx       Context
	alice     *PrivateKey
	bob       *PrivateKey
	room      *Room
	direct    []byte
	invite    []byte
	line      []byte
	keyEntry  []byte
	keyring   []byte
	directPln []byte
}

func newFuzzWorld(t testing.TB) *fuzzWorld {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey)
	bobID := applog.IDOf(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)).Public().(ed25519.PublicKey))
	w := &fuzzWorld{ctx: Context{Author: applog.IDOf(pub), Network: []byte("net")}}
	w.alice, _ = newPrivateKeyBytes(bytes.Repeat([]byte{0xa1}, 32))
	w.bob, _ = newPrivateKeyBytes(bytes.Repeat([]byte{0xb0}, 32))
	w.room = &Room{Name: "ops", key: [32]byte{1, 2, 3}}
	var err error
	to := []Recipient{{Log: bobID, Key: w.bob.Public()}}
	if w.direct, err = Seal(w.ctx, w.alice, to, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if w.invite, err = Invite(w.ctx, w.alice, to, w.room); err != nil {
		t.Fatal(err)
	}
	if w.line, err = SealLine(w.ctx, w.room, []byte("line")); err != nil {
		t.Fatal(err)
	}
	w.keyEntry = KeyEntry(w.bob.Public())
	kr := &Keyring{keys: []*PrivateKey{w.alice, w.bob}, seqs: []uint64{1, 0}}
	w.keyring = kr.encode()
	w.directPln = encodeDirect(contentText, [][]byte{pub}, []byte("hi"))
	return w
}

// needCorpus fails f when testdata/fuzz/name holds no seed file.
func needCorpus(f *testing.F, name string) {
	es, err := os.ReadDir(filepath.Join("testdata", "fuzz", name))
	if err != nil || len(es) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s (%v)", name, err)
	}
}

func TestWriteFuzzCorpora(t *testing.T) {
	if !*update {
		t.Skip("writes the corpora with -update only")
	}
	w := newFuzzWorld(t)
	payloads := [][]byte{w.direct, w.invite, w.line, w.keyEntry, []byte(`{"username":"a","message":"b"}`), []byte(magic + "\x01\x01"), []byte(magic + "\x01\x02")}
	writeCorpus(t, "FuzzOpen", payloads)
	writeCorpus(t, "FuzzParseHeader", payloads)
	writeCorpus(t, "FuzzParseKeyEntry", [][]byte{w.keyEntry, w.keyEntry[:20], w.direct})
	writeCorpus(t, "FuzzParseRoom", [][]byte{w.room.encode(), w.room.encode()[:roomFixed]})
	writeCorpus(t, "FuzzParseDirect", [][]byte{w.directPln, {contentRoom, 0}, {contentText, 3, 1}})
	writeCorpus(t, "FuzzKeyring", [][]byte{w.keyring, w.keyring[:keyringHead]})
}

// FuzzOpen: Open never panics; it fails with ErrMalformed when
// ParseHeader does; what opens with bob's key or the room is one of the
// payloads sealed for them (the seeds), as forging needs their keys.
func FuzzOpen(f *testing.F) {
	needCorpus(f, "FuzzOpen")
	w := newFuzzWorld(f)
	f.Add(w.direct)
	f.Add(w.line)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Open(b, w.ctx, w.bob, w.room)
		_, herr := ParseHeader(b)
		if herr != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("ParseHeader: %v, Open: %v", herr, err)
		}
		if err == nil {
			// Only what was sealed for bob or the room, with its
			// content (the corpus's seeds are), can open: any other
			// would be a forgery.
			ok := m.Kind == Direct && m.RoomKey == nil && string(m.Text) == "hello" ||
				m.Kind == Direct && m.RoomKey != nil && bytes.Equal(m.RoomKey.encode(), w.room.encode()) ||
				m.Kind == RoomLine && string(m.Text) == "line"
			if !ok {
				t.Fatalf("%x opened into %+v, which nobody sealed", b, m)
			}
		}
	})
}

// FuzzParseHeader: ParseHeader never panics, and what it accepts is
// well formed down to its stanzas.
func FuzzParseHeader(f *testing.F) {
	needCorpus(f, "FuzzParseHeader")
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not matching ErrMalformed: %v", err)
			}
			return
		}
		switch h.Kind {
		case Direct:
			if h.Stanzas < 1 || len(b) < offStanza+h.Stanzas*stanzaSize+aeadOver {
				t.Fatalf("accepted %d bytes with %d stanzas", len(b), h.Stanzas)
			}
		case RoomLine:
			if len(b) < minLine {
				t.Fatalf("accepted a room line of %d bytes", len(b))
			}
		default:
			t.Fatalf("accepted kind %v", h.Kind)
		}
	})
}

// FuzzParseKeyEntry: what parses is exactly the entry KeyEntry makes of
// the key.
func FuzzParseKeyEntry(f *testing.F) {
	needCorpus(f, "FuzzParseKeyEntry")
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := ParseKeyEntry(b)
		if err != nil {
			return
		}
		if !bytes.Equal(KeyEntry(pub), b) {
			t.Fatalf("%x parses into a key whose entry is %x", b, KeyEntry(pub))
		}
	})
}

// FuzzParseRoom: a room key parses only in its one encoding.
func FuzzParseRoom(f *testing.F) {
	needCorpus(f, "FuzzParseRoom")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRoom(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.encode(), b) {
			t.Fatalf("%x parses into a room encoded as %x", b, r.encode())
		}
	})
}

// FuzzParseDirect: a direct body parses only in its one encoding.
func FuzzParseDirect(f *testing.F) {
	needCorpus(f, "FuzzParseDirect")
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, rs, content, err := parseDirect(b)
		if err != nil {
			return
		}
		if got := encodeDirect(typ, rs, content); !bytes.Equal(got, b) {
			t.Fatalf("%x parses into a body encoded as %x", b, got)
		}
	})
}

// FuzzKeyring: the keyring file is read only in its one encoding.
func FuzzKeyring(f *testing.F) {
	needCorpus(f, "FuzzKeyring")
	f.Fuzz(func(t *testing.T, b []byte) {
		kr := &Keyring{}
		if err := kr.decode(b); err != nil {
			return
		}
		if got := kr.encode(); !bytes.Equal(got, b) {
			t.Fatalf("%x reads into a keyring written as %x", b, got)
		}
	})
}
