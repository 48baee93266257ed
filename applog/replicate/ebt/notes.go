package ebt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The notes frame's payload (doc.go, Wire mapping):
//
//	{ ref, note } …   (none: a Resend)
//	ref   = uvarint: 0 then id (uvarint length 1 … MaxIDLen, then the
//	        log id's text), which takes the next number while fewer
//	        than MaxRefs logs are numbered, and none after; or n >= 1
//	note  = uvarint: seq << 2 | want (0 lazy, 1 eager, 2 quiet)
//
// The numbers are a window: the first MaxRefs logs named on a direction
// of a connection are numbered, and every other is named by its id each
// time. So what a Decoder keeps is bounded by MaxRefs ids, whatever the
// peer names (a peer of many logs pays about 53 bytes a note past the
// window, instead of about 4).

// MaxIDLen bounds a log id's length in a notes frame, as replicate's
// MaxIDLen does.
const MaxIDLen = 64

// DefaultMaxRefs is how many logs an Encoder or Decoder numbers by
// default: a Decoder keeps at most that many ids, about 130 kB, against
// about 10 MB for the 65,536 logs a peer may name.
const DefaultMaxRefs = 1024

// ErrNotes is the error a malformed notes payload wraps.
var ErrNotes = errors.New("ebt: malformed notes")

// Encoder writes notes payloads for one direction of one connection,
// numbering each log the first time it names it. Its zero value numbers
// up to DefaultMaxRefs logs.
type Encoder struct {
	// MaxRefs bounds the logs numbered (0: DefaultMaxRefs); past it,
	// logs are named by their ids. It must be the peer's Decoder's
	// bound.
	MaxRefs int
	refs    map[Log]uint64
}

// Append appends the payload of notes to dst (nothing for no notes: a
// Resend). A note of a log past the MaxRefs numbered names it by its id.
// A note with an id longer than MaxIDLen or empty is an error, and
// nothing is appended.
func (e *Encoder) Append(dst []byte, notes []Note) ([]byte, error) {
	if e.refs == nil {
		e.refs = make(map[Log]uint64)
	}
	limit := e.MaxRefs
	if limit <= 0 {
		limit = DefaultMaxRefs
	}
	start := len(dst)
	var added []Log
	for _, nt := range notes {
		if len(nt.Log) == 0 || len(nt.Log) > MaxIDLen || nt.Seq >= 1<<62 {
			e.undo(added)
			return dst[:start], fmt.Errorf("ebt: cannot encode note of %q at %d", nt.Log, nt.Seq)
		}
		if ref, ok := e.refs[nt.Log]; ok {
			dst = binary.AppendUvarint(dst, ref)
		} else {
			if len(e.refs) < limit {
				e.refs[nt.Log] = uint64(len(e.refs) + 1)
				added = append(added, nt.Log)
			}
			dst = binary.AppendUvarint(dst, 0)
			dst = binary.AppendUvarint(dst, uint64(len(nt.Log)))
			dst = append(dst, nt.Log...)
		}
		v := nt.Seq << 2
		switch {
		case nt.Eager:
			v |= 1
		case nt.Quiet:
			v |= 2
		}
		dst = binary.AppendUvarint(dst, v)
	}
	return dst, nil
}

func (e *Encoder) undo(added []Log) {
	for _, l := range added {
		delete(e.refs, l)
	}
}

// Decoder reads notes payloads of one direction of one connection. Its
// zero value numbers up to DefaultMaxRefs logs.
type Decoder struct {
	// MaxRefs bounds the logs numbered (0: DefaultMaxRefs): a log
	// named past it takes no number, and costs the Decoder nothing.
	MaxRefs int
	logs    []Log
	seen    map[Log]bool
}

// Decode appends the notes of payload to notes; an empty payload, no
// note, is a Resend. A malformed payload (a
// truncated or overlong uvarint, an id of length 0 or past MaxIDLen, a
// ref to a number not given, a log numbered twice, a want of 3) is an
// error wrapping ErrNotes,
// after which the connection is to be closed; the logs it numbered
// before the error stay numbered.
func (d *Decoder) Decode(notes []Note, payload []byte) ([]Note, error) {
	limit := d.MaxRefs
	if limit <= 0 {
		limit = DefaultMaxRefs
	}
	for off := 0; off < len(payload); {
		ref, n := binary.Uvarint(payload[off:])
		if n <= 0 {
			return notes, fmt.Errorf("%w: bad ref at offset %d", ErrNotes, off)
		}
		off += n
		var l Log
		if ref == 0 {
			ln, n := binary.Uvarint(payload[off:])
			if n <= 0 || ln == 0 || ln > MaxIDLen || ln > uint64(len(payload)-off-n) {
				return notes, fmt.Errorf("%w: bad id length at offset %d", ErrNotes, off)
			}
			off += n
			l = Log(payload[off : off+int(ln)])
			off += int(ln)
			if len(d.logs) < limit {
				if d.seen == nil {
					d.seen = make(map[Log]bool)
				}
				if d.seen[l] {
					return notes, fmt.Errorf("%w: log %q numbered twice", ErrNotes, l)
				}
				d.seen[l] = true
				d.logs = append(d.logs, l)
			}
		} else {
			if ref > uint64(len(d.logs)) {
				return notes, fmt.Errorf("%w: ref %d past the %d logs numbered", ErrNotes, ref, len(d.logs))
			}
			l = d.logs[ref-1]
		}
		v, n := binary.Uvarint(payload[off:])
		if n <= 0 || v&3 == 3 {
			return notes, fmt.Errorf("%w: bad note of %q at offset %d", ErrNotes, l, off)
		}
		off += n
		notes = append(notes, Note{Log: l, Seq: v >> 2, Eager: v&3 == 1, Quiet: v&3 == 2})
	}
	return notes, nil
}
