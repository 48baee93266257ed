package overlay

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Bounds of the wire format (doc.go, Wire format).
const (
	// MaxIDLen bounds a peer's id on the wire (a log id is 52 bytes).
	MaxIDLen = 64
	// MaxAddrLen bounds a peer's address on the wire: host:port text.
	MaxAddrLen = 64
	// MaxWirePeers bounds the peers of a Shuffle or ShuffleReply on the
	// wire; Validate keeps ShuffleActive+ShufflePassive+1 within it.
	MaxWirePeers = 16
	// MaxTTL bounds a walk's ttl on the wire: ActiveWalk's bound.
	MaxTTL = 10
	// MaxMsgSize bounds an encoded message: a shuffle of MaxWirePeers
	// peers of the longest id and address.
	MaxMsgSize = 1 + 1 + (MaxWirePeers+1)*(2+MaxIDLen+MaxAddrLen) + 1
)

// ErrMalformed is wrapped by the errors of DecodeMsg.
var ErrMalformed = errors.New("overlay: malformed message")

// Entry is a peer as a message carries it: its id and the address it
// may be dialled at (host:port; "" if the sender knows none).
type Entry struct {
	Peer Peer
	Addr string
}

// AppendMsg appends the wire encoding of m (its To aside) to b and
// returns it; addr gives the address to send with each peer m names
// (nil: none). A message out of the wire's bounds (an id empty or past
// MaxIDLen, more than MaxWirePeers peers, a ttl past MaxTTL, an unknown
// kind) is an error; an address past MaxAddrLen is sent as "".
func AppendMsg(b []byte, m Msg, addr func(Peer) string) ([]byte, error) {
	peer := func(b []byte, p Peer) ([]byte, error) {
		if len(p) == 0 || len(p) > MaxIDLen {
			return b, fmt.Errorf("overlay: peer id of %d bytes, want 1 … %d", len(p), MaxIDLen)
		}
		var a string
		if addr != nil {
			a = addr(p)
		}
		if len(a) > MaxAddrLen {
			a = ""
		}
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
		b = binary.AppendUvarint(b, uint64(len(a)))
		return append(b, a...), nil
	}
	peers := func(b []byte, ps []Peer) ([]byte, error) {
		if len(ps) > MaxWirePeers {
			return b, fmt.Errorf("overlay: %d peers, at most %d on the wire", len(ps), MaxWirePeers)
		}
		b = binary.AppendUvarint(b, uint64(len(ps)))
		var err error
		for _, p := range ps {
			if b, err = peer(b, p); err != nil {
				return b, err
			}
		}
		return b, nil
	}
	if m.TTL > MaxTTL {
		return b, fmt.Errorf("overlay: ttl %d, at most %d", m.TTL, MaxTTL)
	}
	b = append(b, byte(m.Kind))
	var err error
	switch m.Kind {
	case Join, Disconnect:
	case ForwardJoin:
		if b, err = peer(b, m.Peer); err != nil {
			return b, err
		}
		b = append(b, m.TTL)
	case Neighbor:
		b = append(b, flag(m.High))
	case NeighborReply:
		b = append(b, flag(m.Accept))
	case Shuffle:
		if b, err = peer(b, m.Peer); err != nil {
			return b, err
		}
		b = append(b, m.TTL)
		b, err = peers(b, m.Peers)
	case ShuffleReply:
		b, err = peers(b, m.Peers)
	default:
		return b, fmt.Errorf("overlay: unknown kind %d", m.Kind)
	}
	return b, err
}

func flag(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// DecodeMsg decodes one message (its To is left empty) and returns it
// with the entries it carries: the peer of a ForwardJoin or a Shuffle
// first, then those of Peers, each with the address sent for it. An
// error wraps ErrMalformed: an unknown kind, a count, ttl, flag or
// length out of its bound, a truncated message or bytes after its end.
func DecodeMsg(b []byte) (Msg, []Entry, error) {
	d := decoder{b: b}
	var m Msg
	var es []Entry
	m.Kind = Kind(d.byte("kind"))
	switch m.Kind {
	case Join, Disconnect:
	case ForwardJoin:
		e := d.entry()
		m.Peer, es = e.Peer, append(es, e)
		m.TTL = d.ttl()
	case Neighbor:
		m.High = d.flag()
	case NeighborReply:
		m.Accept = d.flag()
	case Shuffle:
		e := d.entry()
		m.Peer, es = e.Peer, append(es, e)
		m.TTL = d.ttl()
		m.Peers, es = d.peers(es)
	case ShuffleReply:
		m.Peers, es = d.peers(es)
	default:
		if d.err == nil {
			d.fail("unknown kind %d", m.Kind)
		}
	}
	if d.err == nil && d.off != len(b) {
		d.fail("%d bytes after the message", len(b)-d.off)
	}
	if d.err != nil {
		return Msg{}, nil, d.err
	}
	return m, es, nil
}

// decoder reads a message; its first error sticks.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at offset %d", ErrMalformed, fmt.Sprintf(format, args...), d.off)
	}
}

func (d *decoder) byte(what string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("no %s", what)
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) uvarint(what string, limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 || n != uvarintLen(v) {
		d.fail("bad %s", what) // truncated, overlong or not minimal
		return 0
	}
	if v > limit {
		d.fail("%s %d past %d", what, v, limit)
		return 0
	}
	d.off += n
	return v
}

// uvarintLen is the length of v's minimal encoding: the only one
// accepted, so that a message has one encoding.
func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return len(binary.AppendUvarint(b[:0], v))
}

func (d *decoder) text(what string, lo, hi uint64) string {
	n := d.uvarint(what+" length", hi)
	if d.err != nil {
		return ""
	}
	if n < lo {
		d.fail("empty %s", what)
		return ""
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("%s of %d bytes, %d left", what, n, len(d.b)-d.off)
		return ""
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s
}

func (d *decoder) entry() Entry {
	id := d.text("peer id", 1, MaxIDLen)
	addr := d.text("address", 0, MaxAddrLen)
	return Entry{Peer: Peer(id), Addr: addr}
}

func (d *decoder) ttl() uint8 {
	v := d.byte("ttl")
	if v > MaxTTL {
		d.fail("ttl %d past %d", v, MaxTTL)
	}
	return v
}

func (d *decoder) flag() bool {
	v := d.byte("flags")
	if v > 1 {
		d.fail("flags %#x", v)
	}
	return v == 1
}

func (d *decoder) peers(es []Entry) ([]Peer, []Entry) {
	n := d.uvarint("count", MaxWirePeers)
	var ps []Peer
	for range n {
		e := d.entry()
		if d.err != nil {
			return nil, es
		}
		ps, es = append(ps, e.Peer), append(es, e)
	}
	return ps, es
}
