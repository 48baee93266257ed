package applog

// This file holds the pure codecs of every on-disk structure; doc.go
// draws them. Nothing here does I/O. Lengths are bounded before anything
// is allocated or sliced.
//
// Record frame (little endian):
//
//	0      4      8     9       17      25          57         57+n     57+n+64
//	+------+------+-----+-------+-------+-----------+----------+--------+
//	| len  | crc  |flags| seq   | time  | prev hash | payload  | sig?   |
//	+------+------+-----+-------+-------+-----------+----------+--------+
//	len = bytes after the crc field; crc = CRC-32C(len field ‖ body)
//	record hash = SHA-256(bytes 9 .. 57+n)  (seq, time, prev, payload)

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

const (
	frameHeaderSize = 8  // len u32, crc u32
	bodyFixedSize   = 49 // flags, seq, time, prev
	hashSize        = sha256.Size
	sigSize         = ed25519.SignatureSize
	// minFrameSize and maxFrameSize bound a whole frame.
	minFrameSize = frameHeaderSize + bodyFixedSize
	maxFrameSize = frameHeaderSize + bodyFixedSize + MaxEntrySize + sigSize

	flagSigned = 1 // flags bit 0: a signature follows the payload

	// offsets inside a frame
	offFlags   = 8
	offSeq     = 9
	offTime    = 17
	offPrev    = 25
	offPayload = 57

	fileHeaderSize = 16 // magic[8] + base seq u64 (or zero)
	indexEntrySize = 8  // segment offset u64
	feedRecordSize = 16 // ordinal u32, head u64, crc u32
	logsRecordSize = 36 // public key [32], crc u32
)

// File magics (8 bytes each, the last byte is the format version).
var (
	magicSegment = [8]byte{'S', 'C', 'T', 'L', 'S', 'E', 'G', 1}
	magicIndex   = [8]byte{'S', 'C', 'T', 'L', 'I', 'D', 'X', 1}
	magicFeed    = [8]byte{'S', 'C', 'T', 'L', 'F', 'E', 'D', 1}
	magicLogs    = [8]byte{'S', 'C', 'T', 'L', 'L', 'O', 'G', 1}
	magicState   = [8]byte{'S', 'C', 'T', 'L', 'S', 'T', 'A', 2}
)

// sigDomain prefixes every signed message so a signature made for a
// scuttle chain head can never be replayed as anything else.
const sigDomain = "scuttle/applog/v1 chain head\x00"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Decoding errors. errShort means the bytes end inside the frame (a torn
// or in-progress tail when it happens at the end of a file).
var (
	errShort     = errors.New("frame truncated")
	errLength    = errors.New("frame length out of range")
	errCRC       = errors.New("crc mismatch")
	errFlags     = errors.New("unknown flag bits")
	errSeq       = errors.New("unexpected seq")
	errBadHeader = errors.New("bad file header")
)

// record is a decoded view of one frame; its slices alias the frame.
type record struct {
	frame   []byte // the whole frame, header included
	seq     uint64
	time    int64
	prev    []byte // 32 bytes
	payload []byte
	sig     []byte // nil if unsigned
}

func (r *record) signed() bool { return r.sig != nil }

// hashed returns the bytes the record hash covers.
func (r *record) hashed() []byte { return r.frame[offSeq : offPayload+len(r.payload)] }

// hash returns the record's chain hash.
func (r *record) hash() [hashSize]byte { return sha256.Sum256(r.hashed()) }

// frameHash returns the chain hash of a frame that decodeRecord accepted.
func frameHash(f []byte) [hashSize]byte {
	end := len(f)
	if f[offFlags]&flagSigned != 0 {
		end -= sigSize
	}
	return sha256.Sum256(f[offSeq:end])
}

// frameLen returns the length of the frame starting at b, or errShort if
// b is too short to hold the length field, or errLength if the length is
// out of range.
func frameLen(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, errShort
	}
	n := binary.LittleEndian.Uint32(b)
	if n < bodyFixedSize || n > maxFrameSize-frameHeaderSize {
		return 0, fmt.Errorf("%w: %d", errLength, n)
	}
	return frameHeaderSize + int(n), nil
}

