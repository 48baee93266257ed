package blob

import "encoding/binary"

// gen returns n bytes of the vector generator of testdata/vectors.txt:
// the little-endian 32-bit words of x = x*1664525 + 1013904223 (mod
// 2^32, Numerical Recipes' LCG) starting from x = seed, truncated to n.
func gen(seed uint32, n int) []byte {
	b := make([]byte, (n+3)&^3)
	x := seed
	for i := 0; i < len(b); i += 4 {
		x = x*1664525 + 1013904223
		binary.LittleEndian.PutUint32(b[i:], x)
	}
	return b[:n]
}
