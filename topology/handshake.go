package topology

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// Handshake constants; doc.go shows the frames they build.
const (
	protoName    = "scuttle-topology"
	protoVersion = 2

	// tlsRecordHandshake is the first byte of a TLS ClientHello record.
	tlsRecordHandshake = 0x16

	// helloHeaderSize is the fixed part: name length, name, version, body length.
	helloHeaderSize = 1 + len(protoName) + 2 + 2
	// maxHelloBody bounds the body a decoder accepts before it allocates.
	maxHelloBody = 1024
	// maxField bounds each string of the body (its length is one byte).
	maxField = 255

	// connIDLabel is the TLS exporter label of a connection's ID, and
	// connIDSize its length.
	connIDLabel = "EXPERIMENTAL scuttle-topology connection id"
	connIDSize  = 8
)

// A connID names one TLS connection, the same at both ends: a TLS
// exporter value, so no third party knows it or can choose it.
type connID [connIDSize]byte

// hello is what each side says about itself in the handshake: claims,
// believed only as far as the peer's proven key goes.
type hello struct {
	name string // chat name
	addr string // listen address, as the sender sees it
}

// validate reports whether h fits the wire format.
func (h hello) validate() error {
	for _, f := range []struct{ name, v string }{{"name", h.name}, {"addr", h.addr}} {
		if len(f.v) > maxField {
			return fmt.Errorf("%w: %s is %d bytes, max %d", errMalformed, f.name, len(f.v), maxField)
		}
	}
	return nil
}

// appendHelloHeader appends the fixed part of a Hello of the given
// version and body length.
func appendHelloHeader(b []byte, version uint16, bodyLen int) []byte {
	b = append(b, byte(len(protoName)))
	b = append(b, protoName...)
	b = binary.BigEndian.AppendUint16(b, version)
	return binary.BigEndian.AppendUint16(b, uint16(bodyLen))
}

// appendHello appends h's Hello frame to b. h must be valid.
func appendHello(b []byte, h hello) []byte {
	b = appendHelloHeader(b, protoVersion, 2+len(h.name)+len(h.addr))
	for _, s := range []string{h.name, h.addr} {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return b
}

// writeHello writes h's Hello frame to w in one Write.
func writeHello(w io.Writer, h hello) error {
	if err := h.validate(); err != nil {
		return err
	}
	_, err := w.Write(appendHello(make([]byte, 0, helloHeaderSize+2+len(h.name)+len(h.addr)), h))
	return err
}

// readHelloHeader reads the fixed part of a Hello from r: it checks the
// protocol name and returns the version and the body length, bounded by
// maxHelloBody unless the version is another one (whose body this
// version does not interpret).
func readHelloHeader(r io.Reader) (version uint16, bodyLen int, err error) {
	var hdr [helloHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:1]); err != nil {
		return 0, 0, fmt.Errorf("%w: reading protocol name: %w", errMalformed, err)
	}
	if int(hdr[0]) != len(protoName) {
		return 0, 0, fmt.Errorf("%w: name length %d, want %d (%q)", errProtocol, hdr[0], len(protoName), protoName)
	}
	if _, err := io.ReadFull(r, hdr[1:]); err != nil {
		return 0, 0, fmt.Errorf("%w: reading header: %w", errMalformed, err)
	}
	if name := string(hdr[1 : 1+len(protoName)]); name != protoName {
		return 0, 0, fmt.Errorf("%w: name %q, want %q", errProtocol, name, protoName)
	}
	off := 1 + len(protoName)
	version = binary.BigEndian.Uint16(hdr[off:])
	bodyLen = int(binary.BigEndian.Uint16(hdr[off+2:]))
	if version == protoVersion && bodyLen > maxHelloBody {
		return 0, 0, fmt.Errorf("%w: body of %d bytes, max %d", errMalformed, bodyLen, maxHelloBody)
	}
	return version, bodyLen, nil
}

// readHello reads one Hello frame from r. It checks the protocol name
// and version before anything else, so that a peer of another version
// gets errVersion however its body looks, and it bounds the body before
// allocating. Bytes of the body after the last known field are ignored.
func readHello(r io.Reader) (hello, error) {
	v, n, err := readHelloHeader(r)
	if err != nil {
		return hello{}, err
	}
	if v != protoVersion {
		return hello{}, fmt.Errorf("%w: peer speaks %s version %d, this is version %d", errVersion, protoName, v, protoVersion)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return hello{}, fmt.Errorf("%w: reading %d-byte body: %w", errMalformed, n, err)
	}
	var fields [2]string
	names := [2]string{"name", "addr"}
	p := 0
	for i := range fields {
		if p >= len(body) {
			return hello{}, fmt.Errorf("%w: body ends before %s", errMalformed, names[i])
		}
		l := int(body[p])
		p++
		if l > len(body)-p {
			return hello{}, fmt.Errorf("%w: %s of %d bytes overruns body at offset %d", errMalformed, names[i], l, p)
		}
		fields[i] = string(body[p : p+l])
		p += l
	}
	return hello{name: fields[0], addr: fields[1]}, nil
}