// decodeRecord decodes the frame at the start of b. It checks the length
// bounds, the CRC and the flags; it does not check seq or chain.
func decodeRecord(b []byte) (record, error) {
	n, err := frameLen(b)
	if err != nil {
		return record{}, err
	}
	if len(b) < n {
		return record{}, errShort
	}
	f := b[:n:n]
	want := binary.LittleEndian.Uint32(f[4:])
	got := crc32.Update(crc32.Update(0, castagnoli, f[:4]), castagnoli, f[frameHeaderSize:])
	if got != want {
		return record{}, fmt.Errorf("%w: stored %08x, computed %08x", errCRC, want, got)
	}
	flags := f[offFlags]
	if flags&^flagSigned != 0 {
		return record{}, fmt.Errorf("%w: %02x", errFlags, flags)
	}
	r := record{
		frame: f,
		seq:   binary.LittleEndian.Uint64(f[offSeq:]),
		time:  int64(binary.LittleEndian.Uint64(f[offTime:])),
		prev:  f[offPrev:offPayload],
	}
	end := n
	if flags&flagSigned != 0 {
		if n-offPayload < sigSize {
			return record{}, fmt.Errorf("%w: signed frame of %d bytes", errLength, n)
		}
		end = n - sigSize
		r.sig = f[end:]
	}
	if end-offPayload > MaxEntrySize {
		return record{}, fmt.Errorf("%w: payload %d bytes", errLength, end-offPayload)
	}
	r.payload = f[offPayload:end]
	return r, nil
}

// signer signs chain heads of one log.
type signer struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

// sigMessage builds the signed message for the head (seq, hash) of log pub.
func sigMessage(buf *[len(sigDomain) + 32 + 8 + hashSize]byte, pub []byte, seq uint64, h *[hashSize]byte) []byte {
	n := copy(buf[:], sigDomain)
	n += copy(buf[n:], pub)
	binary.LittleEndian.PutUint64(buf[n:], seq)
	n += 8
	n += copy(buf[n:], h[:])
	return buf[:n]
}

// verifySig reports whether sig signs head (seq, h) of log pub.
func verifySig(pub ed25519.PublicKey, seq uint64, h *[hashSize]byte, sig []byte) bool {
	var buf [len(sigDomain) + 32 + 8 + hashSize]byte
	return ed25519.Verify(pub, sigMessage(&buf, pub, seq, h), sig)
}

// appendRecord appends the frame of record (seq, t, prev, payload) to dst,
// signed by s if s is not nil, and returns the extended slice and the
// record's hash. len(payload) must be <= MaxEntrySize.
func appendRecord(dst []byte, seq uint64, t int64, prev *[hashSize]byte, payload []byte, s *signer) ([]byte, [hashSize]byte) {
	start := len(dst)
	size := offPayload + len(payload)
	if s != nil {
		size += sigSize
	}
	dst = grow(dst, size)
	f := dst[start : start+size]
	binary.LittleEndian.PutUint32(f, uint32(size-frameHeaderSize))
	f[offFlags] = 0
	binary.LittleEndian.PutUint64(f[offSeq:], seq)
	binary.LittleEndian.PutUint64(f[offTime:], uint64(t))
	copy(f[offPrev:], prev[:])
	copy(f[offPayload:], payload)
	h := sha256.Sum256(f[offSeq : offPayload+len(payload)])
	if s != nil {
		f[offFlags] = flagSigned
		var buf [len(sigDomain) + 32 + 8 + hashSize]byte
		sig := ed25519.Sign(s.priv, sigMessage(&buf, s.pub, seq, &h))
		copy(f[offPayload+len(payload):], sig)
	}
	crc := crc32.Update(crc32.Update(0, castagnoli, f[:4]), castagnoli, f[frameHeaderSize:])
	binary.LittleEndian.PutUint32(f[4:], crc)
	return dst, h
}

// grow extends b by n bytes (contents of the new bytes unspecified).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), max(2*cap(b)+n, 64<<10))
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// fileHeader encodes a 16-byte file header.
func fileHeader(magic [8]byte, base uint64) [fileHeaderSize]byte {
	var h [fileHeaderSize]byte
	copy(h[:], magic[:])
	binary.LittleEndian.PutUint64(h[8:], base)
	return h
}

// checkFileHeader checks b against magic and base.
func checkFileHeader(b []byte, magic [8]byte, base uint64) error {
	if len(b) < fileHeaderSize {
		return fmt.Errorf("%w: %d bytes", errBadHeader, len(b))
	}
	if [8]byte(b[:8]) != magic {
		return fmt.Errorf("%w: magic %q, want %q", errBadHeader, b[:8], magic[:])
	}
	if got := binary.LittleEndian.Uint64(b[8:]); got != base {
		return fmt.Errorf("%w: base %d, want %d", errBadHeader, got, base)
	}
	return nil
}

