package applog

import (
	"crypto/ed25519"
	"fmt"
)

// This file exposes the database's identity to the transport: a
// connection between peers is authenticated by the very key that signs
// the own log (a self-signed TLS certificate made from it), so that the
// peer a connection proves and the author of the log it serves are one.

// PrivateKey returns a copy of the own log's ed25519 private key, or nil
// for a database opened read-only (which never reads the key file).
//
// It is exposed for one use: the TLS identity of the chat's connections.
// Whoever holds it can append to the own log as its author, so it must
// never be logged, sent or written anywhere else.
func (db *DB) PrivateKey() ed25519.PrivateKey {
	if db.sign == nil {
		return nil
	}
	return append(ed25519.PrivateKey(nil), db.sign.priv...)
}

// IDOf returns the ID of the log that pub signs. It panics if pub is not
// an ed25519 public key of ed25519.PublicKeySize bytes, as that is a
// caller's bug (a key a TLS handshake proved has the right size).
func IDOf(pub ed25519.PublicKey) ID {
	if len(pub) != ed25519.PublicKeySize {
		panic(fmt.Sprintf("applog: IDOf: public key of %d bytes, want %d", len(pub), ed25519.PublicKeySize))
	}
	return idOf(pub)
}

// PublicKey returns the ed25519 public key that id encodes, so that a
// peer's proven key can be compared with the log it claims. It fails for
// a string that is not a valid ID (see ParseID).
func (id ID) PublicKey() (ed25519.PublicKey, error) {
	if _, err := ParseID(string(id)); err != nil {
		return nil, err
	}
	pub, ok := id.publicKey()
	if !ok { // cannot happen after ParseID
		return nil, fmt.Errorf("applog: bad id %q", string(id))
	}
	return pub, nil
}
