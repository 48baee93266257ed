package blob

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The block size, and the bounds that follow from it; doc.go says why
// this size.
const (
	// BlockSize is the size of every block but a file's last, which
	// holds the rest (1 to BlockSize bytes).
	BlockSize = 256 << 10
	// MaxBlocks bounds the blocks of a file, and so its manifest
	// (MaxBlocks×32 bytes, 2 MiB) and its bitmap of held blocks.
	MaxBlocks = 1 << 16
	// MaxSize is the largest file the store holds: 16 GiB.
	MaxSize = MaxBlocks * BlockSize
)

// manifestMagic opens every manifest, and so every hash that makes an id:
// the domain-separation prefix, which no SHA-256 of anything else
// scuttle hashes starts with.
const manifestMagic = "scuttle blob v1\n"

// sealedMagic opens the manifest of a sealed file (see sealed.go): its
// blocks are AES-256-GCM ciphertext. It has the length of manifestMagic,
// and the id hashes it, so whether a file is sealed is part of its id.
const sealedMagic = "scuttle blob s1\n"

// headerLen is the length of a manifest before its hashes: the magic,
// the size (u64) and the block size (u32).
const headerLen = len(manifestMagic) + 8 + 4

// ErrBadManifest is matched by the error of ParseManifest for bytes that
// are not a manifest of this version.
var ErrBadManifest = errors.New("blob: bad manifest")

// A Manifest is what identifies a file: its size and the SHA-256 of each
// of its blocks. Its encoding (see doc.go) is what the id hashes, so a
// manifest received from anyone is checked against the id it was asked
// for by hashing it (Check).
type Manifest struct {
	size   int64
	hashes []byte // 32 bytes a block
	sealed bool   // the blocks are a sealed file's ciphertext (sealedMagic)
	id     ID     // the SHA-256 of the encoding, hashed once (newManifest)
}

// newManifest returns the manifest of a file of size bytes whose blocks
// hash to hashes, its id hashed once: a manifest is never changed, and
// its id is asked for each block served or written, which would
// otherwise hash the whole encoding (32 bytes a block of the file) each
// time.
func newManifest(size int64, hashes []byte, sealed bool) *Manifest {
	m := &Manifest{size: size, hashes: hashes, sealed: sealed}
	h := sha256.New()
	m.writeTo(h, BlockSize)
	m.id = ID(h.Sum(nil))
	return m
}

// Sealed reports whether the manifest is of a sealed file: its blocks
// are ciphertext, read with the file's key (CopySealed).
func (m *Manifest) Sealed() bool { return m.sealed }

// PlainSize returns the size of the file's content: Size for a file
// that is not sealed, else Size less the 16-byte tag of each block.
func (m *Manifest) PlainSize() int64 {
	if !m.sealed {
		return m.size
	}
	return m.size - int64(m.Blocks())*sealOverhead
}

// Size returns the file's size in bytes.
func (m *Manifest) Size() int64 { return m.size }

// Blocks returns the number of blocks: the size divided by BlockSize,
// rounded up; 0 for an empty file.
func (m *Manifest) Blocks() int { return len(m.hashes) / sha256.Size }

// Hash returns the SHA-256 of block i.
func (m *Manifest) Hash(i int) [sha256.Size]byte {
	return [sha256.Size]byte(m.hashes[i*sha256.Size:])
}

// BlockLen returns the length of block i: BlockSize, or less for the
// last block.
func (m *Manifest) BlockLen(i int) int {
	if i == m.Blocks()-1 {
		return int(m.size - int64(i)*BlockSize)
	}
	return BlockSize
}

// ID returns the file's content id: the SHA-256 of the manifest's
// encoding.
func (m *Manifest) ID() ID { return m.id }

// AppendBinary appends the manifest's encoding (see doc.go) to b.
func (m *Manifest) AppendBinary(b []byte) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	m.writeTo(buf, BlockSize)
	return buf.Bytes(), nil
}

// MarshalBinary returns the manifest's encoding.
func (m *Manifest) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, headerLen+len(m.hashes)))
}

