package topology

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// A network key is the 32-byte secret that a private group of chats
// shares (Swarm.NetworkKey; scuttle network makes one, chat --network
// joins its network). Its text form is made to be pasted and read aloud:
//
//	base32(key ‖ check), check = SHA-256("scuttle network key\x00" ‖ key)[:3]
//
// in the alphabet of log IDs (a-z 2-7: no 0, 1, 8 or 9 to mistake for
// O, l, B or g), 56 characters in 7 groups of 8 joined by "-":
//
//	amfbcga7-eywtio2c-jfifoxtf-nrzxvami-r6lj3jfl-wk44br6o-2xohbevg
//
// The 24-bit check catches a mistyped or truncated key (all but one in
// 16 million) before a chat joins a network no one else is in. The
// parser ignores dashes, surrounding space and the case of letters.

// NetworkKeySize is the length of a network key (Swarm.NetworkKey).
const NetworkKeySize = 32

// The text form of a network key.
const (
	networkCheckSize = 3
	networkKeyChars  = (NetworkKeySize + networkCheckSize) * 8 / 5 // 56, no padding bits
	networkGroup     = 8
)

// networkEncoding is the base32 of network keys and network tags: the
// alphabet of log IDs, without padding. It is never modified.
var networkEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// CheckNetworkKey fails for a network key of the wrong size; nil (the
// public network) passes. A chat checks its key with it before it opens
// any socket: one that was asked for a private network must never join
// the public one instead.
func CheckNetworkKey(key []byte) error {
	if key != nil && len(key) != NetworkKeySize {
		return fmt.Errorf("network key of %d bytes, want %d", len(key), NetworkKeySize)
	}
	return nil
}

// networkCheck returns the check bytes of key.
func networkCheck(key []byte) []byte {
	h := sha256.New()
	h.Write([]byte("scuttle network key\x00"))
	h.Write(key)
	return h.Sum(nil)[:networkCheckSize]
}

// NewNetworkKey returns a fresh random network key in its text form.
func NewNetworkKey() (string, error) {
	key := make([]byte, NetworkKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	return FormatNetworkKey(key), nil
}

// FormatNetworkKey returns the text form of a 32-byte network key.
func FormatNetworkKey(key []byte) string {
	s := networkEncoding.EncodeToString(append(append([]byte(nil), key...), networkCheck(key)...))
	var b strings.Builder
	for i := 0; i < len(s); i += networkGroup {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(s[i : i+networkGroup])
	}
	return b.String()
}

// errNetworkCheck is returned for a key whose check does not match.
var errNetworkCheck = errors.New("network key: check characters do not match: mistyped or incomplete (scuttle network prints a key)")

// ParseNetworkKey returns the 32 bytes of a network key's text form. Its
// errors say what is wrong and where, but never repeat the key, which
// is a secret.
func ParseNetworkKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	clean := make([]byte, 0, networkKeyChars)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case 'a' <= c && c <= 'z', '2' <= c && c <= '7':
		case c < ' ' || c > '~':
			return nil, fmt.Errorf("network key: byte %#02x at offset %d is not in its alphabet (a-z, 2-7 and -)", c, i)
		default:
			return nil, fmt.Errorf("network key: %q at offset %d is not in its alphabet (a-z, 2-7 and -)", c, i)
		}
		if len(clean) == networkKeyChars {
			return nil, fmt.Errorf("network key: more than %d characters (not counting dashes)", networkKeyChars)
		}
		clean = append(clean, c)
	}
	if len(clean) != networkKeyChars {
		return nil, fmt.Errorf("network key: %d characters (not counting dashes), want %d", len(clean), networkKeyChars)
	}
	raw := make([]byte, NetworkKeySize+networkCheckSize)
	if n, err := networkEncoding.Decode(raw, clean); err != nil || n != len(raw) {
		return nil, fmt.Errorf("network key: not base32") // cannot happen: the alphabet and length are checked
	}
	key, check := raw[:NetworkKeySize], raw[NetworkKeySize:]
	if subtle.ConstantTimeCompare(check, networkCheck(key)) != 1 {
		return nil, errNetworkCheck
	}
	return key, nil
}

// networkTagLabel is the fixed message of NetworkTag's MAC.
const networkTagLabel = "scuttle dns-sd network tag v1"

// NetworkTag returns the tag a chat advertises in its DNS-SD TXT record
// as net=TAG, so that browsing (scuttle peers, chat --discover) can tell
// the peers of its own network from others without connecting:
//
//	TAG = base32(HMAC-SHA256(key, "scuttle dns-sd network tag v1")[:10])
//
// 16 characters in the alphabet of network keys. HMAC-SHA256 is a
// pseudo-random function of the key, so the tag reveals nothing of the
// key and helps no one guess it: a tag can be computed only by who holds
// the key, and 80 bits make two networks' tags differ. The public network
// (no key) has no tag. The tag is a hint, never a proof: anyone can copy
// a network's tag into their own advertisement, and is then refused by
// the membership proof that follows the TLS handshake. It is stable, so
// it lets an observer on the LAN tell which chats share a network, as
// their connections to each other do anyway.
func NetworkTag(key []byte) string {
	if len(key) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(networkTagLabel))
	return networkEncoding.EncodeToString(m.Sum(nil)[:10])
}
