package topology

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Handshake constants; doc.go shows the frame they build.
const (
	protoName    = "scuttle-topology"
	protoVersion = 1

	// helloHeaderSize is the fixed part: name length, name, version, body length.
	helloHeaderSize = 1 + len(protoName) + 2 + 2
	// maxHelloBody bounds the body a decoder accepts before it allocates.
	maxHelloBody = 1024
	// maxField bounds each string of the body (its length is one byte).
	maxField = 255

	// verdictSize is the decider's verdict: code, then uint64 sequence.
	verdictSize = 1 + 8
)

// Verdict codes, sent by the decider (the lower ID) after the Hellos.
// The numbers are append-only.
const (
	verdictAccept    = 1 // the connection is registered; serve it
	verdictDuplicate = 2 // another connection to this peer is up; close
)

// Hello is what each side of a connection says about itself in the
// handshake.
type Hello struct {
	// ID identifies the peer's log. It is opaque to this package (the chat
	// passes an applog ID) and must not be empty; two connections with the
	// same ID are the same peer.
	ID string
	// Name is the peer's chat name, as given on its command line.
	Name string
	// Addr is the address the peer listens on, as it sees it (for example
	// "[::]:55204"); informative, never dialled by this package.
	Addr string
}

// validate reports whether h fits the wire format.
func (h Hello) validate() error {
	if h.ID == "" {
		return fmt.Errorf("%w: empty id", errMalformed)
	}
	for _, f := range []struct{ name, v string }{{"id", h.ID}, {"name", h.Name}, {"addr", h.Addr}} {
		if len(f.v) > maxField {
			return fmt.Errorf("%w: %s is %d bytes, max %d", errMalformed, f.name, len(f.v), maxField)
		}
	}
	return nil
}

// appendHello appends h's handshake frame to b. h must be valid.
func appendHello(b []byte, h Hello) []byte {
	b = append(b, byte(len(protoName)))
	b = append(b, protoName...)
	b = binary.BigEndian.AppendUint16(b, protoVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(3+len(h.ID)+len(h.Name)+len(h.Addr)))
	for _, s := range []string{h.ID, h.Name, h.Addr} {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return b
}

// writeHello writes h's handshake frame to w in one Write.
func writeHello(w io.Writer, h Hello) error {
	if err := h.validate(); err != nil {
		return err
	}
	_, err := w.Write(appendHello(make([]byte, 0, helloHeaderSize+3+len(h.ID)+len(h.Name)+len(h.Addr)), h))
	return err
}

// readHello reads one handshake frame from r. It checks the protocol name
// and version before anything else, so that a peer of another version
// gets errVersion however its body looks, and it bounds the body before
// allocating. Bytes of the body after the last known field are ignored.
func readHello(r io.Reader) (Hello, error) {
	var hdr [helloHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:1]); err != nil {
		return Hello{}, fmt.Errorf("%w: reading protocol name: %w", errMalformed, err)
	}
	if int(hdr[0]) != len(protoName) {
		return Hello{}, fmt.Errorf("%w: name length %d, want %d (%q)", errProtocol, hdr[0], len(protoName), protoName)
	}
	if _, err := io.ReadFull(r, hdr[1:]); err != nil {
		return Hello{}, fmt.Errorf("%w: reading header: %w", errMalformed, err)
	}
	if name := string(hdr[1 : 1+len(protoName)]); name != protoName {
		return Hello{}, fmt.Errorf("%w: name %q, want %q", errProtocol, name, protoName)
	}
	off := 1 + len(protoName)
	if v := binary.BigEndian.Uint16(hdr[off:]); v != protoVersion {
		return Hello{}, fmt.Errorf("%w: peer speaks %s version %d, this is version %d", errVersion, protoName, v, protoVersion)
	}
	n := int(binary.BigEndian.Uint16(hdr[off+2:]))
	if n > maxHelloBody {
		return Hello{}, fmt.Errorf("%w: body of %d bytes, max %d", errMalformed, n, maxHelloBody)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return Hello{}, fmt.Errorf("%w: reading %d-byte body: %w", errMalformed, n, err)
	}
	var fields [3]string
	names := [3]string{"id", "name", "addr"}
	p := 0
	for i := range fields {
		if p >= len(body) {
			return Hello{}, fmt.Errorf("%w: body ends before %s", errMalformed, names[i])
		}
		l := int(body[p])
		p++
		if l > len(body)-p {
			return Hello{}, fmt.Errorf("%w: %s of %d bytes overruns body at offset %d", errMalformed, names[i], l, p)
		}
		fields[i] = string(body[p : p+l])
		p += l
	}
	h := Hello{ID: fields[0], Name: fields[1], Addr: fields[2]}
	if h.ID == "" {
		return Hello{}, fmt.Errorf("%w: empty id", errMalformed)
	}
	return h, nil
}

// appendVerdict appends a verdict frame to b.
func appendVerdict(b []byte, code byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append(b, code), seq)
}

// readVerdict reads a verdict frame from r. An unknown code is an error.
func readVerdict(r io.Reader) (code byte, seq uint64, err error) {
	var b [verdictSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, 0, fmt.Errorf("%w: reading verdict: %w", errMalformed, err)
	}
	code, seq = b[0], binary.BigEndian.Uint64(b[1:])
	if code != verdictAccept && code != verdictDuplicate {
		return 0, 0, fmt.Errorf("%w: verdict code %d", errMalformed, code)
	}
	return code, seq, nil
}

// exchangeHellos sets nc's handshake deadline and exchanges Hellos. The
// dialer speaks first and the acceptor answers, which also works on an
// unbuffered net.Pipe. An acceptor that finds a version mismatch still
// answers with its own Hello, so that both sides can log the two
// versions. The deadline stays set for the verdict.
func (s *Swarm) exchangeHellos(nc net.Conn, dialed bool) (Hello, error) {
	timeout := s.HandshakeTimeout
	if timeout <= 0 {
		timeout = defaultHandshakeTimeout
	}
	if err := nc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return Hello{}, err
	}
	var peer Hello
	var err error
	if dialed {
		if err = writeHello(nc, s.self); err == nil {
			peer, err = readHello(nc)
		}
	} else {
		peer, err = readHello(nc)
		if err == nil || errors.Is(err, errVersion) {
			if werr := writeHello(nc, s.self); err == nil {
				err = werr
			}
		}
	}
	if err == nil && peer.ID == s.ID {
		err = fmt.Errorf("%w (id %q)", errSelf, peer.ID)
	}
	return peer, err
}
