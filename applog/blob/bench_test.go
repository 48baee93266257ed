package blob

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkBlockSize hashes and stores 64 MiB (copyHashing into a file,
// then fdatasync) at each candidate block size: the measure behind
// BlockSize (doc.go).
func BenchmarkBlockSize(b *testing.B) {
	const total = 64 << 20
	src := gen(0, total)
	for _, bs := range []int{128 << 10, 256 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("block=%dKiB", bs>>10), func(b *testing.B) {
			dir := b.TempDir()
			buf := make([]byte, bs)
			b.SetBytes(total)
			for b.Loop() {
				f, err := os.Create(filepath.Join(dir, "f"))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := copyHashing(f, bytes.NewReader(src), buf, MaxSize); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// BenchmarkAdd adds a 64 MiB file to a store, plain (Add) and sealed
// (AddSealed, AES-256-GCM on top of the hashing), and copies it out
// (Copy, CopySealed): the cost of sealing, as a ratio of the two.
func BenchmarkAdd(b *testing.B) {
	const total = 64 << 20
	src := filepath.Join(b.TempDir(), "src")
	if err := os.WriteFile(src, gen(0, total), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, sealed := range []bool{false, true} {
		name := "plain"
		if sealed {
			name = "sealed"
		}
		b.Run("in="+name, func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				s, err := Open(b.TempDir(), nil)
				if err != nil {
					b.Fatal(err)
				}
				if sealed {
					_, _, _, err = s.AddSealed(src)
				} else {
					_, _, err = s.Add(src)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("out="+name, func(b *testing.B) {
			s, err := Open(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			var id ID
			var key [KeySize]byte
			if sealed {
				id, _, key, err = s.AddSealed(src)
			} else {
				id, _, err = s.Add(src)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(total)
			for b.Loop() {
				f, err := s.Open(id)
				if err != nil {
					b.Fatal(err)
				}
				if sealed {
					_, err = CopySealed(io.Discard, f, key)
				} else {
					_, err = Copy(io.Discard, f)
				}
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
