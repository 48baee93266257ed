package applog

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

func TestParseID(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	good := string(idOf(pub))
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"valid", good, true},
		{"empty", "", false},
		{"short", good[:51], false},
		{"long", good + "a", false},
		{"upper case", strings.ToUpper(good), false},
		{"bad alphabet", "1" + good[1:], false},
		{"padding", good[:51] + "=", false},
		{"non-canonical last char", good[:51] + string(rune(good[51]+1)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParseID(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseID(%q): got error %v, want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok && string(id) != tt.in {
				t.Fatalf("got %q, want %q", id, tt.in)
			}
		})
	}
	if len(good) != 52 {
		t.Fatalf("id length %d, want 52", len(good))
	}
	if got := ID(good).Short(); got != good[:8] {
		t.Fatalf("Short: got %q, want %q", got, good[:8])
	}
	if k, ok := ID(good).publicKey(); !ok || !bytes.Equal(k, pub) {
		t.Fatalf("publicKey does not round-trip")
	}
}

func TestRecordCodec(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	s := &signer{priv: priv, pub: priv.Public().(ed25519.PublicKey)}
	var prev [hashSize]byte
	prev[0] = 7
	tests := []struct {
		name    string
		payload []byte
		sign    bool
	}{
		{"empty unsigned", nil, false},
		{"small signed", []byte("hello world"), true},
		{"max size signed", bytes.Repeat([]byte{1}, MaxEntrySize), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sg *signer
			if tt.sign {
				sg = s
			}
			f, h := appendRecord([]byte("xx"), 42, -5, &prev, tt.payload, sg)
			f = f[2:]
			wantLen := offPayload + len(tt.payload)
			if tt.sign {
				wantLen += sigSize
			}
			if len(f) != wantLen {
				t.Fatalf("frame length %d, want %d", len(f), wantLen)
			}
			r, err := decodeRecord(append(f, 9, 9, 9))
			if err != nil {
				t.Fatal(err)
			}
			if r.seq != 42 || r.time != -5 || !bytes.Equal(r.prev, prev[:]) || !bytes.Equal(r.payload, tt.payload) || r.signed() != tt.sign || len(r.frame) != len(f) {
				t.Fatalf("decoded %+v", r)
			}
			if r.hash() != h {
				t.Fatalf("hash differs between encoder and decoder")
			}
			if tt.sign && !verifySig(s.pub, 42, &h, r.sig) {
				t.Fatalf("signature does not verify")
			}
			if tt.sign && verifySig(s.pub, 43, &h, r.sig) {
				t.Fatalf("signature verifies for another seq")
			}
			for _, cut := range []int{0, 3, 7, len(f) - 1} {
				if _, err := decodeRecord(f[:cut]); !errors.Is(err, errShort) {
					t.Fatalf("decode of %d of %d bytes: got %v, want errShort", cut, len(f), err)
				}
			}
			bad := append([]byte(nil), f...)
			bad[len(bad)-1] ^= 1
			if _, err := decodeRecord(bad); !errors.Is(err, errCRC) {
				t.Fatalf("flipped byte: got %v, want errCRC", err)
			}
		})
	}
	// a length over the maximum is refused before any allocation
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}
	if _, err := decodeRecord(huge); !errors.Is(err, errLength) {
		t.Fatalf("huge length: got %v, want errLength", err)
	}
}

func TestStateCodec(t *testing.T) {
	h := stateHeader{clean: true, own: 7, n: 2, feedLen: 1234}
	hb := encodeStateHeader(h)
	if got, err := decodeStateHeader(hb[:]); err != nil || got != h {
		t.Fatalf("header round trip: got %+v, %v; want %+v", got, err, h)
	}
	e := logCheckpoint{tailBase: 1, segSize: 200, idxSize: 24, head: 1, feedHead: 1}
	eb := appendStateEntry(nil, e)
	if got, ok := decodeStateEntry(eb); !ok || got != e {
		t.Fatalf("entry round trip: got %+v, %v; want %+v", got, ok, e)
	}
	for i := range hb {
		bad := hb
		bad[i] ^= 1
		if _, err := decodeStateHeader(bad[:]); err == nil {
			t.Fatalf("header: flipped byte %d accepted", i)
		}
	}
	for i := range eb {
		bad := append([]byte(nil), eb...)
		bad[i] ^= 1
		if _, ok := decodeStateEntry(bad); ok {
			t.Fatalf("entry: flipped byte %d accepted", i)
		}
	}
}

func TestTooLarge(t *testing.T) {
	db := openT(t, t.TempDir(), nil)
	if _, err := db.Append(make([]byte, MaxEntrySize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if seq, err := db.Append(make([]byte, MaxEntrySize)); err != nil || seq != 1 {
		t.Fatalf("max size entry: got %d, %v", seq, err)
	}
	if e, err := db.Get(db.ID(), 1); err != nil || len(e.Data) != MaxEntrySize {
		t.Fatalf("Get: %v", err)
	}
	verifyClean(t, db)
}

// TestIndexCodec: encodeIndex lays out what decodeIndexEntry reads back
// at indexPos, with the frame length to the next entry, and bad entries
// are refused.
func TestIndexCodec(t *testing.T) {
	offs := []int64{16, 100, 250}
	b := encodeIndex(7, offs)
	if err := checkFileHeader(b, magicIndex, 7); err != nil {
		t.Fatal(err)
	}
	if got, want := int64(len(b)), indexSize(7, 9); got != want {
		t.Fatalf("index of 3 entries is %d bytes, want %d", got, want)
	}
	for i, want := range []struct {
		off int64
		fl  int
	}{{16, 84}, {100, 150}, {250, 0}} {
		off, fl, err := decodeIndexEntry(b[indexPos(7, 7+uint64(i)):])
		if err != nil || off != want.off || fl != want.fl {
			t.Errorf("entry %d: %d, %d, %v; want %d, %d", i, off, fl, err, want.off, want.fl)
		}
	}
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"missing", nil},
		{"short", make([]byte, 7)},
		{"inside the header", appendIndexEntry(nil, 3)},
		{"out of range", appendIndexEntry(nil, maxIndexOffset)},
	} {
		if _, _, err := decodeIndexEntry(tt.b); err == nil {
			t.Errorf("%s: decoded", tt.name)
		}
	}
}
