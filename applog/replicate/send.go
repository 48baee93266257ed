package replicate

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"scuttle/applog"
	"scuttle/applog/replicate/ebt"
)

// turnBytes is how many record bytes the sender sends of one log before it
// looks at the others (rounded up to the next signed record), so that one
// long log does not hold back the rest.
const turnBytes = 256 << 10

// sender is the state of the sending half of a session. Its memory is
// bounded: it reads what to send from the store, never from a queue.
type sender struct {
	c       *session
	w       *bufio.Writer
	payload []byte
	hdr     []byte

	// open is a log whose last record sent was not signed: the receiver
	// holds a partial run of it, so it must be continued before any other
	// log is sent. Empty when the receiver holds no partial run.
	open applog.ID

	// iters keeps the iterators of the logs sent last, positioned after
	// the last record sent, so that live records of a busy log cost no new
	// iterator (buffer, file open, index lookup). At most iterCache.
	iters []cachedIter

	srv  server // answering the peer's get frames
	gets []part // the fetcher's requests being written

	enc   ebt.Encoder // notes to the peer (Version 4)
	notes []ebt.Note
}

// iterCache bounds the iterators a sender keeps open.
const iterCache = 4

type cachedIter struct {
	id   applog.ID
	next uint64 // seq the next Next returns
	it   Iterator
}

// iter returns an iterator of log id at seq from: a cached one if it is
// there, else a new one. The caller gives it back with keep.
func (s *sender) iter(id applog.ID, from uint64) Iterator {
	for i, c := range s.iters {
		if c.id != id {
			continue
		}
		s.iters = append(s.iters[:i], s.iters[i+1:]...)
		if c.next == from {
			return c.it
		}
		c.it.Close()
		break
	}
	return s.c.st.Iter(id, from)
}

// keep caches it, positioned at seq next, evicting the least recently used.
func (s *sender) keep(id applog.ID, next uint64, it Iterator) error {
	if it.Err() != nil {
		return it.Close()
	}
	if len(s.iters) == iterCache {
		if err := s.iters[0].it.Close(); err != nil {
			return err
		}
		s.iters = append(s.iters[:0], s.iters[1:]...)
	}
	s.iters = append(s.iters, cachedIter{id: id, next: next, it: it})
	return nil
}

// closeIters closes the cached iterators.
func (s *sender) closeIters() {
	for _, c := range s.iters {
		c.it.Close()
	}
	s.iters = nil
}

