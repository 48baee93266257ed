package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"scuttle/applog"
)

// This file holds the primitives, all from the standard library, and
// the labels and inputs each is given (doc.go, "Algorithms").

// The HPKE cipher suite (RFC 9180 §7): DHKEM(X25519, HKDF-SHA256),
// HKDF-SHA256, AES-256-GCM, in mode_base.
const (
	kemID  = 0x0020
	kdfID  = 0x0001
	aeadID = 0x0002
)

var (
	suiteKDF  = hpke.HKDFSHA256()
	suiteAEAD = hpke.AES256GCM()
)

// labelPrefix starts every label and the context: a payload of this
// format and version means nothing to any other use of the keys.
const labelPrefix = "scuttle seal v1 "

// Labels, each the HKDF info (or the start of it) of one derived key.
const (
	labelWrap     = labelPrefix + "wrap"      // HPKE info of a stanza
	labelBody     = labelPrefix + "body"      // a direct message's body key
	labelPair     = labelPrefix + "pair"      // the pair key of two encryption keys
	labelRoomTag  = labelPrefix + "room tag"  // a room key's tag key
	labelRoomBody = labelPrefix + "room body" // a room line's body key
)

// Sizes.
const (
	keySize     = 32 // X25519 keys, content keys, room keys, derived keys
	nonceSize   = 16 // the random per-message nonce
	tagSize     = 8  // a recognition tag
	encSize     = 32 // HPKE enc of DHKEM(X25519)
	wrappedSize = keySize + 16
	stanzaSize  = tagSize + encSize + wrappedSize
	aeadOver    = 16 // AES-256-GCM's tag
)

// Context is where a payload belongs: the log it is an entry of and the
// network it was written in. Both are bound into every key a payload is
// sealed with, so a payload copied into another log or another network
// does not open there.
type Context struct {
	// Author is the log the payload is an entry of.
	Author applog.ID
	// Network names the network: nil for the public network, else
	// NetworkID of its key. At most MaxNetwork bytes.
	Network []byte
}

// MaxNetwork bounds Context.Network.
const MaxNetwork = 64

// NetworkID returns the Context.Network of the private network whose
// key is networkKey, nil for the public one (no key):
//
//	HMAC-SHA256(networkKey, "scuttle seal v1 network")
//
// A pseudo-random function of the key, so only members can compute it.
func NetworkID(networkKey []byte) []byte {
	if len(networkKey) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, networkKey)
	m.Write([]byte(labelPrefix + "network"))
	return m.Sum(nil)
}

// encode returns the context's bytes, which start the info of every
// derived key:
//
//	"scuttle seal v1 " ‖ u8 len(network) ‖ network ‖ author (32)
func (c Context) encode() ([]byte, error) {
	author, err := c.Author.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("seal: context: %w", err)
	}
	if len(c.Network) > MaxNetwork {
		return nil, fmt.Errorf("seal: context network of %d bytes, more than %d", len(c.Network), MaxNetwork)
	}
	b := make([]byte, 0, len(labelPrefix)+1+len(c.Network)+32)
	b = append(b, labelPrefix...)
	b = append(b, byte(len(c.Network)))
	b = append(b, c.Network...)
	return append(b, author...), nil
}

// deriveKey is HKDF-SHA256 (RFC 5869) of secret with salt and info,
// 32 bytes.
func deriveKey(secret, salt []byte, info ...[]byte) []byte {
	var in []byte
	for _, p := range info {
		in = append(in, p...)
	}
	k, err := hkdf.Key(sha256.New, secret, salt, string(in), keySize)
	if err != nil { // cannot happen: 32 bytes are within HKDF's bound
		panic(err)
	}
	return k
}

// pairKey is the key that only the holders of senderPriv's pair and of
// recipient's private key can compute, from which the tags of the
// stanzas between them come:
//
//	Z    = X25519(sender's private key, recipient's public key)
//	pair = HKDF-SHA256(secret Z, no salt, "scuttle seal v1 pair" ‖ sender pub ‖ recipient pub)
//
// The recipient computes Z from its private key and the sender's public
// key, which the payload carries. It fails for a low-order public key
// (the all-zero shared secret).
func pairKey(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, sender, recipient []byte) ([]byte, error) {
	z, err := priv.ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("seal: pair secret: %w", err)
	}
	return deriveKey(z, nil, []byte(labelPair), sender, recipient), nil
}

// tagCipher returns the block cipher that computes tags under key (a
// pair key or a room's tag key): AES-256.
func tagCipher(key []byte) cipher.Block {
	b, err := aes.NewCipher(key)
	if err != nil { // cannot happen: 32-byte key
		panic(err)
	}
	return b
}

// tagOf is a recognition tag: the first 8 bytes of the AES-256
// encryption, under a tag key, of the message's 16-byte nonce, which is
// one block. AES is a pseudo-random function on a random block, as in
// QUIC's header protection (RFC 9001 §5.4.3), and one block costs tens
// of nanoseconds, so a reader recognises what is not for it at about
// the cost of reading it.
func tagOf(tc cipher.Block, nonce []byte) [tagSize]byte {
	var out [aes.BlockSize]byte
	tc.Encrypt(out[:], nonce)
	return [tagSize]byte(out[:tagSize])
}

// bodyAEAD returns AES-256-GCM under key. Every body key is used for one
// message only (it is derived from a random nonce), so the AEAD's nonce
// is the fixed all-zero one.
func bodyAEAD(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil { // cannot happen: 32-byte key
		panic(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return a
}

var zeroNonce [12]byte

func appendU32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
