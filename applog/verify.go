package applog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Verify checks every record of every log: segment and index headers,
// framing and CRC, seqs without gaps (also across segment names), the
// hash chain, every signature, the run limits, that sealed segments and
// the head end with a signed record, and that each index entry points at
// its record. It calls report for each problem found (a *CorruptError,
// at most one per log: a log's check stops at its first problem, since
// the chain cannot be followed past it), and then for each damage to a
// derived file that this DB found and repaired or read around since it
// was opened, or that Verify finds reading the feed and the state file
// (an error matching ErrRepaired: a damaged log table record
// and the log found from its directory, a damaged feed record or state
// entry, an index entry that does not lead to its record). It returns a
// non-nil error only if it could not run.
func (db *DB) Verify(report func(error)) error {
	if err := db.errIfClosed(); err != nil {
		return err
	}
	db.refreshTable()
	v := verifier{fs: db.fs, dir: db.dir, st: &db.st, repairs: &db.repairs}
	for ord := range uint32(db.tab.len()) {
		l, err := db.logAt(ord)
		if err != nil {
			return err
		}
		if l == nil {
			continue // a hole that no log directory fills (see findLost): it held no entry
		}
		db.lo.refresh(l)
		if err := v.log(l); err != nil {
			var c *CorruptError
			if !errors.As(err, &c) {
				return err
			}
			report(err)
		}
	}
	if err := v.derived(); err != nil {
		return err
	}
	for _, n := range db.repairs.list() {
		report(fmt.Errorf("%w: %s", ErrRepaired, n))
	}
	return nil
}

// verifier is what Verify reads the files with: every log's segments and
// indexes, and the derived files (feed, state), noting damage in
// repairs.
type verifier struct {
	fs      fileSystem
	dir     string // the database's directory
	st      *stateFile
	repairs *repairLog
}

// derived reads the feed and the state entries for damage that this DB
// has not met yet (a feed skips a damaged record, a damaged state entry
// costs its log a scan of its tail), so that Verify reports it as
// repaired.
func (v verifier) derived() error {
	f, err := v.fs.openFile(filepath.Join(v.dir, fileFeed), os.O_RDONLY, 0)
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return fmt.Errorf("applog: verify: %w", err)
	}
	defer f.Close()
	var h [fileHeaderSize]byte
	if n, _ := readFull(v.fs, f, h[:], 0); n == fileHeaderSize {
		if err := checkFileHeader(h[:], magicFeed, 0); err != nil {
			v.repairs.note("feed header is damaged (%v): readers read past it, a writer makes a new feed from the logs' heads", err)
		}
	}
	buf := make([]byte, 64<<10)
	off := int64(fileHeaderSize)
	for {
		n, err := readFull(v.fs, f, buf, off)
		n -= n % feedRecordSize
		for i := 0; i < n; i += feedRecordSize {
			_, ok := decodeFeedRecord(buf[i:])
			if !ok && (i+feedRecordSize < n || err == nil) { // the last may be in progress
				v.repairs.note("feed record at offset %d is damaged: skipped, its entries come from a later record or the logs' heads", off+int64(i))
			}
		}
		off += int64(n)
		if err != nil || n == 0 {
			break
		}
	}
	for i, e := range v.st.readRaw() {
		if e != nil && !isZero(e) {
			if _, ok := decodeStateEntry(e); !ok {
				v.repairs.note("state entry %d is damaged: the log's tail is scanned", i)
			}
		}
	}
	return nil
}

// repairLog keeps what a DB found damaged in derived files and repaired
// or read around, for Verify; at most maxRepairNotes notes, then a
// count of the rest.
type repairLog struct {
	mu    sync.Mutex
	notes []string
	seen  map[string]bool
	more  int

	log *slog.Logger // where each note is logged too
}

// maxRepairNotes bounds the notes a repairLog keeps.
const maxRepairNotes = 100

// note records (and logs) damage found in a derived file and what was
// done about it; the same note is kept once.
func (r *repairLog) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[msg] {
		return
	}
	r.log.Warn("applog: " + msg)
	if len(r.notes) >= maxRepairNotes {
		r.more++
		return
	}
	if r.seen == nil {
		r.seen = make(map[string]bool)
	}
	r.seen[msg] = true
	r.notes = append(r.notes, msg)
}

// list returns the notes kept.
func (r *repairLog) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.notes)
	if r.more > 0 {
		out = append(out, fmt.Sprintf("and %d more repairs", r.more))
	}
	return out
}

// log checks the records of log l up to its head, segment by segment,
// and returns the first problem (a *CorruptError), or an error if it
// could not look.
func (v verifier) log(l *logState) error {
	head := l.head.Load()
	if c := l.broken.Load(); c != nil {
		return c
	}
	segs, err := listSegments(l.dir)
	if err != nil && !isNotExist(err) {
		return fmt.Errorf("applog: %w", err)
	}
	ch := chainCheck{pub: l.pub, seq: 1}
	var buf []byte
	for i, s := range segs {
		if ch.seq > head {
			break
		}
		if s.base != ch.seq {
			return l.corrupt(ch.seq, s.seg, 0, fmt.Errorf("segment starts at seq %d", s.base))
		}
		sealed := i+1 < len(segs) && segs[i+1].base <= head
		if err := verifySegment(v.fs, l, s, sealed, head, &ch, &buf); err != nil {
			return err
		}
	}
	if ch.seq <= head {
		return l.corrupt(ch.seq, l.dir, 0, fmt.Errorf("records %d..%d missing", ch.seq, head))
	}
	if head > 0 && ch.lastSig != head {
		return l.corrupt(head, l.dir, 0, errors.New("head record is not signed"))
	}
	return nil
}

