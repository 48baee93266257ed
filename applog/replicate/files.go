package replicate

import (
	"encoding/binary"
	"fmt"

	"scuttle/applog/blob"
)

// Blobs is what a session serves of the files its side holds. *blob.Store
// is one; a caller that serves only some files (those whose entries it
// holds, of authors it has not blocked) wraps it.
//
// A session calls Manifest once for a file and keeps the manifest while
// it serves that file's blocks: a Blobs that stops serving a file must
// also refuse ReadBlock of it.
type Blobs interface {
	// Manifest returns the manifest of file id if this side serves it; an
	// error otherwise.
	Manifest(id blob.ID) (*blob.Manifest, error)
	// ReadBlock returns block i of the file whose manifest is m, verified
	// against its hash, in buf (len >= blob.BlockSize); an error if not
	// held.
	ReadBlock(m *blob.Manifest, i int, buf []byte) ([]byte, error)
}

// queueGet queues a get frame from the peer, to be answered by the
// sender; more than maxRequests unanswered is a protocol violation.
func (c *session) queueGet(p part) error {
	c.mu.Lock()
	if len(c.gets) >= maxRequests {
		c.mu.Unlock()
		return fmt.Errorf("%w: more than %d file requests outstanding", ErrProtocol, maxRequests)
	}
	c.gets = append(c.gets, p)
	c.mu.Unlock()
	select {
	case c.getReady <- struct{}{}:
	default:
	}
	return nil
}

// server is the serving state of a session's sender: one block buffer
// and the manifest of the file served last, so that serving its blocks
// does not read and hash the manifest each time.
type server struct {
	block []byte
	id    blob.ID
	m     *blob.Manifest
	hdr   []byte
}

// manifest returns the manifest of file id if this side serves it, nil
// otherwise.
func (s *sender) manifest(id blob.ID) *blob.Manifest {
	sv := &s.srv
	if sv.m != nil && sv.id == id {
		return sv.m
	}
	if s.c.blobs == nil {
		return nil
	}
	m, err := s.c.blobs.Manifest(id)
	if err != nil {
		s.c.log.Debug("file not served", "file", id, "err", err)
		return nil
	}
	sv.id, sv.m = id, m
	return m
}

// serveOne answers the oldest get frame the peer sent, if any, and
// reports whether it did: with the part asked for, or "not here".
func (s *sender) serveOne() (bool, error) {
	c := s.c
	c.mu.Lock()
	if len(c.gets) == 0 {
		c.mu.Unlock()
		return false, nil
	}
	p := c.gets[0]
	c.mu.Unlock()

	err := s.answer(p)

	c.mu.Lock()
	c.gets = append(c.gets[:0], c.gets[1:]...)
	c.mu.Unlock()
	return true, err
}

// answer writes the reply to a get of p.
func (s *sender) answer(p part) error {
	m := s.manifest(p.ID)
	if m == nil || !p.valid() {
		return s.none(p, noneFile)
	}
	if p.Kind == partManifest {
		enc, _ := m.MarshalBinary()
		start := p.Index * blob.BlockSize
		if start >= uint64(len(enc)) {
			return s.none(p, nonePart)
		}
		return s.data(p, uint64(len(enc)), enc[start:min(uint64(len(enc)), start+blob.BlockSize)])
	}
	if p.Index >= uint64(m.Blocks()) {
		return s.none(p, nonePart)
	}
	if s.srv.block == nil {
		s.srv.block = make([]byte, blob.BlockSize)
	}
	b, err := s.c.blobs.ReadBlock(m, int(p.Index), s.srv.block)
	if err != nil {
		s.c.log.Debug("block not served", "file", p.ID, "block", p.Index, "err", err)
		return s.none(p, nonePart)
	}
	return s.data(p, 0, b)
}

// none writes a none frame: part p is not here, for reason why.
func (s *sender) none(p part, why byte) error {
	s.payload = append(appendPart(s.payload[:0], p), why)
	return s.frame(frameNone)
}

// data writes a data frame of part p: total is the manifest's length
// (manifest parts only), b the part's bytes, written from where they
// are rather than copied into the payload.
func (s *sender) data(p part, total uint64, b []byte) error {
	s.payload = appendPart(s.payload[:0], p)
	if p.Kind == partManifest {
		s.payload = binary.AppendUvarint(s.payload, total)
	}
	s.srv.hdr = appendFrameHeader(s.srv.hdr[:0], frameData, len(s.payload)+len(b))
	for _, w := range [][]byte{s.srv.hdr, s.payload, b} {
		if _, err := s.w.Write(w); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	return nil
}