// refuseV1 answers a version 1 dialler, whose plaintext Hello starts
// with first (already read from nc): it reads the rest of that Hello
// (bounded) and answers with a version 1 style Hello header that carries
// version 2, which a version 1 peer reports as "peer speaks
// scuttle-topology version 2, this is version 1". Reading the whole
// Hello first lets the close be an orderly one, so the answer arrives.
func refuseV1(nc net.Conn, first byte) error {
	v, n, err := readHelloHeader(io.MultiReader(bytes.NewReader([]byte{first}), nc))
	if err != nil {
		return err
	}
	if n > maxHelloBody {
		return fmt.Errorf("%w: version %d Hello with a body of %d bytes, max %d", errMalformed, v, n, maxHelloBody)
	}
	if _, err := io.CopyN(io.Discard, nc, int64(n)); err != nil {
		return fmt.Errorf("%w: reading the %d-byte body of a version %d Hello: %w", errMalformed, n, v, err)
	}
	nc.Write(appendHelloHeader(nil, protoVersion, 0)) // best effort: the peer learns why
	return fmt.Errorf("%w: peer speaks %s version %d in plaintext, this is version %d over TLS (an older scuttle)", errVersion, protoName, v, protoVersion)
}

// verdictSize is the size of a verdict frame: code, then uint64 sequence.
const verdictSize = 1 + 8

// Codes of the frames that settle which connection of a pair is kept
// (verdict and report). The numbers are append-only.
const (
	verdictAccept    = 1 // verdict: the connection is registered; serve it
	verdictDuplicate = 2 // verdict: another connection to this peer is kept; close
	codeRefused      = 3 // verdict or report: this side refused the peer (Authorize, MaxConns)
	reportReady      = 4 // report: the follower would keep this connection
)

// maxReportIDs bounds the connection IDs in a report.
const maxReportIDs = 16

// appendVerdict appends a verdict frame to b.
func appendVerdict(b []byte, code byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append(b, code), seq)
}

// readVerdict reads a verdict frame from r. A code other than accept,
// duplicate or refused is an error.
func readVerdict(r io.Reader) (code byte, seq uint64, err error) {
	var b [verdictSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, 0, fmt.Errorf("%w: reading verdict: %w", errMalformed, err)
	}
	code, seq = b[0], binary.BigEndian.Uint64(b[1:])
	if code != verdictAccept && code != verdictDuplicate && code != codeRefused {
		return 0, 0, fmt.Errorf("%w: verdict code %d", errMalformed, code)
	}
	return code, seq, nil
}

// appendReport appends a report frame to b: code, then the IDs (at most
// maxReportIDs; more are left out) of the follower's other connections
// to the decider.
func appendReport(b []byte, code byte, ids []connID) []byte {
	ids = ids[:min(len(ids), maxReportIDs)]
	b = append(b, code, byte(len(ids)))
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	return b
}

// readReport reads a report frame from r: a code, ready or refused, and
// at most maxReportIDs connection IDs.
func readReport(r io.Reader) (code byte, ids []connID, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, fmt.Errorf("%w: reading report: %w", errMalformed, err)
	}
	code, n := hdr[0], int(hdr[1])
	if code != reportReady && code != codeRefused {
		return 0, nil, fmt.Errorf("%w: report code %d", errMalformed, code)
	}
	if n > maxReportIDs {
		return 0, nil, fmt.Errorf("%w: report of %d connection ids, max %d", errMalformed, n, maxReportIDs)
	}
	ids = make([]connID, n)
	for i := range ids {
		if _, err := io.ReadFull(r, ids[i][:]); err != nil {
			return 0, nil, fmt.Errorf("%w: reading connection id %d of %d: %w", errMalformed, i+1, n, err)
		}
	}
	return code, ids, nil
}

// secured is a connection past the first part of the handshake: TLS,
// network proofs and Hellos.
type secured struct {
	tc   *tls.Conn
	peer Peer
	id   connID
}

