package seal

import (
	"fmt"
	"strings"

	"scuttle/applog"
)

// This file reads and writes the bytes of a payload (doc.go, "Format"):
// pure codecs that check every length before they slice.

// magic starts every sealed payload; the NUL keeps it from being the
// start of a chat line (JSON) or of text.
const magic = "\x00seal"

// version1 is the only version of the format.
const version1 = 1

// Kind is what a payload holds.
type Kind uint8

// The kinds of payload.
const (
	// Direct is a message sealed to recipients' keys, one stanza each:
	// a private message, or a room key given to a room's members.
	Direct Kind = 1
	// RoomLine is a line sealed with a room's key.
	RoomLine Kind = 2
)

func (k Kind) String() string {
	switch k {
	case Direct:
		return "direct"
	case RoomLine:
		return "room"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// MaxRecipients bounds the recipients of a direct payload, its author
// not counted (the author's own stanza makes MaxRecipients+1).
const MaxRecipients = 254

// MaxPayload bounds a payload: an entry of a log (applog.MaxEntrySize).
const MaxPayload = applog.MaxEntrySize

// Offsets of the fields both kinds share, and of each kind's.
const (
	offKind   = len(magic) + 1
	offNonce  = offKind + 1
	offSender = offNonce + nonceSize // direct: the author's encryption key
	offCount  = offSender + keySize  // direct: the number of stanzas
	offStanza = offCount + 1         // direct: the first stanza
	offTag    = offNonce + nonceSize // room line: the tag
	offLine   = offTag + tagSize     // room line: the body

	// minDirect and minLine are the shortest payloads of each kind: one
	// stanza and an empty body plaintext's AEAD tag.
	minDirect = offStanza + stanzaSize + aeadOver
	minLine   = offLine + aeadOver
)

// envelope is a payload split into its fields; each is a view of the
// payload's bytes.
type envelope struct {
	kind    Kind
	prefix  []byte // direct: magic through the sender key, part of each stanza's HPKE info
	nonce   []byte
	sender  []byte // direct: the author's encryption public key
	stanzas []byte // direct: n × stanzaSize
	tag     []byte // room line
	header  []byte // everything before the body: the body's additional data
	body    []byte // the AES-256-GCM ciphertext
}

// stanza returns the i-th stanza's tag and its HPKE ciphertext (enc ‖
// wrapped key).
func (e *envelope) stanza(i int) (tag, ct []byte) {
	s := e.stanzas[i*stanzaSize : (i+1)*stanzaSize]
	return s[:tagSize], s[tagSize:]
}

func (e *envelope) count() int { return len(e.stanzas) / stanzaSize }

// IsSealed reports whether data starts as a sealed payload does (magic
// and version); ParseHeader tells whether the rest is well formed.
func IsSealed(data []byte) bool {
	return len(data) > len(magic) && string(data[:len(magic)]) == magic && data[len(magic)] == version1
}

// Header is what anyone can read of a payload without a key.
type Header struct {
	Kind Kind
	// Stanzas is the number of keys a direct payload is sealed to: its
	// recipients and its author. 0 for a room line.
	Stanzas int
	// Sender is the author's encryption key, which sealed a direct
	// payload's stanzas; the zero PublicKey for a room line.
	Sender PublicKey
}

// ParseHeader returns the header of payload, or an error matching
// ErrMalformed if payload is not a well-formed sealed payload of a kind
// this version knows.
func ParseHeader(payload []byte) (Header, error) {
	e, err := parse(payload)
	if err != nil {
		return Header{}, err
	}
	h := Header{Kind: e.kind, Stanzas: e.count()}
	if e.kind == Direct {
		if h.Sender, err = ParsePublicKey(e.sender); err != nil {
			return Header{}, err
		}
	}
	return h, nil
}

// parse splits b into its fields, checking every length.
func parse(b []byte) (envelope, error) {
	if len(b) > MaxPayload {
		return envelope{}, fmt.Errorf("%w payload: %d bytes, more than %d", ErrMalformed, len(b), MaxPayload)
	}
	if !IsSealed(b) {
		return envelope{}, fmt.Errorf("%w payload: no %q version %d magic", ErrMalformed, strings.TrimPrefix(magic, "\x00"), version1)
	}
	if len(b) <= offKind {
		return envelope{}, fmt.Errorf("%w payload: %d bytes, no kind", ErrMalformed, len(b))
	}
	e := envelope{kind: Kind(b[offKind])}
	switch e.kind {
	case Direct:
		if len(b) < minDirect {
			return envelope{}, fmt.Errorf("%w direct payload: %d bytes, fewer than %d", ErrMalformed, len(b), minDirect)
		}
		n := int(b[offCount])
		if n == 0 || n > MaxRecipients+1 {
			return envelope{}, fmt.Errorf("%w direct payload: %d stanzas, want 1 to %d", ErrMalformed, n, MaxRecipients+1)
		}
		end := offStanza + n*stanzaSize
		if len(b) < end+aeadOver {
			return envelope{}, fmt.Errorf("%w direct payload: %d bytes, too short for %d stanzas and a body", ErrMalformed, len(b), n)
		}
		e.prefix = b[:offCount]
		e.nonce = b[offNonce:offSender]
		e.sender = b[offSender:offCount]
		e.stanzas = b[offStanza:end]
		e.header, e.body = b[:end], b[end:]
	case RoomLine:
		if len(b) < minLine {
			return envelope{}, fmt.Errorf("%w room line: %d bytes, fewer than %d", ErrMalformed, len(b), minLine)
		}
		e.nonce = b[offNonce:offTag]
		e.tag = b[offTag:offLine]
		e.header, e.body = b[:offLine], b[offLine:]
	default:
		return envelope{}, fmt.Errorf("%w payload: unknown kind %d", ErrMalformed, b[offKind])
	}
	return e, nil
}

// Content types of a body's plaintext, its first byte.
const (
	contentText = 1 // the rest is a text
	contentRoom = 2 // the rest is a room key (encodeRoom)
)

// A direct body's plaintext:
//
//	content type (1) ‖ r (1) ‖ r × recipient log key (32) ‖ content
//
// A room line's:
//
//	content type (1) ‖ content
//
// encodeDirect returns a direct body's plaintext.
func encodeDirect(typ byte, recipients [][]byte, content []byte) []byte {
	b := make([]byte, 0, 2+len(recipients)*32+len(content))
	b = append(b, typ, byte(len(recipients)))
	for _, r := range recipients {
		b = append(b, r...)
	}
	return append(b, content...)
}

// parseDirect splits a direct body's plaintext.
func parseDirect(p []byte) (typ byte, recipients [][]byte, content []byte, err error) {
	if len(p) < 2 {
		return 0, nil, nil, fmt.Errorf("%w body: %d bytes, no recipient count", ErrMalformed, len(p))
	}
	typ, r := p[0], int(p[1])
	if r > MaxRecipients {
		return 0, nil, nil, fmt.Errorf("%w body: %d recipients, more than %d", ErrMalformed, r, MaxRecipients)
	}
	if len(p) < 2+r*32 {
		return 0, nil, nil, fmt.Errorf("%w body: %d bytes, too short for %d recipients", ErrMalformed, len(p), r)
	}
	for i := range r {
		recipients = append(recipients, p[2+i*32:2+(i+1)*32])
	}
	return typ, recipients, p[2+r*32:], nil
}
