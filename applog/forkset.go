package applog

// This file keeps the forked logs (forkSet): their fork seqs in memory
// and their proofs in the forks file.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// forkSet is the forked logs of a DB: their fork seqs in memory, their
// proofs in DIR/forks, read when needed. The forks file is a 16-byte
// header (magic "SCTLFKS" 0x01, zeros), then records
//
//	len u32 ‖ crc u32 (CRC-32C of the proof) ‖ proof (len bytes)
//
// appended and fdatasynced by the writer when it marks a log forked.
// A record that is torn or fails its CRC ends the file (a writer cuts
// it): it was never acknowledged.
type forkSet struct {
	mu   sync.Mutex
	f    *os.File // writer: open for appending; nil until needed
	size int64
	logs map[ID]forkMark

	fs       fileSystem
	dir      string // the database's directory, which holds the forks file
	readOnly bool
	log      *slog.Logger
}

type forkMark struct {
	seq uint64
	off int64 // of the proof in the forks file
	n   int
}

// load reads DIR/forks, if any. A writer cuts a damaged tail.
func (s *forkSet) load() error {
	s.logs = make(map[ID]forkMark)
	path := filepath.Join(s.dir, fileForks)
	flag := os.O_RDWR
	if s.readOnly {
		flag = os.O_RDONLY
	}
	f, err := s.fs.openFile(path, flag, 0)
	if isNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("applog: %s: %w", path, err)
	}
	end := s.readRecords(b)
	if s.readOnly {
		return f.Close()
	}
	if end < len(b) {
		s.log.Warn("forks file: cutting a damaged tail", "file", path, "offset", end, "size", len(b))
		if end == 0 {
			h := fileHeader(magicForks, 0)
			if _, err := s.fs.writeAt(f, h[:], 0); err != nil {
				f.Close()
				return fmt.Errorf("applog: write %s: %w", path, err)
			}
			end = fileHeaderSize
		}
		if err := s.fs.truncate(f, int64(end)); err != nil {
			f.Close()
			return fmt.Errorf("applog: cut %s: %w", path, err)
		}
	}
	s.f, s.size = f, int64(end)
	return nil
}

// readRecords marks the logs whose proofs the forks file b holds, and
// returns the offset after its last good record (0 if its header is
// bad).
func (s *forkSet) readRecords(b []byte) int {
	if len(b) < fileHeaderSize || !bytes.Equal(b[:8], magicForks[:]) {
		return 0
	}
	end := fileHeaderSize
	for len(b)-end >= 8 {
		n := int(binary.LittleEndian.Uint32(b[end:]))
		crc := binary.LittleEndian.Uint32(b[end+4:])
		if n > MaxProofSize || len(b)-end-8 < n {
			break
		}
		p := b[end+8 : end+8+n]
		if crc32.Checksum(p, castagnoli) != crc {
			break
		}
		if fk, err := CheckForkProof(p); err == nil {
			if _, dup := s.logs[fk.Log]; !dup {
				s.logs[fk.Log] = forkMark{seq: fk.Seq, off: int64(end + 8), n: n}
			}
		}
		end += 8 + n
	}
	return end
}

// close closes the forks file.
func (s *forkSet) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// mark durably records proof p of fork fk, unless the log is marked
// already, and reports whether it was new.
func (s *forkSet) mark(fk Fork, p []byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.logs[fk.Log]; ok {
		return false, nil
	}
	if len(p) > MaxProofSize {
		// Only entries near MaxEntrySize make a proof this large: the
		// log is frozen for this session only, and no peer is sent it.
		s.log.Warn("fork proof too large to keep", "log", fk.Log, "seq", fk.Seq, "bytes", len(p))
		s.logs[fk.Log] = forkMark{seq: fk.Seq, off: -1}
		return true, nil
	}
	if s.f == nil {
		if err := s.create(); err != nil {
			return false, err
		}
	}
	rec := binary.LittleEndian.AppendUint32(nil, uint32(len(p)))
	rec = binary.LittleEndian.AppendUint32(rec, crc32.Checksum(p, castagnoli))
	rec = append(rec, p...)
	if _, err := s.fs.writeAt(s.f, rec, s.size); err != nil {
		return false, fmt.Errorf("applog: write %s: %w", fileForks, err)
	}
	if err := s.fs.sync(s.f); err != nil {
		return false, err
	}
	s.logs[fk.Log] = forkMark{seq: fk.Seq, off: s.size + 8, n: len(p)}
	s.size += int64(len(rec))
	s.log.Warn("log forked: two different signed records at one seq; frozen", "log", fk.Log, "seq", fk.Seq)
	return true, nil
}

// create makes the forks file with its header, durably. Caller holds
// s.mu.
func (s *forkSet) create() error {
	path := filepath.Join(s.dir, fileForks)
	f, err := s.fs.openFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	h := fileHeader(magicForks, 0)
	if _, err := s.fs.writeAt(f, h[:], 0); err != nil {
		f.Close()
		return fmt.Errorf("applog: write %s: %w", path, err)
	}
	if err := syncAll(s.fs, []*os.File{f}, []string{s.dir}); err != nil {
		f.Close()
		return err
	}
	s.f, s.size = f, fileHeaderSize
	return nil
}

// seq returns the seq at which log id is forked, 0 if it is not known
// to be.
func (s *forkSet) seq(id ID) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs[id].seq
}

// list returns the forked logs, sorted by id.
func (s *forkSet) list() []Fork {
	s.mu.Lock()
	out := make([]Fork, 0, len(s.logs))
	for id, m := range s.logs {
		out = append(out, Fork{Log: id, Seq: m.seq})
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Fork) int { return cmpID(a.Log, b.Log) })
	return out
}

// proof reads the proof that log id is forked from the forks file.
func (s *forkSet) proof(id ID) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.logs[id]
	if !ok || m.off < 0 {
		return nil, fmt.Errorf("%w: log %s is not forked", ErrNotFound, id.Short())
	}
	f := s.f
	if f == nil {
		var err error
		if f, err = s.fs.openFile(filepath.Join(s.dir, fileForks), os.O_RDONLY, 0); err != nil {
			return nil, fmt.Errorf("applog: %w", err)
		}
		defer f.Close()
	}
	p := make([]byte, m.n)
	if _, err := readAt(s.fs, f, p, m.off); err != nil {
		return nil, fmt.Errorf("applog: fork proof of %s: %w", id.Short(), err)
	}
	return p, nil
}