// chainCheck follows one log's records in seq order: each must chain to
// the one before, and no run of unsigned records may exceed the limits.
type chainCheck struct {
	pub      ed25519.PublicKey
	seq      uint64 // the next seq expected
	prev     [hashSize]byte
	lastSig  uint64 // the last signed seq
	runN     int    // records since the last signed one
	runBytes int
}

// link checks that r, the record after the last one checked, chains to
// it.
func (c *chainCheck) link(r *record) error {
	if !bytes.Equal(r.prev, c.prev[:]) {
		return errors.New("hash chain broken: previous hash differs")
	}
	return nil
}

// advance moves past r, which link accepted: it checks the run limits and
// r's signature, if r is signed.
func (c *chainCheck) advance(r *record) error {
	c.prev = r.hash()
	c.runN++
	c.runBytes += len(r.frame)
	if c.runN > MaxSignedRun || c.runBytes > MaxRunBytes {
		return fmt.Errorf("%d records (%d bytes) without a signature", c.runN, c.runBytes)
	}
	if r.signed() {
		if !verifySig(c.pub, r.seq, &c.prev, r.sig) {
			return errors.New("bad signature")
		}
		c.lastSig, c.runN, c.runBytes = r.seq, 0, 0
	}
	c.seq = r.seq + 1
	return nil
}

// verifySegment checks the records of segment s up to head with ch, and
// its index; a sealed segment must also end at a signed record, with no
// bytes after it and an index of exactly its records. buf is the scan's
// reusable buffer.
func verifySegment(fs fileSystem, l *logState, s *segment, sealed bool, head uint64, ch *chainCheck, buf *[]byte) error {
	f, err := fs.openFile(s.seg, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	defer f.Close()
	idx, err := os.ReadFile(s.idx)
	if err != nil {
		return l.corrupt(ch.seq, s.idx, 0, err)
	}
	var hdr [fileHeaderSize]byte
	n, _ := readFull(fs, f, hdr[:], 0)
	if err := checkFileHeader(hdr[:n], magicSegment, s.base); err != nil {
		return l.corrupt(ch.seq, s.seg, 0, err)
	}
	if err := checkFileHeader(idx, magicIndex, s.base); err != nil {
		return l.corrupt(ch.seq, s.idx, 0, err)
	}
	var problem error
	stop, serr := scanFrames(fs, f, fileHeaderSize, s.base, buf, func(r *record, off int64) error {
		if r.seq > head {
			return errStopScan
		}
		if err := ch.link(r); err != nil {
			problem = l.corrupt(r.seq, s.seg, off, err)
			return errStopScan
		}
		ie := indexPos(s.base, r.seq)
		if ie+indexEntrySize > int64(len(idx)) {
			problem = l.corrupt(r.seq, s.idx, ie, errIndexMissing)
			return errStopScan
		}
		if got := int64(binary.LittleEndian.Uint64(idx[ie:])); got != off {
			problem = l.corrupt(r.seq, s.idx, ie, fmt.Errorf("index says offset %d, record is at %d", got, off))
			return errStopScan
		}
		if err := ch.advance(r); err != nil {
			problem = l.corrupt(r.seq, s.seg, off, err)
			return errStopScan
		}
		return nil
	})
	if problem != nil {
		return problem
	}
	if serr != nil && serr != errStopScan {
		if !errors.Is(serr, errShort) && !errors.Is(serr, errLength) && !errors.Is(serr, errCRC) && !errors.Is(serr, errFlags) && !errors.Is(serr, errSeq) && !errors.Is(serr, io.ErrUnexpectedEOF) {
			return fmt.Errorf("applog: verify %s: %w", s.seg, serr)
		}
		if ch.seq <= head {
			return l.corrupt(ch.seq, s.seg, stop, serr)
		}
	}
	if !sealed {
		return nil
	}
	if serr == nil {
		if fi, err := os.Stat(s.seg); err == nil && fi.Size() != stop {
			return l.corrupt(ch.seq, s.seg, stop, errors.New("bytes after the last record of a sealed segment"))
		}
	}
	if ch.lastSig != ch.seq-1 {
		return l.corrupt(ch.seq-1, s.seg, stop, errors.New("sealed segment does not end with a signed record"))
	}
	if want := indexPos(s.base, ch.seq); int64(len(idx)) != want {
		return l.corrupt(ch.seq, s.idx, int64(len(idx)), fmt.Errorf("index of a sealed segment is %d bytes, want %d", len(idx), want))
	}
	return nil
}
