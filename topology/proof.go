package topology

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
)

// publicNetworkKey is the network key of every Swarm whose NetworkKey is
// nil: the public default network. It is public on purpose; it only keeps
// the public network and every private one apart.
const publicNetworkKey = "scuttle-topology public network."

// Network proof constants; doc.go shows the frame.
const (
	// proofLabel is the TLS exporter label (RFC 8446 §7.5; the
	// EXPERIMENTAL prefix of RFC 5705 §4 for an unregistered label).
	proofLabel = "EXPERIMENTAL scuttle-topology network proof"
	// proofSize is a proof's length: one HMAC-SHA256.
	proofSize = sha256.Size
	// exporterSize is the length of the exporter value a proof covers.
	exporterSize = 32
)

// Roles in a proof, so that a dialler's proof can never pass as its
// acceptor's (a reflected proof). The numbers are part of the protocol.
const (
	roleDialer   byte = 1
	roleAcceptor byte = 2
)

// proveMembership exchanges the network proofs on tc. The dialler sends
// its proof first; the acceptor sends nothing before that proof passed,
// and on a mismatch the caller closes the TCP connection, not tc, so not
// even a TLS alert follows.
func (s *Swarm) proveMembership(tc *tls.Conn, dialed bool) error {
	cs := tc.ConnectionState()
	myRole, theirRole := roleAcceptor, roleDialer
	if dialed {
		myRole, theirRole = roleDialer, roleAcceptor
	}
	mine, err := networkProof(cs, s.netKey, myRole)
	if err != nil {
		return err
	}
	theirs, err := networkProof(cs, s.netKey, theirRole)
	if err != nil {
		return err
	}
	if !dialed {
		if err := readProof(tc, theirs); err != nil {
			return err
		}
		_, err := tc.Write(mine)
		return err
	}
	if _, err := tc.Write(mine); err != nil {
		return err
	}
	if err := readProof(tc, theirs); err != nil {
		if peerClosed(err) {
			return fmt.Errorf("%w: peer closed the connection after our network proof", errNetwork)
		}
		return err
	}
	return nil
}

// networkProof returns HMAC-SHA256(key, exporter ‖ role) for the TLS
// connection whose state is cs. The exporter value is unique to that TLS
// session and known only to its two ends, so the proof is worth nothing
// on any other connection.
func networkProof(cs tls.ConnectionState, key []byte, role byte) ([]byte, error) {
	ekm, err := cs.ExportKeyingMaterial(proofLabel, nil, exporterSize)
	if err != nil {
		return nil, fmt.Errorf("topology: TLS exporter: %w", err)
	}
	return proofMAC(key, ekm, role), nil
}

// proofMAC is the MAC of a network proof.
func proofMAC(key, exporter []byte, role byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(exporter)
	m.Write([]byte{role})
	return m.Sum(nil)
}

// readProof reads one proof frame (exactly proofSize bytes, nothing
// more) from r and checks it against want in constant time. A short read
// is errMalformed; a mismatch is errNetwork.
func readProof(r io.Reader, want []byte) error {
	var got [proofSize]byte
	if _, err := io.ReadFull(r, got[:]); err != nil {
		return fmt.Errorf("%w: reading network proof: %w", errMalformed, err)
	}
	if !hmac.Equal(got[:], want) {
		return fmt.Errorf("%w: its network proof does not match", errNetwork)
	}
	return nil
}