// send writes the hello and heads, waits for the peer's heads, then sends
// every record the peer lacks, and then each new one as the store gets it,
// until ctx ends or a write fails.
func (c *session) send(ctx context.Context, w io.Writer) error {
	s := &sender{c: c, w: bufio.NewWriterSize(w, 64<<10)}
	defer s.closeIters()
	s.payload = binary.AppendUvarint(s.payload[:0], c.myVersion())
	if err := s.frame(frameHello); err != nil {
		return err
	}
	if c.tree != nil {
		// The heads are notes if the peer speaks Version 4 too: wait
		// for its hello (it sends it at once too). Without a Tree the
		// version is at most 3 whatever the peer says.
		if err := s.flush(); err != nil {
			return err
		}
		select {
		case <-c.helloDone:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if err := s.sendHeads(); err != nil {
		return err
	}
	select {
	case <-c.headsDone:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	var fetchReady <-chan struct{}
	if c.fp != nil {
		fetchReady = c.fp.ready
	}
	var memberOut <-chan []byte
	if c.version >= 5 {
		memberOut = c.member.Out
	}
	for {
		changed := c.st.Changed()
		noted, err := s.sendNotes()
		if err != nil {
			return err
		}
		files, err := s.files()
		if err != nil {
			return err
		}
		sent, err := s.pass()
		if err != nil {
			return err
		}
		if sent || files || noted {
			continue // more may be ready; flush only once nothing is
		}
		if err := s.flush(); err != nil {
			return err
		}
		select {
		case <-changed:
		case <-c.getReady:
		case <-fetchReady:
		case <-c.notesReady:
		case p := <-memberOut:
			if err := s.member(p); err != nil {
				return err
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// member writes a membership frame of payload p and flushes it: the
// messages are small and their answers awaited.
func (s *sender) member(p []byte) error {
	if len(p) > MaxMembershipSize {
		return fmt.Errorf("membership payload of %d bytes, limit %d", len(p), MaxMembershipSize)
	}
	s.payload = append(s.payload[:0], p...)
	if err := s.frame(frameMember); err != nil {
		return err
	}
	return s.flush()
}

// sendHeads writes the store's heads and the end of heads: at Version 4
// as notes (the tree's first notes to the peer, which its machine owes
// the peer: taken maxQueuedNotes at a time, until none is owed), before
// as heads frames.
func (s *sender) sendHeads() error {
	if s.c.tree != nil && s.c.version >= 4 { // version is set: helloDone was awaited
		for more := true; more; more = s.c.owes() {
			if _, err := s.sendNotes(); err != nil {
				return err
			}
		}
	} else if err := s.sendHeadFrames(); err != nil {
		return err
	}
	s.payload = s.payload[:0]
	if err := s.frame(frameHeadsEnd); err != nil {
		return err
	}
	return s.flush()
}

// sendHeadFrames writes the store's heads as heads frames, sorted by id.
func (s *sender) sendHeadFrames() error {
	heads := s.c.st.Heads()
	ids := make([]applog.ID, 0, len(heads))
	for id, h := range heads {
		if h > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	s.payload = s.payload[:0]
	for _, id := range ids {
		s.payload = appendID(s.payload, id)
		s.payload = binary.AppendUvarint(s.payload, heads[id])
		if len(s.payload) >= frameTarget {
			if err := s.frame(frameHeads); err != nil {
				return err
			}
			s.payload = s.payload[:0]
		}
	}
	if len(s.payload) > 0 {
		return s.frame(frameHeads)
	}
	return nil
}

// frame writes s.payload as a frame of type typ.
func (s *sender) frame(typ byte) error {
	s.hdr = appendFrameHeader(s.hdr[:0], typ, len(s.payload))
	if _, err := s.w.Write(s.hdr); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := s.w.Write(s.payload); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// flush writes out what s.w buffers.
func (s *sender) flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// files writes the fetcher's requests to the peer, if any, and answers
// one of the peer's get frames, if any; it reports whether it wrote
// anything.
func (s *sender) files() (bool, error) {
	wrote := false
	if fp := s.c.fp; fp != nil {
		s.gets = s.c.fetcher.take(fp, s.gets[:0])
		for _, p := range s.gets {
			s.payload = appendPart(s.payload[:0], p)
			if err := s.frame(frameGet); err != nil {
				return wrote, err
			}
			wrote = true
		}
		if wrote {
			// Requests are small and the peer waits for them.
			if err := s.flush(); err != nil {
				return wrote, err
			}
		}
	}
	served, err := s.serveOne()
	return wrote || served, err
}

// pass sends, for each log the peer lacks records of, up to turnBytes of
// them, and reports whether it sent anything.
func (s *sender) pass() (bool, error) {
	if s.open != "" {
		return s.sendLog(s.open)
	}
	frozen, err := s.sendForks()
	if err != nil {
		return false, err
	}
	var heads map[applog.ID]uint64
	if s.c.base != nil {
		s.c.base.refresh(s.c.st) // the store's heads, shared
	} else {
		heads = s.c.st.Heads()
	}
	sentAny := false
	// turn gives log h its turn; it reports whether the pass ends (a
	// run left open, or an error).
	turn := func(h head) (bool, error) {
		id := h.ID
		if h.Head <= s.c.peerHas(id) || frozen[id] || (s.c.version >= 4 && !s.c.isEager(id)) {
			return false, nil
		}
		if sentAny {
			// Between two logs' turns, a block: records do not
			// starve the files, nor the files the records.
			if _, err := s.files(); err != nil {
				return true, err
			}
		}
		sent, err := s.sendLog(id)
		sentAny = sentAny || sent
		return err != nil || s.open != "", err
	}
	for _, h := range s.c.lacking(heads) {
		if end, err := turn(h); end {
			return sentAny, err
		}
	}
	// With a base, the logs the peer lacks entirely, one at a time: no
	// list of them is made.
	for i := 0; ; {
		h, next, ok := s.c.nextLack(i)
		if !ok {
			break
		}
		if end, err := turn(h); end {
			return sentAny, err
		}
		i = next
	}
	return sentAny, nil
}

// sendLog sends records of log id after what the peer holds: about
// turnBytes of them, ending with a signed record if the store has one;
// all of them if the peer's view of it is base's (a lack, say) and the
// session keeps maxExceptions already, so that the log needs no new
// exception (view.go).
//
// A log blocked and deleted while it is read (applog.ErrBlocked) is not
// an error of the session: what was read up to its last signed record is
// sent, and the log is no longer offered (Heads leaves it out). Only if
// the peer already holds part of an unsigned run of it, which can no
// longer be finished, does the session end.
func (s *sender) sendLog(id applog.ID) (sent bool, err error) {
	from, whole := s.c.sendFrom(id)
	it := s.iter(id, from)
	seq := from // seq of the next record
	defer func() {
		if kerr := s.keep(id, seq, it); err == nil && kerr != nil {
			err = fmt.Errorf("log %s: %w", id, kerr)
		}
	}()

	start := func() {
		s.payload = appendID(s.payload[:0], id)
		s.payload = binary.AppendUvarint(s.payload, seq)
	}
	start()
	head := len(s.payload) // payload length without records
	total := 0
	signed := true
	peerOpen := s.open == id // the peer holds an unsigned run of id
	cut, cutSeq := head, seq // payload length and seq after its last signed record
	for it.Next() {
		rec := it.Record()
		if len(rec)+head+binary.MaxVarintLen64 >= MaxFrameSize {
			return sent, fmt.Errorf("log %s seq %d: record of %d bytes does not fit a frame", id, seq, len(rec))
		}
		if len(s.payload) > head && len(s.payload)+len(rec)+binary.MaxVarintLen64 > frameTarget {
			if err := s.frame(frameRecords); err != nil {
				return sent, err
			}
			peerOpen = !signed
			start()
			cut, cutSeq = head, seq
		}
		signed = it.Signed()
		s.payload = appendRecord(s.payload, rec, signed)
		seq++
		if signed {
			cut, cutSeq = len(s.payload), seq
		}
		total += len(rec)
		sent = true
		if total >= turnBytes && signed && !whole {
			break
		}
	}
	if err := it.Err(); err != nil {
		if !errors.Is(err, applog.ErrBlocked) || (peerOpen && cut == head) {
			return sent, fmt.Errorf("log %s seq %d: %w", id, seq, err)
		}
		s.payload, seq, signed = s.payload[:cut], cutSeq, true
		sent = seq > from
	}
	if len(s.payload) > head {
		if err := s.frame(frameRecords); err != nil {
			return sent, err
		}
	}
	if sent {
		if signed {
			s.open = ""
		} else {
			s.open = id
		}
		s.c.sent(id, seq-1, s.open)
	}
	return sent, nil
}

// notesPerFrame bounds the notes of one notes frame: each is at most 77
// bytes (a new log's ref and id, and the note), so a frame stays under
// frameTarget plus one note.
const notesPerFrame = 800

// sendNotes writes the notes the tree queued for the peer, and a Resend
// (a notes frame without notes) if one is queued; it reports whether it
// wrote anything.
func (s *sender) sendNotes() (bool, error) {
	if s.c.tree == nil || s.c.version < 4 {
		return false, nil
	}
	notes, resend := s.c.takeNotes(s.notes[:0])
	s.notes = notes
	defer func() {
		clear(s.notes)
		if cap(s.notes) > maxKeptNotes {
			s.notes = nil // the heads' notes go once sent
		}
	}()
	for len(notes) > 0 {
		n := min(len(notes), notesPerFrame)
		var err error
		if s.payload, err = s.enc.Append(s.payload[:0], notes[:n]); err != nil {
			return true, err
		}
		if err := s.frame(frameNotes); err != nil {
			return true, err
		}
		notes = notes[n:]
	}
	if resend {
		s.payload = s.payload[:0]
		if err := s.frame(frameNotes); err != nil {
			return true, err
		}
	}
	return len(s.notes) > 0 || resend, nil
}
