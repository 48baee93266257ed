package blob

import (
	"bytes"
	"fmt"
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
