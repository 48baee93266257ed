package seal

import (
	"encoding/binary"
	"fmt"
)

// This file is the entry that publishes an encryption key: an entry of
// its owner's log, so signed, hash-chained and replicated like any
// other, which is what makes it the owner's word (doc.go, "Key entry").

// keyMagic starts a key entry.
const keyMagic = "\x00sealkey"

// keyEntrySize is a version 1 key entry's size:
//
//	"\x00sealkey" (8) ‖ version 0x01 ‖ KEM id u16 (0x0020) ‖ public key (32)
const keyEntrySize = len(keyMagic) + 1 + 2 + keySize

// KeyEntry returns the entry that publishes pub as its author's
// encryption key.
func KeyEntry(pub PublicKey) []byte {
	b := make([]byte, 0, keyEntrySize)
	b = append(b, keyMagic...)
	b = append(b, version1)
	b = binary.BigEndian.AppendUint16(b, kemID)
	return append(b, pub.Bytes()...)
}

// IsKeyEntry reports whether data starts as a key entry does; see
// ParseKeyEntry for whether it is one.
func IsKeyEntry(data []byte) bool {
	return len(data) >= len(keyMagic) && string(data[:len(keyMagic)]) == keyMagic
}

// ParseKeyEntry returns the key that entry data publishes, or an error
// matching ErrMalformed. The key is its author's newest when no later
// entry of the same log publishes another.
func ParseKeyEntry(data []byte) (PublicKey, error) {
	if !IsKeyEntry(data) {
		return PublicKey{}, fmt.Errorf("%w key entry: no magic", ErrMalformed)
	}
	if len(data) != keyEntrySize {
		return PublicKey{}, fmt.Errorf("%w key entry: %d bytes, want %d", ErrMalformed, len(data), keyEntrySize)
	}
	if v := data[len(keyMagic)]; v != version1 {
		return PublicKey{}, fmt.Errorf("%w key entry: version %d, want %d", ErrMalformed, v, version1)
	}
	if k := binary.BigEndian.Uint16(data[len(keyMagic)+1:]); k != kemID {
		return PublicKey{}, fmt.Errorf("%w key entry: KEM %#04x, want %#04x (DHKEM(X25519, HKDF-SHA256))", ErrMalformed, k, kemID)
	}
	return ParsePublicKey(data[len(keyMagic)+3:])
}
