package applog

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyTamper changes stored bytes on disk and checks that Verify
// reports each change as a CorruptError at the right seq.
func TestVerifyTamper(t *testing.T) {
	src, _ := authorLog(t) // 10 records, signed 3, 6, 10, one segment
	id := src.ID()
	srcDir := src.dir
	src.Close()
	seg := filepath.Join(srcDir, string(id), segName(1))
	idx := filepath.Join(srcDir, string(id), idxName(1))
	segBytes, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	idxBytes, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	off := func(seq int) int {
		return int(binary.LittleEndian.Uint64(idxBytes[fileHeaderSize+(seq-1)*indexEntrySize:]))
	}
	frame := func(b []byte, seq int) []byte {
		n, _ := frameLen(b[off(seq):])
		return b[off(seq) : off(seq)+n]
	}
	tests := []struct {
		name    string
		tamper  func(seg, idx []byte)
		seq     uint64
		errText string
	}{
		{"flipped payload byte", func(s, _ []byte) { frame(s, 5)[offPayload] ^= 1 }, 5, "crc"},
		{"flipped payload byte, crc fixed", func(s, _ []byte) { f := frame(s, 5); f[offPayload] ^= 1; fixCRC(f) }, 6, "chain"},
		{"flipped payload of a signed record, crc fixed", func(s, _ []byte) { f := frame(s, 6); f[offPayload] ^= 1; fixCRC(f) }, 6, "signature"},
		{"flipped signature byte, crc fixed", func(s, _ []byte) { f := frame(s, 3); f[len(f)-5] ^= 1; fixCRC(f) }, 3, "signature"},
		{"two records swapped", func(s, _ []byte) {
			a, b := frame(s, 1), frame(s, 2)
			x := append([]byte(nil), a...)
			copy(a, b)
			copy(b, x)
		}, 1, "seq"},
		{"index entry wrong", func(_, i []byte) { binary.LittleEndian.PutUint64(i[fileHeaderSize+3*indexEntrySize:], uint64(off(3))) }, 4, "index"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(srcDir)); err != nil {
				t.Fatal(err)
			}
			s := append([]byte(nil), segBytes...)
			i := append([]byte(nil), idxBytes...)
			tt.tamper(s, i)
			os.WriteFile(filepath.Join(dir, string(id), segName(1)), s, 0o644)
			os.WriteFile(filepath.Join(dir, string(id), idxName(1)), i, 0o644)
			db := openT(t, dir, &Options{ReadOnly: true})
			var probs []error
			if err := db.Verify(func(err error) { probs = append(probs, err) }); err != nil {
				t.Fatal(err)
			}
			var c *CorruptError
			if len(probs) != 1 || !errors.As(probs[0], &c) {
				t.Fatalf("Verify: got %v, want one CorruptError", probs)
			}
			if c.Log != id || c.Seq != tt.seq || !strings.Contains(c.Error(), tt.errText) || c.File == "" {
				t.Fatalf("Verify: got %v, want log %s seq %d mentioning %q", c, id.Short(), tt.seq, tt.errText)
			}
		})
	}
}
