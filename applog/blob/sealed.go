package blob

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"scuttle/applog/internal/osfile"
)

// Sealed files: the files shared in a private room or with a person.
// Their blocks are relayed by every peer, like any file's, so they are
// encrypted before they enter the store, with a key that travels only
// inside the sealed log entry that names the file (Entry.Key). See
// doc.go, "Sealed files".

// KeySize is the length of a sealed file's key: AES-256.
const KeySize = 32

// sealOverhead is what sealing adds to each block: the AES-GCM tag.
const sealOverhead = 16

// sealChunk is the plaintext sealed into one block: so each block of
// ciphertext but the last is exactly BlockSize bytes, and the store cuts
// a sealed file where it was sealed.
const sealChunk = BlockSize - sealOverhead

// MaxSealedSize is the largest file that can be sealed: its ciphertext,
// MaxBlocks blocks, is MaxSize.
const MaxSealedSize = MaxSize - MaxBlocks*sealOverhead

// sealedSize returns the size of the ciphertext of a plaintext of n
// bytes: a tag per chunk of sealChunk bytes, and at least one chunk.
func sealedSize(n int64) int64 {
	return n + max(1, blocksFor(n, sealChunk))*sealOverhead
}

// newAEAD returns AES-256-GCM with key.
func newAEAD(key *[KeySize]byte) cipher.AEAD {
	b, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key never fails
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return a
}

// sealNonce returns the nonce of block i: i as a 96-bit big-endian
// integer. A key seals one file, so no nonce repeats under a key.
func sealNonce(nonce *[12]byte, i int) []byte {
	binary.BigEndian.PutUint64(nonce[4:], uint64(i))
	return nonce[:]
}

// sealAAD returns the additional data of a block: sealedMagic and 1 for
// the last block, 0 for the others, so that a file cut short at a block
// boundary does not open (the STREAM construction of Hoang, Reyhanitabar,
// Rogaway and Vizár).
func sealAAD(aad *[len(sealedMagic) + 1]byte, last bool) []byte {
	copy(aad[:], sealedMagic)
	aad[len(sealedMagic)] = 0
	if last {
		aad[len(sealedMagic)] = 1
	}
	return aad[:]
}

// sealCopy seals what r holds with key and writes it to w, a chunk at a
// time (two buffers of a block), and returns the manifest of the
// ciphertext. It reads one byte ahead to know which chunk is the last.
func sealCopy(w io.Writer, r io.Reader, key *[KeySize]byte) (*Manifest, error) {
	aead := newAEAD(key)
	pt := make([]byte, sealChunk+1)
	ct := make([]byte, 0, BlockSize)
	h := hashing{bs: BlockSize}
	var nonce [12]byte
	var aad [len(sealedMagic) + 1]byte
	n, err := io.ReadFull(r, pt)
	for i := 0; ; i++ {
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, err
		}
		if i == MaxBlocks {
			return nil, fmt.Errorf("%w: more than %d bytes to seal", ErrTooLarge, int64(MaxSealedSize))
		}
		last := n <= sealChunk
		ct = aead.Seal(ct[:0], sealNonce(&nonce, i), pt[:min(n, sealChunk)], sealAAD(&aad, last))
		h.block(ct)
		if _, err := w.Write(ct); err != nil {
			return nil, err
		}
		if last {
			return newManifest(h.size, h.hashes, true), nil
		}
		pt[0] = pt[sealChunk]
		n, err = io.ReadFull(r, pt[1:])
		n++
	}
}

// opener opens a sealed file's ciphertext a block at a time, reading
// one byte ahead to know which block is the last (a buffer of a block
// and one of a chunk).
type opener struct {
	r     io.Reader
	aead  cipher.AEAD
	ct    []byte // BlockSize+1: a block and the next byte
	n     int    // bytes in ct
	pt    []byte
	i     int // the next block
	err   error
	nonce [12]byte
	aad   [len(sealedMagic) + 1]byte
}

func newOpener(r io.Reader, key *[KeySize]byte) *opener {
	return &opener{r: r, aead: newAEAD(key), ct: make([]byte, BlockSize+1), pt: make([]byte, 0, sealChunk)}
}

// next returns the ciphertext and the plaintext of the next block, valid
// until the next call, and whether it is the last; it is not to be
// called after the last. A block that does not open (changed, moved, the
// wrong key), or a file cut short or run long, is an error matching
// ErrBadBlock.
func (o *opener) next() (ct, pt []byte, last bool, err error) {
	if o.i == 0 {
		o.n, o.err = io.ReadFull(o.r, o.ct)
	} else {
		o.ct[0] = o.ct[BlockSize]
		o.n, o.err = io.ReadFull(o.r, o.ct[1:])
		o.n++
	}
	if o.err != nil && o.err != io.EOF && o.err != io.ErrUnexpectedEOF {
		return nil, nil, false, o.err
	}
	if o.i == MaxBlocks {
		return nil, nil, false, fmt.Errorf("%w: a sealed file of more than %d blocks", ErrBadBlock, MaxBlocks)
	}
	last = o.n <= BlockSize
	ct = o.ct[:min(o.n, BlockSize)]
	pt, err = o.aead.Open(o.pt[:0], sealNonce(&o.nonce, o.i), ct, sealAAD(&o.aad, last))
	if err != nil {
		return nil, nil, false, fmt.Errorf("%w: block %d of a sealed file does not open with its key: tampered with, cut short or the wrong key", ErrBadBlock, o.i)
	}
	o.i++
	return ct, pt, last, nil
}

