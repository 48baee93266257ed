package applog

import (
	"crypto/ed25519"
	"encoding/base32"
	"fmt"
)

// ID is a log's id: its author's ed25519 public key in base32 (RFC 4648
// alphabet, lower case, no padding): 52 characters, printable and safe as
// a file name also on case-insensitive file systems.
type ID string

// idLen is the length of an encoded ID.
const idLen = 52

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ParseID validates s as an ID: 52 characters of the lower-case base32
// alphabet encoding 32 bytes, with the unused low bits zero (so each key
// has exactly one ID).
func ParseID(s string) (ID, error) {
	if len(s) != idLen {
		return "", fmt.Errorf("applog: bad id %q: length %d, want %d", s, len(s), idLen)
	}
	// On the stack: a peer's heads frame has thousands of IDs to check.
	var src, canon [idLen]byte
	var k [ed25519.PublicKeySize + 1]byte
	copy(src[:], s)
	n, err := idEncoding.Decode(k[:], src[:])
	if err != nil || n != ed25519.PublicKeySize {
		return "", fmt.Errorf("applog: bad id %q: not base32 of a 32-byte key", s)
	}
	if idEncoding.Encode(canon[:], k[:n]); string(canon[:]) != s {
		return "", fmt.Errorf("applog: bad id %q: not canonical", s)
	}
	return ID(s), nil
}

// Short returns the first 8 characters of the id, for display.
func (id ID) Short() string {
	if len(id) < 8 {
		return string(id)
	}
	return string(id[:8])
}

// idOf returns the ID of a public key.
func idOf(pub ed25519.PublicKey) ID { return ID(idEncoding.EncodeToString(pub)) }

// publicKey decodes id; ok is false if id is not a valid ID.
func (id ID) publicKey() (ed25519.PublicKey, bool) {
	if len(id) != idLen {
		return nil, false
	}
	k := make([]byte, ed25519.PublicKeySize+1)
	n, err := idEncoding.Decode(k, []byte(id))
	if err != nil || n != ed25519.PublicKeySize {
		return nil, false
	}
	return ed25519.PublicKey(k[:n]), true
}
