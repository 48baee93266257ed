package applog

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder and to
// Insert's checks: errors, never panics, and what decodes is consistent.
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range fuzzRecordSeeds() {
		f.Add(s)
	}
	// the seeds are signed by the zero seed's key; check against another
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey)
	id := idOf(pub)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err == nil {
			if len(r.frame) > len(b) || !bytes.Equal(r.frame, b[:len(r.frame)]) {
				t.Fatalf("frame is not a prefix of the input")
			}
			if len(r.payload) > MaxEntrySize || len(r.prev) != hashSize {
				t.Fatalf("bad field sizes: payload %d prev %d", len(r.payload), len(r.prev))
			}
			if r.signed() && len(r.sig) != sigSize {
				t.Fatalf("signature of %d bytes", len(r.sig))
			}
			// re-encoding the decoded fields gives the same frame when unsigned
			if !r.signed() {
				var prev [hashSize]byte
				copy(prev[:], r.prev)
				enc, _ := appendRecord(nil, r.seq, r.time, &prev, r.payload, nil)
				if !bytes.Equal(enc, r.frame) {
					t.Fatalf("re-encoding differs")
				}
			}
		}
		run := new(checkPool).check(id, pub, [][]byte{b, b})
		if run.auth > 0 {
			t.Fatalf("a record not signed by the key was authenticated")
		}
	})
}

// FuzzOpenLog puts arbitrary bytes in a log's only segment and index and
// opens it as a writer: recovery must not panic, must not fail, and must
// leave a log that verifies and takes the next append.
func FuzzOpenLog(f *testing.F) {
	for _, s := range fuzzLogSeeds() {
		f.Add(s[0], s[1])
	}
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	pub := priv.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, seg, idx []byte) {
		dir := t.TempDir()
		db := newDB(dir, &Options{SegmentSize: 1 << 20})
		db.sign = &signer{priv: priv, pub: pub}
		db.sw.sign = db.sign
		v := verifier{fs: db.fs, dir: dir, st: &db.st, repairs: &db.repairs}
		ldir := filepath.Join(dir, string(idOf(pub)))
		os.MkdirAll(ldir, 0o755)
		os.WriteFile(filepath.Join(ldir, segName(1)), seg, 0o644)
		os.WriteFile(filepath.Join(ldir, idxName(1)), idx, 0o644)
		l, err := db.lo.open(0, pub, nil, false, nil)
		if err != nil {
			t.Fatalf("open log: %v", err)
		}
		defer func() {
			for _, s := range l.segments() {
				s.unmap()
			}
			db.files.dropTail(l)
			db.files.close()
		}()
		if err := v.log(l); err != nil {
			t.Fatalf("verify after recovery: %v", err)
		}
		head := l.w.head
		if err := db.files.holdTail(l); err != nil {
			t.Fatal(err)
		}
		if err := db.sw.appendOwn(l, [][]byte{[]byte("next")}, 1, true); err != nil {
			t.Fatal(err)
		}
		if err := db.sw.flush(l); err != nil {
			t.Fatal(err)
		}
		l.head.Store(l.w.head)
		if l.w.head != head+1 {
			t.Fatalf("append after recovery got seq %d, want %d", l.w.head, head+1)
		}
		if err := v.log(l); err != nil {
			t.Fatalf("verify after append: %v", err)
		}
	})
}

// fuzzRecordSeeds returns hand-made records: valid and malformed.
func fuzzRecordSeeds() [][]byte {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	s := &signer{priv: priv, pub: priv.Public().(ed25519.PublicKey)}
	var zero [hashSize]byte
	unsigned, h := appendRecord(nil, 1, 1700000000e9, &zero, []byte("hello world"), nil)
	signed, _ := appendRecord(nil, 2, 1700000001e9, &h, []byte("signed"), s)
	empty, _ := appendRecord(nil, 1, 0, &zero, nil, nil)
	badCRC := append([]byte(nil), unsigned...)
	badCRC[offPayload] ^= 1
	badFlags := fixCRC(append([]byte(nil), unsigned...))
	badFlags[offFlags] = 0x80
	badFlags = fixCRC(badFlags)
	huge := append([]byte(nil), unsigned...)
	huge[0], huge[1], huge[2], huge[3] = 0xff, 0xff, 0xff, 0x7f
	tiny := fixCRC(append([]byte{10, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 10)...))
	signedShort := append([]byte(nil), empty...)
	signedShort[offFlags] = flagSigned
	signedShort = fixCRC(signedShort)
	return [][]byte{
		unsigned, signed, empty, badCRC, badFlags, huge, tiny, signedShort,
		unsigned[:len(unsigned)-1], unsigned[:3], {},
		append(append([]byte(nil), unsigned...), signed...),
	}
}

// fuzzLogSeeds returns (segment, index) pairs for log 1 of the zero key.
func fuzzLogSeeds() [][2][]byte {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	s := &signer{priv: priv, pub: priv.Public().(ed25519.PublicKey)}
	sh := fileHeader(magicSegment, 1)
	ih := fileHeader(magicIndex, 1)
	seg := append([]byte(nil), sh[:]...)
	idx := append([]byte(nil), ih[:]...)
	var h [hashSize]byte
	for i := uint64(1); i <= 5; i++ {
		var sg *signer
		if i == 3 || i == 5 {
			sg = s
		}
		idx = append(idx, byte(len(seg)), byte(len(seg)>>8), 0, 0, 0, 0, 0, 0)
		seg, h = appendRecord(seg, i, int64(i), &h, []byte("payload"), sg)
	}
	flipped := append([]byte(nil), seg...)
	flipped[len(flipped)/2] ^= 1
	return [][2][]byte{
		{seg, idx},
		{seg[:len(seg)-7], idx},
		{seg, idx[:20]},
		{seg, make([]byte, len(idx))},
		{flipped, idx},
		{sh[:], ih[:]},
		{sh[:5], nil},
		{nil, nil},
		{append([]byte("XXXXXXXX"), seg[8:]...), idx},
		{append(append([]byte(nil), seg...), 1, 2, 3), append(append([]byte(nil), idx...), 9)},
	}
}
