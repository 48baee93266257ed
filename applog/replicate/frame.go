package replicate

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"scuttle/applog"
	"scuttle/applog/blob"
)

// Frame types. The numbers are part of the wire format: append only, never
// renumber or reuse one.
const (
	frameHello    = 1  // version
	frameHeads    = 2  // (log id, head)…
	frameHeadsEnd = 3  // empty: the heads are complete
	frameRecords  = 4  // log id, first seq, (flagged length, record)…
	frameFork     = 5  // a fork proof (applog.CheckForkProof); Version 2
	frameGet      = 6  // file id, part (kind, index): a request; Version 3
	frameData     = 7  // file id, part, [manifest length], bytes: a reply; Version 3
	frameNone     = 8  // file id, part: "not here", a reply; Version 3
	frameNotes    = 9  // { ref, note } … (package ebt's payload); Version 4
	frameMember   = 10 // opaque membership payload (Options.Membership); Version 5
)

// Version is the protocol version this package speaks, sent in the hello
// frame. Peers use the lower of the two versions; a peer below 1 is refused.
// Version 2 adds the fork frame, sent only to a peer that speaks it;
// Version 3 the file frames (get, data, none); Version 4 the notes
// frame and broadcast trees, spoken only by a side with Options.Tree
// (without one, a side says 3); Version 5 the membership frame, spoken
// only by a side with a Tree and Options.Membership (without it, 4).
const Version = 5

// Versions a side says without some of Options' fields.
const (
	versionNoTree       = 3 // without a Tree
	versionNoMembership = 4 // with a Tree, without Membership
)

// MaxMembershipSize bounds a membership frame's payload (Version 5).
const MaxMembershipSize = 4 << 10

// Size limits of the wire format.
const (
	// MaxFrameSize bounds a frame (type byte and payload). It holds any single
	// record: an entry of applog.MaxEntrySize plus generous room for the
	// record's header, signature and the frame's own fields.
	MaxFrameSize = applog.MaxEntrySize + 64<<10

	// MaxIDLen bounds the length of a log id on the wire.
	MaxIDLen = 64

	// MaxLogs bounds how many logs' heads a peer may advertise on one
	// connection beyond the logs the store holds, and so the work and
	// memory its advertisement takes.
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

// Bounds of the file frames (Version 3).
const (
	// maxRequests bounds the get frames a peer may have outstanding on
	// one connection (sent, and not answered yet): one more is a
	// protocol violation that closes the connection. A Fetcher never
	// has more than its PerPeer outstanding, which is at most this.
	maxRequests = 8

	// manifestHeaderLen is the length of a manifest's encoding before
	// its hashes (see package blob): magic, size and block size.
	manifestHeaderLen = 16 + 8 + 4
	// maxManifestLen is the length of the largest manifest: that of a
	// file of blob.MaxBlocks blocks. It does not fit a frame, so a
	// manifest is served in parts of blob.BlockSize bytes.
	maxManifestLen = manifestHeaderLen + blob.MaxBlocks*sha256.Size
	// maxManifestParts is the number of parts of the largest manifest.
	maxManifestParts = (maxManifestLen + blob.BlockSize - 1) / blob.BlockSize
)

// The kinds of part a file frame names.
const (
	partManifest = 0 // index: the part of the manifest's encoding
	partBlock    = 1 // index: the block
)

// part names what a file frame asks for or carries: part Index of the
// manifest of file ID, or its block Index.
type part struct {
	ID    blob.ID
	Kind  byte
	Index uint64
}

func (p part) String() string {
	if p.Kind == partManifest {
		return fmt.Sprintf("manifest part %d of %s", p.Index, p.ID)
	}
	return fmt.Sprintf("block %d of %s", p.Index, p.ID)
}

// valid reports whether p names a part that may exist: a manifest part
// or a block within the bounds of the largest file.
func (p part) valid() bool {
	if p.Kind == partManifest {
		return p.Index < maxManifestParts
	}
	return p.Kind == partBlock && p.Index < blob.MaxBlocks
}

// appendPart appends the encoding of p, which starts every file frame.
func appendPart(b []byte, p part) []byte {
	b = append(b, p.ID[:]...)
	b = append(b, p.Kind)
	return binary.AppendUvarint(b, p.Index)
}

// decodePart decodes the part that starts a file frame's payload and
// returns the offset after it. The kind must be known; the index may be
// out of range (a get of one is answered "not here").
func decodePart(b []byte) (part, int, error) {
	var p part
	if len(b) < len(p.ID)+1 {
		return p, 0, fmt.Errorf("%w: file frame of %d bytes", ErrMalformed, len(b))
	}
	copy(p.ID[:], b)
	p.Kind = b[len(p.ID)]
	if p.Kind != partManifest && p.Kind != partBlock {
		return p, 0, fmt.Errorf("%w: file part of kind %d", ErrMalformed, p.Kind)
	}
	idx, off, err := uvarint(b, len(p.ID)+1, "file part index")
	p.Index = idx
	return p, off, err
}

// decodeGet decodes a get payload: a part and nothing after it.
func decodeGet(b []byte) (part, error) {
	p, off, err := decodePart(b)
	if err == nil && off != len(b) {
		err = fmt.Errorf("%w: %d bytes after the %s", ErrMalformed, len(b)-off, p)
	}
	return p, err
}

// The reasons of a none frame.
const (
	noneFile = 0 // the file is not served here at all
	nonePart = 1 // the file is, but not this part (a partial file)
)

// decodeNone decodes a none payload: a part and the reason, one byte.
func decodeNone(b []byte) (part, byte, error) {
	p, off, err := decodePart(b)
	if err != nil {
		return p, 0, err
	}
	if off != len(b)-1 || b[off] > nonePart {
		return p, 0, fmt.Errorf("%w: none of the %s without a reason", ErrMalformed, p)
	}
	return p, b[off], nil
}

// data is a decoded data frame. Bytes aliases the frame.
type data struct {
	part
	Total uint64 // manifest parts only: the length of the whole manifest
	Bytes []byte
}

// decodeData decodes a data payload: a valid part, for a manifest part
// the manifest's length (at most maxManifestLen, and past the part's
// start), then 1 … blob.BlockSize bytes; a manifest part is exactly the
// bytes of the manifest it covers.
func decodeData(b []byte) (data, error) {
	var d data
	var off int
	var err error
	if d.part, off, err = decodePart(b); err != nil {
		return d, err
	}
	if !d.valid() {
		return d, fmt.Errorf("%w: data of %s, out of range", ErrMalformed, d.part)
	}
	if d.Kind == partManifest {
		if d.Total, off, err = uvarint(b, off, "manifest length"); err != nil {
			return d, err
		}
		start := d.Index * blob.BlockSize
		if d.Total > maxManifestLen || d.Total <= start {
			return d, fmt.Errorf("%w: %s of a manifest of %d bytes", ErrMalformed, d.part, d.Total)
		}
		if want := min(d.Total-start, blob.BlockSize); uint64(len(b)-off) != want {
			return d, fmt.Errorf("%w: %s has %d bytes, want %d", ErrMalformed, d.part, len(b)-off, want)
		}
	}
	d.Bytes = b[off:]
	if len(d.Bytes) == 0 || len(d.Bytes) > blob.BlockSize {
		return d, fmt.Errorf("%w: %s has %d bytes", ErrMalformed, d.part, len(d.Bytes))
	}
	return d, nil
}