// writeTo writes the encoding of a manifest of blocks of bs bytes.
func (m *Manifest) writeTo(w io.Writer, bs int) {
	var hdr [headerLen]byte
	copy(hdr[:], manifestMagic)
	if m.sealed {
		copy(hdr[:], sealedMagic)
	}
	binary.LittleEndian.PutUint64(hdr[len(manifestMagic):], uint64(m.size))
	binary.LittleEndian.PutUint32(hdr[len(manifestMagic)+8:], uint32(bs))
	w.Write(hdr[:])
	w.Write(m.hashes)
}

// blocksFor returns the number of blocks of bs bytes in size bytes.
func blocksFor(size int64, bs int) int64 { return (size + int64(bs) - 1) / int64(bs) }

// ParseManifest parses a manifest's encoding, from anyone: it checks the
// magic (of a plain or a sealed file), that the block size is
// BlockSize, that the size is at most MaxSize, and that exactly one hash
// per block follows, before it allocates anything; a sealed file has at
// least one block and each block holds at least its 16-byte tag. It does
// not check what the hashes are: Check compares the manifest with the id
// it was asked for.
func ParseManifest(b []byte) (*Manifest, error) {
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: no header (%d bytes)", ErrBadManifest, len(b))
	}
	var sealed bool
	switch string(b[:len(manifestMagic)]) {
	case manifestMagic:
	case sealedMagic:
		sealed = true
	default:
		return nil, fmt.Errorf("%w: no header (%d bytes)", ErrBadManifest, len(b))
	}
	size := binary.LittleEndian.Uint64(b[len(manifestMagic):])
	bs := binary.LittleEndian.Uint32(b[len(manifestMagic)+8:])
	if bs != BlockSize {
		return nil, fmt.Errorf("%w: block size %d, want %d", ErrBadManifest, bs, BlockSize)
	}
	if size > MaxSize {
		return nil, fmt.Errorf("%w: size %d beyond the limit of %d", ErrBadManifest, size, int64(MaxSize))
	}
	n := blocksFor(int64(size), BlockSize)
	if got := int64(len(b) - headerLen); got != n*sha256.Size {
		return nil, fmt.Errorf("%w: %d bytes of hashes for %d blocks of a %d-byte file, want %d", ErrBadManifest, got, n, size, n*sha256.Size)
	}
	if sealed && (n == 0 || int64(size)-(n-1)*BlockSize < sealOverhead) {
		return nil, fmt.Errorf("%w: a sealed file of %d bytes: its last block holds no tag", ErrBadManifest, size)
	}
	return newManifest(int64(size), bytes.Clone(b[headerLen:]), sealed), nil
}

// ErrWrongManifest is matched by the error of Check for a manifest that
// is not the one of the id.
var ErrWrongManifest = errors.New("blob: manifest does not match the id")

// Check returns an error unless m is the manifest of id.
func (m *Manifest) Check(id ID) error {
	if got := m.ID(); got != id {
		return fmt.Errorf("%w: %s hashes to %s", ErrWrongManifest, id, got)
	}
	return nil
}

// hashing computes a manifest block by block, for files read or written
// in order: Add, Hash and the benchmarks.
type hashing struct {
	bs     int
	size   int64
	hashes []byte
}

// block adds the next block, which must be full unless it is the last.
func (h *hashing) block(p []byte) {
	sum := sha256.Sum256(p)
	h.hashes = append(h.hashes, sum[:]...)
	h.size += int64(len(p))
}

// copyHashing copies r to w (if not nil) a block at a time through buf,
// of the block size, and returns the manifest of what it read; it fails
// once the content passes max bytes.
func copyHashing(w io.Writer, r io.Reader, buf []byte, max int64) (*Manifest, error) {
	h := hashing{bs: len(buf)}
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if h.size+int64(n) > max {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
			}
			h.block(buf[:n])
			if w != nil {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return nil, werr
				}
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return newManifest(h.size, h.hashes, false), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Hash returns the manifest of the content r holds, read to its end a
// block at a time (one buffer of BlockSize bytes): what Add computes,
// for a file that is not to be stored.
func Hash(r io.Reader) (*Manifest, error) {
	return copyHashing(nil, r, make([]byte, BlockSize), MaxSize)
}

// Copy copies the content r holds to w, a block at a time (one buffer of
// BlockSize bytes), and returns its manifest: scuttle get hashes what it
// writes out, so that a file damaged in the store is caught.
func Copy(w io.Writer, r io.Reader) (*Manifest, error) {
	return copyHashing(w, r, make([]byte, BlockSize), MaxSize)
}
