package replicate

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"scuttle/applog"
)

// Frame types. The numbers are part of the wire format: append only, never
// renumber or reuse one.
const (
	frameHello    = 1 // version
	frameHeads    = 2 // (log id, head)…
	frameHeadsEnd = 3 // empty: the heads are complete
	frameRecords  = 4 // log id, first seq, (flagged length, record)…
	frameFork     = 5 // a fork proof (applog.CheckForkProof); Version 2
)

// Version is the protocol version this package speaks, sent in the hello
// frame. Peers use the lower of the two versions; a peer below 1 is refused.
// Version 2 adds the fork frame, sent only to a peer that speaks it.
const Version = 2

// Size limits of the wire format.
const (
	// MaxFrameSize bounds a frame (type byte and payload). It holds any single
	// record: an entry of applog.MaxEntrySize plus generous room for the
	// record's header, signature and the frame's own fields.
	MaxFrameSize = applog.MaxEntrySize + 64<<10

	// MaxIDLen bounds the length of a log id on the wire.
	MaxIDLen = 64

	// MaxLogs bounds how many logs' heads a peer may advertise on one
	// connection, and so the memory the advertisement takes.
	MaxLogs = 1 << 16

	// maxOtherHeads bounds the advertised heads a session keeps of logs
	// its store does not hold (see session.has): a log left out is, at
	// worst, sent back to a peer that got it from a third one, which the
	// peer skips.
	maxOtherHeads = 1024

	// maxKeptFrame, maxKeptRun and maxKeptBatch bound the buffers a
	// session keeps between frames (a frame, the unsigned rest of a
	// run, a batch's records): larger ones, which a peer's large
	// records or many small runs make, are dropped once used, so that
	// what one sent once does not stay with its session.
	maxKeptFrame = 2 * frameTarget
	maxKeptRun   = 256 << 10
	maxKeptBatch = 256 << 10

	// frameTarget is the payload size at which the sender closes a frame and
	// starts the next: big enough to amortize the per-frame cost, small
	// enough that frames of different logs interleave.
	frameTarget = 64 << 10
)

// readFrame reads one frame from r into buf (grown as needed, up to
// MaxFrameSize) and returns its type and payload, which alias buf. A length
// above MaxFrameSize is rejected before anything is allocated.
func readFrame(r *bufio.Reader, buf []byte) (typ byte, payload, newBuf []byte, err error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if err == io.EOF {
			return 0, nil, buf, io.EOF
		}
		return 0, nil, buf, fmt.Errorf("%w: frame length: %w", ErrMalformed, err)
	}
	if n == 0 {
		return 0, nil, buf, fmt.Errorf("%w: empty frame", ErrMalformed)
	}
	if n > MaxFrameSize {
		return 0, nil, buf, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameSize, n, MaxFrameSize)
	}
	if uint64(cap(buf)) < n || cap(buf) > maxKeptFrame {
		// A frame larger than maxKeptFrame gets a buffer of its own,
		// dropped at the next frame: a peer that sent one large frame
		// does not make its session keep its size.
		buf = make([]byte, n, max(n, min(2*uint64(cap(buf)), maxKeptFrame)))
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, buf, fmt.Errorf("%w: frame of %d bytes: %w", ErrMalformed, n, err)
	}
	return buf[0], buf[1:], buf, nil
}

// appendFrameHeader appends the header of a frame of type typ whose payload
// is n bytes long.
func appendFrameHeader(b []byte, typ byte, n int) []byte {
	b = binary.AppendUvarint(b, uint64(n)+1)
	return append(b, typ)
}

// uvarint decodes a uvarint at b[off:] and returns it and the offset after it.
func uvarint(b []byte, off int, what string) (uint64, int, error) {
	v, n := binary.Uvarint(b[off:])
	if n <= 0 {
		return 0, off, fmt.Errorf("%w: %s at offset %d", ErrMalformed, what, off)
	}
	return v, off + n, nil
}

// logID decodes a length-prefixed log id at b[off:].
func logID(b []byte, off int) (applog.ID, int, error) {
	n, off, err := uvarint(b, off, "log id length")
	if err != nil {
		return "", off, err
	}
	if n == 0 || n > MaxIDLen || n > uint64(len(b)-off) {
		return "", off, fmt.Errorf("%w: log id of %d bytes at offset %d", ErrMalformed, n, off)
	}
	id, err := applog.ParseID(string(b[off : off+int(n)]))
	if err != nil {
		return "", off, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return id, off + int(n), nil
}

func appendID(b []byte, id applog.ID) []byte {
	b = binary.AppendUvarint(b, uint64(len(id)))
	return append(b, id...)
}

// decodeHello returns the version a hello payload carries. Bytes after it
// are ignored: later versions may add fields.
func decodeHello(p []byte) (uint64, error) {
	v, _, err := uvarint(p, 0, "version")
	return v, err
}

// head is one entry of a heads frame.
type head struct {
	ID   applog.ID
	Head uint64
}

// decodeHeads calls fn for each (log, head) of a heads payload.
func decodeHeads(p []byte, fn func(head) error) error {
	for off := 0; off < len(p); {
		var h head
		var err error
		if h.ID, off, err = logID(p, off); err != nil {
			return err
		}
		if h.Head, off, err = uvarint(p, off, "head"); err != nil {
			return err
		}
		if h.Head == 0 {
			return fmt.Errorf("%w: head 0 of log %s", ErrMalformed, h.ID)
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	return nil
}

// records is a decoded records frame. Its record slices alias the frame.
type records struct {
	ID     applog.ID
	First  uint64   // seq of Recs[0]; the others follow without gaps
	Recs   [][]byte // encoded records as applog.Iter.Record returns them
	Signed []bool   // whether the sender says Recs[i] carries a signature
}

// decodeRecords decodes a records payload into rs, reusing its slices.
func decodeRecords(p []byte, rs *records) error {
	rs.Recs, rs.Signed = rs.Recs[:0], rs.Signed[:0]
	var off int
	var err error
	if rs.ID, off, err = logID(p, 0); err != nil {
		return err
	}
	if rs.First, off, err = uvarint(p, off, "first seq"); err != nil {
		return err
	}
	if rs.First == 0 {
		return fmt.Errorf("%w: first seq 0 of log %s", ErrMalformed, rs.ID)
	}
	for off < len(p) {
		var v uint64
		if v, off, err = uvarint(p, off, "record length"); err != nil {
			return err
		}
		n := v >> 1
		if n == 0 || n > uint64(len(p)-off) {
			return fmt.Errorf("%w: record of %d bytes at offset %d, %d left", ErrMalformed, n, off, len(p)-off)
		}
		rs.Recs = append(rs.Recs, p[off:off+int(n):off+int(n)])
		rs.Signed = append(rs.Signed, v&1 == 1)
		off += int(n)
	}
	if len(rs.Recs) == 0 {
		return fmt.Errorf("%w: records frame of log %s without records", ErrMalformed, rs.ID)
	}
	if rs.First+uint64(len(rs.Recs)) < rs.First {
		return fmt.Errorf("%w: seq overflow in log %s", ErrMalformed, rs.ID)
	}
	return nil
}

// appendRecord appends one record entry of a records payload.
func appendRecord(b, rec []byte, signed bool) []byte {
	v := uint64(len(rec)) << 1
	if signed {
		v |= 1
	}
	b = binary.AppendUvarint(b, v)
	return append(b, rec...)
}