// Index file: a file header, then one entry per record of the segment:
//
//	0        8          16         24               16+8*i     16+8*(i+1)
//	+--------+----------+----------+------ - - -----+----------+
//	| magic  | base seq | offset 0 |                | offset i |
//	+--------+----------+----------+------ - - -----+----------+
//	magic = "SCTLIDX" 0x01; offset i (u64) = where the frame of seq
//	base+i starts in the segment, at least fileHeaderSize and below
//	maxIndexOffset.

// maxIndexOffset bounds the offsets an index entry may hold.
const maxIndexOffset = 1 << 62

// errIndexMissing says the index has no entry for a seq.
var errIndexMissing = errors.New("index entry missing")

// indexPos is where the entry of seq lives in the index of the segment
// starting at base.
func indexPos(base, seq uint64) int64 {
	return fileHeaderSize + int64(seq-base)*indexEntrySize
}

// indexSize is the size of the index of the segment starting at base
// whose last record is head (head = base-1: no record).
func indexSize(base, head uint64) int64 { return indexPos(base, head+1) }

// appendIndexEntry appends the entry of a frame at offset off.
func appendIndexEntry(dst []byte, off int64) []byte {
	return binary.LittleEndian.AppendUint64(dst, uint64(off))
}

// encodeIndex returns the whole index file of the segment starting at
// base whose frames are at offsets.
func encodeIndex(base uint64, offsets []int64) []byte {
	h := fileHeader(magicIndex, base)
	b := make([]byte, fileHeaderSize, fileHeaderSize+len(offsets)*indexEntrySize)
	copy(b, h[:])
	for _, o := range offsets {
		b = appendIndexEntry(b, o)
	}
	return b
}

// decodeIndexEntry decodes the entry at the start of b and, if b holds
// the one after it, the frame length they imply: next-off if the next
// entry is a plausible frame end, else 0.
func decodeIndexEntry(b []byte) (off int64, frameLen int, err error) {
	if len(b) < indexEntrySize {
		return 0, 0, errIndexMissing
	}
	off = int64(binary.LittleEndian.Uint64(b))
	if off < fileHeaderSize || off >= maxIndexOffset {
		return 0, 0, fmt.Errorf("index entry %d out of range", off)
	}
	if len(b) >= 2*indexEntrySize {
		if next := int64(binary.LittleEndian.Uint64(b[indexEntrySize:])); next > off && next-off <= maxFrameSize {
			frameLen = int(next - off)
		}
	}
	return off, frameLen, nil
}

// Feed record:
//
//	0         4           12        16
//	+---------+-----------+---------+
//	| ordinal | head      | crc     |
//	+---------+-----------+---------+
//	  u32       u64         u32 = CRC-32C of bytes 0..12

// feedRecord is one record of the feed file: log ordinal ord grew to head.
type feedRecord struct {
	ord  uint32
	head uint64
}

func appendFeedRecord(dst []byte, r feedRecord) []byte {
	var b [feedRecordSize]byte
	binary.LittleEndian.PutUint32(b[0:], r.ord)
	binary.LittleEndian.PutUint64(b[4:], r.head)
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[:12], castagnoli))
	return append(dst, b[:]...)
}

// decodeFeedRecord decodes a 16-byte feed record; ok is false if its CRC
// does not match.
func decodeFeedRecord(b []byte) (feedRecord, bool) {
	if len(b) < feedRecordSize || crc32.Checksum(b[:12], castagnoli) != binary.LittleEndian.Uint32(b[12:]) {
		return feedRecord{}, false
	}
	return feedRecord{ord: binary.LittleEndian.Uint32(b), head: binary.LittleEndian.Uint64(b[4:])}, true
}

// Log table (logs): a file header (magic "SCTLLOG" 0x01, zero base),
// then one record per log ordinal:
//
//	0            32      36
//	+------------+-------+
//	| public key | crc   |
//	+------------+-------+
//	  32 bytes     u32 = CRC-32C of the key

// appendLogsRecord appends the table record of the log of key pub.
func appendLogsRecord(dst []byte, pub ed25519.PublicKey) []byte {
	dst = append(dst, pub...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(pub, castagnoli))
}

// decodeLogsRecord decodes a table record; ok is false if it fails its
// CRC (a hole).
func decodeLogsRecord(b []byte) (ed25519.PublicKey, bool) {
	if len(b) < logsRecordSize || crc32.Checksum(b[:32], castagnoli) != binary.LittleEndian.Uint32(b[32:]) {
		return nil, false
	}
	return ed25519.PublicKey(append([]byte(nil), b[:32]...)), true
}

