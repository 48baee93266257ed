package seal

import (
	"bytes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"sync"
	"sync/atomic"
)

// PublicKey is an encryption key as published in a key entry: an X25519
// public key. Its zero value is not a key.
type PublicKey struct {
	ec *ecdh.PublicKey
	hp hpke.PublicKey
}

// ParsePublicKey returns the public key of 32 bytes b.
func ParsePublicKey(b []byte) (PublicKey, error) {
	ec, err := ecdh.X25519().NewPublicKey(b)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: public key: %v", ErrMalformed, err)
	}
	hp, err := hpke.NewDHKEMPublicKey(ec)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: public key: %v", ErrMalformed, err)
	}
	return PublicKey{ec: ec, hp: hp}, nil
}

// Bytes returns the key's 32 bytes, or nil for the zero PublicKey.
func (k PublicKey) Bytes() []byte {
	if k.ec == nil {
		return nil
	}
	return k.ec.Bytes()
}

// Equal reports whether k and o are the same key.
func (k PublicKey) Equal(o PublicKey) bool { return bytes.Equal(k.Bytes(), o.Bytes()) }

// keyEncoding prints keys as applog prints IDs: lower-case base32, no
// padding.
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// String returns the key in lower-case base32 (52 characters).
func (k PublicKey) String() string { return keyEncoding.EncodeToString(k.Bytes()) }

// PrivateKey is one generation of a user's encryption key: an X25519
// private key. It is an Identity: Open finds and opens what was sealed
// to its public half. A PrivateKey is safe for concurrent use.
type PrivateKey struct {
	ec  *ecdh.PrivateKey
	hp  hpke.PrivateKey
	pub PublicKey

	pairs pairCache // as a recipient, by sender key
	sent  pairCache // as a sender, by recipient key

	// opens counts the HPKE opens made with the key, for the test
	// that recognition opens exactly one stanza.
	opens atomic.Int64
}

// GenerateKey returns a new random encryption key.
func GenerateKey() (*PrivateKey, error) {
	ec, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("seal: generating a key: %w", err)
	}
	return newPrivateKey(ec)
}

// newPrivateKeyBytes returns the private key of 32 bytes b.
func newPrivateKeyBytes(b []byte) (*PrivateKey, error) {
	ec, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: private key: %v", ErrMalformed, err)
	}
	return newPrivateKey(ec)
}

func newPrivateKey(ec *ecdh.PrivateKey) (*PrivateKey, error) {
	hp, err := hpke.NewDHKEMPrivateKey(ec)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	pub, err := ParsePublicKey(ec.PublicKey().Bytes())
	if err != nil {
		return nil, err
	}
	return &PrivateKey{ec: ec, hp: hp, pub: pub}, nil
}

// Public returns the key's public half, the one to publish.
func (k *PrivateKey) Public() PublicKey { return k.pub }

// bytes returns the 32 bytes of the private scalar, for the keyring
// file only.
func (k *PrivateKey) bytes() []byte { return k.ec.Bytes() }

// pairTag returns the tag cipher of the pair key of the sender key
// whose public half is sender (32 bytes) and this key as the recipient,
// from the cache when it was computed before.
func (k *PrivateKey) pairTag(sender []byte) (cipher.Block, error) {
	if p, ok := k.pairs.get(sender); ok {
		return p, nil
	}
	peer, err := ecdh.X25519().NewPublicKey(sender)
	if err != nil {
		return nil, fmt.Errorf("%w: sender key: %v", ErrMalformed, err)
	}
	p, err := pairKey(k.ec, peer, sender, k.pub.Bytes())
	if err != nil {
		return nil, err
	}
	tc := tagCipher(p)
	k.pairs.put(sender, tc)
	return tc, nil
}

// sendTag is pairTag with this key as the sender and to as the
// recipient.
func (k *PrivateKey) sendTag(to PublicKey) (cipher.Block, error) {
	rb := to.Bytes()
	if p, ok := k.sent.get(rb); ok {
		return p, nil
	}
	p, err := pairKey(k.ec, to.ec, k.pub.Bytes(), rb)
	if err != nil {
		return nil, err
	}
	tc := tagCipher(p)
	k.sent.put(rb, tc)
	return tc, nil
}

// maxPairs bounds each of a key's caches of pair keys: one per key met,
// a few hundred bytes each (the AES key schedule); past it a cache
// starts again empty.
const maxPairs = 4096

// pairCache holds the tag ciphers of the pair keys computed with one
// private key, so that recognising the next message of the same sender
// costs one AES block, not an X25519 operation.
type pairCache struct {
	mu sync.Mutex
	m  map[[keySize]byte]cipher.Block
}

func (c *pairCache) get(sender []byte) (cipher.Block, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[[keySize]byte(sender)]
	return p, ok
}

func (c *pairCache) put(sender []byte, p cipher.Block) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxPairs {
		c.m = make(map[[keySize]byte]cipher.Block)
	}
	c.m[[keySize]byte(sender)] = p
}

// ParsePublicKeyString returns the key whose String is s.
func ParsePublicKeyString(s string) (PublicKey, error) {
	b, err := keyEncoding.DecodeString(s)
	if err != nil || len(b) != keySize {
		return PublicKey{}, fmt.Errorf("%w public key %q: want %d base32 characters", ErrMalformed, s, 52)
	}
	return ParsePublicKey(b)
}
