package blob

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.txt from the code")

// vectorSizes are the sizes of testdata/vectors.txt: empty, one byte,
// around one block, and three blocks and a bit.
var vectorSizes = []int{0, 1, BlockSize - 1, BlockSize, BlockSize + 1, 3*BlockSize + 12345}

const vectorSeed = 1

// TestVectors checks the id of each vector of testdata/vectors.txt, the
// content gen(1, size), against the file: both as Hash computes it and
// as the spec in doc.go spells it, byte by byte, here (specID). A change
// to the block size, the prefix or the layout fails it.
func TestVectors(t *testing.T) {
	if *update {
		var b strings.Builder
		b.WriteString("# Content ids of scuttle blob v1 (applog/blob/doc.go).\n")
		b.WriteString("# Each line: SIZE ID. The content of SIZE bytes is gen(1, SIZE):\n")
		b.WriteString("# the little-endian 32-bit words of x = x*1664525 + 1013904223 mod 2^32,\n")
		b.WriteString("# from x = 1 (the first word is 1*1664525+1013904223), cut to SIZE bytes.\n")
		fmt.Fprintf(&b, "# Block size %d.\n", BlockSize)
		for _, n := range vectorSizes {
			fmt.Fprintf(&b, "%d %s\n", n, specID(gen(vectorSeed, n)))
		}
		if err := os.WriteFile("testdata/vectors.txt", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open("testdata/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var sizes []int
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sizeText, idText, ok := strings.Cut(line, " ")
		size, err := strconv.Atoi(sizeText)
		if !ok || err != nil {
			t.Fatalf("bad line %q", line)
		}
		want, err := ParseID(idText)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, size)
		data := gen(vectorSeed, size)
		m, err := Hash(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.ID(); got != want {
			t.Errorf("size %d: Hash gives id %s, want %s", size, got, want)
		}
		if got := specID(data); got != want {
			t.Errorf("size %d: the spec gives id %s, want %s", size, got, want)
		}
		if m.Size() != int64(size) || m.Blocks() != (size+BlockSize-1)/BlockSize {
			t.Errorf("size %d: manifest of %d bytes in %d blocks", size, m.Size(), m.Blocks())
		}
	}
	if fmt.Sprint(sizes) != fmt.Sprint(vectorSizes) {
		t.Errorf("vectors of sizes %v, want %v", sizes, vectorSizes)
	}
}

// specID computes an id as doc.go spells it, independently of the
// package's code: SHA-256 of "scuttle blob v1\n" ‖ u64le size ‖ u32le
// block size ‖ the blocks' SHA-256s.
func specID(data []byte) ID {
	h := sha256.New()
	h.Write([]byte("scuttle blob v1\n"))
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(data))))
	h.Write(binary.LittleEndian.AppendUint32(nil, 256<<10))
	for off := 0; off < len(data); off += 256 << 10 {
		sum := sha256.Sum256(data[off:min(off+256<<10, len(data))])
		h.Write(sum[:])
	}
	return ID(h.Sum(nil))
}

// TestManifestRoundTrip: a manifest survives its encoding, and
// ParseManifest refuses each way of breaking one.
func TestManifestRoundTrip(t *testing.T) {
	m, err := Hash(bytes.NewReader(gen(2, 2*BlockSize+7)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.MarshalBinary()
	if len(b) != headerLen+3*32 {
		t.Fatalf("encoding of %d bytes, want %d", len(b), headerLen+3*32)
	}
	back, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != m.ID() || back.Check(m.ID()) != nil {
		t.Errorf("parsed manifest has id %s, want %s", back.ID(), m.ID())
	}
	if sha256.Sum256(b) != m.ID() {
		t.Errorf("the id is not the SHA-256 of the encoding")
	}
	mutate := func(f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"magic", mutate(func(b []byte) []byte { b[0] = 'S'; return b })},
		{"block size", mutate(func(b []byte) []byte { b[len(manifestMagic)+8]++; return b })},
		{"size beyond limit", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[len(manifestMagic):], MaxSize+1)
			return b
		})},
		{"huge size", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[len(manifestMagic):], 1<<63)
			return b
		})},
		{"size one block more", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[len(manifestMagic):], 3*BlockSize+1)
			return b
		})},
		{"hash missing", b[:len(b)-32]},
		{"byte extra", append(bytes.Clone(b), 0)},
	} {
		if _, err := ParseManifest(tc.b); !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: ParseManifest = %v, want ErrBadManifest", tc.name, err)
		}
	}
	other, _ := Hash(bytes.NewReader(gen(3, 10)))
	if err := other.Check(m.ID()); !errors.Is(err, ErrWrongManifest) {
		t.Errorf("Check of another file's manifest = %v, want ErrWrongManifest", err)
	}
}

// TestParseID: an id's text round-trips, and only canonical 52-character
// base32 parses.
func TestParseID(t *testing.T) {
	id := specID([]byte("x"))
	if got, err := ParseID(id.String()); err != nil || got != id {
		t.Fatalf("ParseID(%s) = %s, %v", id, got, err)
	}
	s := id.String()
	for _, bad := range []string{"", s[:51], s + "a", strings.ToUpper(s), s[:51] + "1", s[:51] + "b"} {
		if _, err := ParseID(bad); !errors.Is(err, ErrBadID) {
			t.Errorf("ParseID(%q) = %v, want ErrBadID", bad, err)
		}
	}
}

// FuzzParseManifest: ParseManifest never panics, never takes what it
// cannot encode back to the same bytes, and the id of what it takes is
// the SHA-256 of the input.
func FuzzParseManifest(f *testing.F) {
	for _, n := range []int{0, 1, BlockSize + 1} {
		m, _ := Hash(bytes.NewReader(gen(1, n)))
		b, _ := m.MarshalBinary()
		f.Add(b)
		m.sealed = true
		b, _ = m.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		back, _ := m.MarshalBinary()
		if !bytes.Equal(back, b) {
			t.Fatalf("re-encoding differs")
		}
		if m.ID() != ID(sha256.Sum256(b)) {
			t.Fatalf("id is not the SHA-256 of the manifest")
		}
	})
}