// logCheckpoint is the state file's entry for one log.
type logCheckpoint struct {
	tailBase uint64 // first seq of the tail segment
	segSize  int64  // size of the tail segment
	idxSize  int64  // size of the tail index; 0: not known synced
	head     uint64 // highest seq (a signed record)
	feedHead uint64 // highest head a feed record names for this log
}

// stateHeader is the state file's header.
type stateHeader struct {
	clean   bool   // written by a Close after every commit: the entries are exact
	own     uint32 // ordinal of the own log
	n       uint32 // entries that follow
	gen     uint32 // clean Closes so far: a reader that sees the same generation, clean, sees no change
	feedLen int64  // the feed was durable up to here
}

const (
	stateHeaderSize = 40 // magic, flags u32, own u32, n u32, gen u32, feedLen u64, crc u32, zero u32
	stateEntrySize  = 44 // 5 × u64, crc u32
	maxStateLogs    = 1 << 28

	stateClean = 1 // stateHeader flags bit 0
)

func encodeStateHeader(h stateHeader) [stateHeaderSize]byte {
	var b [stateHeaderSize]byte
	copy(b[:], magicState[:])
	if h.clean {
		binary.LittleEndian.PutUint32(b[8:], stateClean)
	}
	binary.LittleEndian.PutUint32(b[12:], h.own)
	binary.LittleEndian.PutUint32(b[16:], h.n)
	binary.LittleEndian.PutUint32(b[20:], h.gen)
	binary.LittleEndian.PutUint64(b[24:], uint64(h.feedLen))
	binary.LittleEndian.PutUint32(b[32:], crc32.Checksum(b[:32], castagnoli))
	return b
}

func decodeStateHeader(b []byte) (stateHeader, error) {
	if len(b) < stateHeaderSize {
		return stateHeader{}, fmt.Errorf("%w: %d bytes", errBadHeader, len(b))
	}
	if [8]byte(b[:8]) != magicState {
		return stateHeader{}, fmt.Errorf("%w: magic %q, want %q", errBadHeader, b[:8], magicState[:])
	}
	if got, want := crc32.Checksum(b[:32], castagnoli), binary.LittleEndian.Uint32(b[32:]); got != want {
		return stateHeader{}, fmt.Errorf("%w: stored %08x, computed %08x", errCRC, want, got)
	}
	flags := binary.LittleEndian.Uint32(b[8:])
	h := stateHeader{
		clean:   flags&stateClean != 0,
		own:     binary.LittleEndian.Uint32(b[12:]),
		n:       binary.LittleEndian.Uint32(b[16:]),
		gen:     binary.LittleEndian.Uint32(b[20:]),
		feedLen: int64(binary.LittleEndian.Uint64(b[24:])),
	}
	if flags&^stateClean != 0 || h.n > maxStateLogs || h.feedLen < 0 || binary.LittleEndian.Uint32(b[36:]) != 0 {
		return stateHeader{}, fmt.Errorf("%w: flags %x, %d logs, feed length %d", errLength, flags, h.n, h.feedLen)
	}
	return h, nil
}

// stateEntryOffset is where the entry of ordinal ord starts.
func stateEntryOffset(ord uint32) int64 {
	return stateHeaderSize + int64(ord)*stateEntrySize
}

func appendStateEntry(dst []byte, e logCheckpoint) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, e.tailBase)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.segSize))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.idxSize))
	dst = binary.LittleEndian.AppendUint64(dst, e.head)
	dst = binary.LittleEndian.AppendUint64(dst, e.feedHead)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodeStateEntry decodes one entry; ok is false if it fails its CRC
// or its fields are out of range.
func decodeStateEntry(b []byte) (logCheckpoint, bool) {
	if len(b) < stateEntrySize || crc32.Checksum(b[:40], castagnoli) != binary.LittleEndian.Uint32(b[40:]) {
		return logCheckpoint{}, false
	}
	e := logCheckpoint{
		tailBase: binary.LittleEndian.Uint64(b),
		segSize:  int64(binary.LittleEndian.Uint64(b[8:])),
		idxSize:  int64(binary.LittleEndian.Uint64(b[16:])),
		head:     binary.LittleEndian.Uint64(b[24:]),
		feedHead: binary.LittleEndian.Uint64(b[32:]),
	}
	if e.tailBase == 0 || e.segSize < fileHeaderSize || e.idxSize < 0 || e.head+1 < e.tailBase {
		return logCheckpoint{}, false
	}
	return e, true
}
