package blob

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
)

// ID is a file's content id: the SHA-256 of its manifest (see doc.go),
// printed in base32 (RFC 4648 alphabet, lower case, no padding) as 52
// characters, like a log's id, so it is safe as a file name also on
// case-insensitive file systems and can be pasted into a command.
type ID [sha256.Size]byte

// idLen is the length of an ID's text.
const idLen = 52

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ErrBadID is matched by the error of ParseID for a text that is not an
// ID.
var ErrBadID = errors.New("blob: bad content id")

// String returns the id's 52-character text.
func (id ID) String() string { return idEncoding.EncodeToString(id[:]) }

// MarshalText returns the id's text, so that JSON carries it as a string.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses an id's text (ParseID).
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseID parses the 52-character text of an id. Only the canonical text
// is taken (the unused low bits zero), so each id has one spelling and
// one file name.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != idLen {
		return id, fmt.Errorf("%w %.60q: length %d, want %d", ErrBadID, s, len(s), idLen)
	}
	var buf [sha256.Size + 1]byte
	n, err := idEncoding.Decode(buf[:], []byte(s))
	if err != nil || n != sha256.Size {
		return id, fmt.Errorf("%w %q: not base32 of 32 bytes", ErrBadID, s)
	}
	copy(id[:], buf[:n])
	if id.String() != s {
		return ID{}, fmt.Errorf("%w %q: not canonical", ErrBadID, s)
	}
	return id, nil
}