// secure runs the first part of the handshake on nc (see "Handshake" in
// doc.go): TLS 1.3 with both certificates checked, the network proofs,
// then the Hellos. A connection to this swarm itself is errSelf, found
// right after TLS. The caller has set nc's handshake deadline. Once the
// TLS handshake is done, the returned Peer holds the proven key, even
// with an error.
func (s *Swarm) secure(ctx context.Context, nc net.Conn, dialed bool) (secured, error) {
	tc, err := s.handshakeTLS(ctx, nc, dialed)
	if err != nil {
		return secured{}, err
	}
	cs := tc.ConnectionState()
	// verifyPeer has checked the certificate (peerKey) during the
	// handshake, which fails without it; only the key is taken here.
	key, err := certKey(cs.PeerCertificates)
	if err != nil {
		return secured{}, err
	}
	peer := Peer{Key: key}
	if key.Equal(s.pub) {
		return secured{peer: peer}, fmt.Errorf("%w (key %s)", errSelf, keyString(key))
	}
	if err := s.proveMembership(tc, dialed); err != nil {
		return secured{peer: peer}, err
	}
	h, err := s.exchangeHellos(tc, dialed)
	peer.Name, peer.Addr = h.name, h.addr
	if err != nil {
		return secured{peer: peer}, err
	}
	ekm, err := cs.ExportKeyingMaterial(connIDLabel, nil, connIDSize)
	if err != nil {
		return secured{peer: peer}, fmt.Errorf("topology: TLS exporter: %w", err)
	}
	return secured{tc: tc, peer: peer, id: connID(ekm)}, nil
}

// handshakeTLS runs the TLS handshake on nc. An acceptor first reads one
// byte to tell a TLS record from a version 1 Hello, which it answers
// (refuseV1). A dialler whose peer closes during the handshake says
// that the peer may be of version 1.
func (s *Swarm) handshakeTLS(ctx context.Context, nc net.Conn, dialed bool) (*tls.Conn, error) {
	var tc *tls.Conn
	if dialed {
		tc = tls.Client(nc, s.clientConf)
	} else {
		var first [1]byte
		if _, err := io.ReadFull(nc, first[:]); err != nil {
			return nil, fmt.Errorf("%w: reading the first byte: %w", errMalformed, err)
		}
		switch first[0] {
		case tlsRecordHandshake:
		case byte(len(protoName)):
			return nil, refuseV1(nc, first[0])
		default:
			return nil, fmt.Errorf("%w: first byte %#02x is not a TLS handshake record (%#02x)", errProtocol, first[0], tlsRecordHandshake)
		}
		tc = tls.Server(&replayConn{Conn: nc, first: first[:]}, s.serverConf)
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		if dialed && peerClosed(err) {
			return nil, fmt.Errorf("topology: TLS handshake failed: peer closed the connection (an older scuttle, version 1?): %w", err)
		}
		return nil, fmt.Errorf("topology: TLS handshake failed: %w", err)
	}
	return tc, nil
}

// exchangeHellos sends this side's Hello and reads the peer's: the
// dialer speaks first and the acceptor answers, which also works on an
// unbuffered net.Pipe. An acceptor that finds a version mismatch still
// answers, so that both sides can log the two versions.
func (s *Swarm) exchangeHellos(tc *tls.Conn, dialed bool) (hello, error) {
	if dialed {
		if err := writeHello(tc, s.self); err != nil {
			return hello{}, err
		}
		return readHello(tc)
	}
	h, err := readHello(tc)
	if err == nil || errors.Is(err, errVersion) {
		if werr := writeHello(tc, s.self); err == nil {
			err = werr
		}
	}
	return h, err
}

// peerClosed reports whether err says that the peer closed or reset the
// connection.
func peerClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// replayConn is a net.Conn whose first Read returns first, the byte the
// acceptor read to tell TLS from a version 1 Hello.
type replayConn struct {
	net.Conn
	first []byte
}

func (c *replayConn) Read(b []byte) (int, error) {
	if len(c.first) > 0 {
		n := copy(b, c.first)
		c.first = c.first[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// handshakeDeadline returns when a handshake starting now must be done.
func (s *Swarm) handshakeDeadline() time.Time {
	timeout := s.HandshakeTimeout
	if timeout <= 0 {
		timeout = defaultHandshakeTimeout
	}
	return time.Now().Add(timeout)
}

// pubKey returns the public half of key.
func pubKey(key ed25519.PrivateKey) ed25519.PublicKey { return key.Public().(ed25519.PublicKey) }
