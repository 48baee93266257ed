package topology

import (
	"crypto/sha1"
	"encoding/binary"
)

// HashToPort maps a name to a TCP port in [1024, 65535), byte-compatible
// with the npm module hash-to-port 1.2.0, so that a scuttle peer named
// "alice" listens where the workshop's Node peers would look for it.
//
// With h = SHA-1 of the UTF-8 name, the module computes
//
//	n = uint16be(h[0:2]) * 0xFFFFFFFF + uint32be(h[2:6])
//	port = n mod 64511 + 1024
//
// The multiplier is 0xFFFFFFFF, not 2^32, as in the module. n stays below
// 2^53, so the JavaScript double arithmetic is exact and uint64 matches it.
func HashToPort(name string) uint16 {
	h := sha1.Sum([]byte(name))
	n := uint64(binary.BigEndian.Uint16(h[0:2]))*0xFFFFFFFF + uint64(binary.BigEndian.Uint32(h[2:6]))
	return uint16(n%64511 + 1024)
}