// CopySealed copies the sealed file r holds (its ciphertext, as the
// store holds it) to w, opened with key, a block at a time (two buffers
// of a block), and returns the manifest of the ciphertext, whose id the
// caller compares with the one asked for, as after Copy. A block that
// does not open (tampered with, or the wrong key), or a file cut short
// or run long, fails with an error matching ErrBadBlock; what was
// written before it is the plaintext of the blocks before it, each
// authenticated.
func CopySealed(w io.Writer, r io.Reader, key [KeySize]byte) (*Manifest, error) {
	o := newOpener(r, &key)
	h := hashing{bs: BlockSize}
	for {
		ct, pt, last, err := o.next()
		if err != nil {
			return nil, err
		}
		h.block(ct)
		if _, err := w.Write(pt); err != nil {
			return nil, err
		}
		if last {
			return newManifest(h.size, h.hashes, true), nil
		}
	}
}

// OpenSealed opens the complete sealed file id for reading its content
// with key (Key returns the one the store keeps): the reader opens a
// block at a time (two buffers of a block), and fails with an error
// matching ErrBadBlock at a block that does not open; it never returns
// a byte of a block that did not. A file whose blocks are not all here
// fails with ErrIncomplete, as Open.
func (s *Store) OpenSealed(id ID, key [KeySize]byte) (io.ReadCloser, error) {
	f, err := s.Open(id)
	if err != nil {
		return nil, err
	}
	return &sealedReader{f: f, o: newOpener(f, &key)}, nil
}

// sealedReader is what OpenSealed returns.
type sealedReader struct {
	f   *os.File
	o   *opener
	pt  []byte // what is left of the last block opened
	err error  // once set, what Read returns when pt is empty: io.EOF after the last block
}

func (r *sealedReader) Read(p []byte) (int, error) {
	for len(r.pt) == 0 && r.err == nil {
		_, pt, last, err := r.o.next()
		r.pt, r.err = pt, err
		if last {
			r.err = io.EOF
		}
	}
	if len(r.pt) == 0 {
		return 0, r.err
	}
	n := copy(p, r.pt)
	r.pt = r.pt[n:]
	return n, nil
}

func (r *sealedReader) Close() error { return r.f.Close() }

// AddSealed is Add for a file to be sealed: it makes a fresh random key,
// seals the file at path with it as it copies it in (so the store never
// holds its plaintext), keeps the key as id.key (SetKey), and returns
// the id and manifest of the ciphertext and the key, which goes in the
// file's entry (NewSealedEntry), itself sealed. The quota and the floor
// are checked against the ciphertext's size, at most MaxSealedSize bytes
// of file.
func (s *Store) AddSealed(path string) (ID, *Manifest, [KeySize]byte, error) {
	var key [KeySize]byte
	rand.Read(key[:]) // never fails (crypto/rand)
	id, m, err := s.add(path, &key)
	if err != nil {
		return ID{}, nil, [KeySize]byte{}, err
	}
	return id, m, key, nil
}

// SetKey keeps key as the key of the sealed file id, as id.key (mode
// 0600, written by temporary file and rename), so that scuttle get can
// open it: the chat calls it when it opens the sealed entry of a file
// the store holds (after Begin). It fails with ErrNotFound if the store
// holds nothing of id. A key already kept is replaced.
func (s *Store) SetKey(id ID, key [KeySize]byte) error {
	if _, err := os.Lstat(s.path(id, manifestExt)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if k, ok, err := s.Key(id); err == nil && ok && k == key {
		return nil
	}
	return s.writeSmall(s.path(id, keyExt), key[:])
}

// Key returns the key kept for the sealed file id, and whether there is
// one.
func (s *Store) Key(id ID) ([KeySize]byte, bool, error) {
	b, err := readSmall(s.path(id, keyExt), KeySize)
	if errors.Is(err, fs.ErrNotExist) {
		return [KeySize]byte{}, false, nil
	}
	if err == nil && len(b) != KeySize {
		err = fmt.Errorf("%d bytes, want %d", len(b), KeySize)
	}
	if err != nil {
		return [KeySize]byte{}, false, fmt.Errorf("blob: the key of %s: %w", id, err)
	}
	return [KeySize]byte(b), true, nil
}

// writeSmall replaces the file at p with b: a temporary file in the
// store (mode 0600), synced, renamed over p (never through a symbolic
// link at p), and the directory synced.
func (s *Store) writeSmall(p string, b []byte) error {
	tmp, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = osfile.Fdatasync(tmp)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = osfile.Rename(tmp.Name(), p)
	}
	if err == nil {
		err = osfile.SyncDir(s.dir)
	}
	if err != nil {
		return fmt.Errorf("blob: writing %s: %w", p, err)
	}
	return nil
}
