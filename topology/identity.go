package topology

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base32"
	"fmt"
	"math/big"
	"time"
)

// alpn is the TLS application protocol both sides offer and require, so
// that a later protocol version can be told apart inside the TLS
// handshake.
const alpn = "scuttle-topology/2"

// Certificate validity: from 2000-01-01 to 9999-12-31 23:59:59 UTC, the
// "no well-defined expiration" date of RFC 5280 §4.1.2.5. The key is the
// identity, not the certificate: a certificate proves nothing beyond the
// TLS handshake's proof that the peer holds the key, so its dates are
// never checked and a machine with a wrong clock still connects.
var (
	certNotBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// newCertificate makes the self-signed certificate of key: Ed25519
// (x509.PureEd25519), usable for both server and client authentication.
// It is a pure function of key (the serial number is derived from the
// public key and the dates are fixed), so a restarted peer presents the
// very same certificate.
func newCertificate(key ed25519.PrivateKey) (tls.Certificate, error) {
	pub := key.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(sum[:16]),
		Subject:               pkix.Name{CommonName: "scuttle " + keyString(pub)},
		NotBefore:             certNotBefore,
		NotAfter:              certNotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, pub, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("topology: making the certificate of key %s: %w", keyString(pub), err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// tlsConfig returns the TLS configuration of one side: TLS 1.3 only, Go's
// default cipher suites, a client certificate required, and every peer
// certificate checked by verifyPeer. The usual chain verification is off
// (InsecureSkipVerify, RequireAnyClientCert) because there is no CA: a
// peer is whoever holds the key its self-signed certificate names, which
// verifyPeer checks on every handshake, in both directions. Session
// resumption is off, so every connection presents and proves a
// certificate and the server sends nothing after its handshake flight.
func tlsConfig(cert tls.Certificate, server bool) *tls.Config {
	c := &tls.Config{
		MinVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{cert},
		NextProtos:             []string{alpn},
		SessionTicketsDisabled: true,
		VerifyConnection:       verifyPeer,
	}
	if server {
		c.ClientAuth = tls.RequireAnyClientCert
	} else {
		// Sound only together with verifyPeer above: the server's
		// certificate is checked there instead of against a CA.
		c.InsecureSkipVerify = true
	}
	return c
}

// verifyPeer is the VerifyConnection check of both sides: TLS 1.3, the
// application protocol, and a peer certificate that peerKey accepts.
func verifyPeer(cs tls.ConnectionState) error {
	if cs.Version != tls.VersionTLS13 {
		return fmt.Errorf("topology: TLS version %#x, want 1.3", cs.Version)
	}
	if cs.NegotiatedProtocol != alpn {
		return fmt.Errorf("%w: application protocol %q, want %q", errProtocol, cs.NegotiatedProtocol, alpn)
	}
	_, err := peerKey(cs.PeerCertificates)
	return err
}

// peerKey checks the certificates a peer presented and returns the key
// they prove: exactly one certificate, holding an Ed25519 public key,
// signed (PureEd25519) by that same key. That the peer holds the private
// key is proven by the TLS handshake itself (its CertificateVerify
// message, checked by crypto/tls against this certificate's key). The
// dates are not checked (see certNotBefore).
func peerKey(certs []*x509.Certificate) (ed25519.PublicKey, error) {
	pub, err := certKey(certs)
	if err != nil {
		return nil, err
	}
	c := certs[0]
	if c.SignatureAlgorithm != x509.PureEd25519 {
		return nil, fmt.Errorf("%w: key %s: signature algorithm %v, want %v", errCertificate, keyString(pub), c.SignatureAlgorithm, x509.PureEd25519)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		return nil, fmt.Errorf("%w: key %s: not signed by its own key: %w", errCertificate, keyString(pub), err)
	}
	return pub, nil
}

// certKey returns the key of the one Ed25519 certificate in certs; it
// checks neither the certificate's signature nor that the peer holds the
// key (peerKey and the TLS handshake do).
func certKey(certs []*x509.Certificate) (ed25519.PublicKey, error) {
	if len(certs) != 1 {
		return nil, fmt.Errorf("%w: %d certificates, want exactly 1", errCertificate, len(certs))
	}
	c := certs[0]
	pub, ok := c.PublicKey.(ed25519.PublicKey)
	if !ok || c.PublicKeyAlgorithm != x509.Ed25519 {
		return nil, fmt.Errorf("%w: %v key, want Ed25519", errCertificate, c.PublicKeyAlgorithm)
	}
	return pub, nil
}

// keyEncoding is the text of a public key in logs and errors: base32,
// lower case, no padding, the same text as an applog.ID.
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// keyString returns the text of a public key, as an applog.ID spells it.
func keyString(pub ed25519.PublicKey) string { return keyEncoding.EncodeToString(pub) }
