package replicate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"scuttle/applog"
	"scuttle/applog/replicate/ebt"
)

// The receiver's phases: what frame it expects next.
const (
	expectHello = iota
	expectHeads
	live
)

// tail holds the records of one log received since its last signed record,
// which cannot be stored yet: the store only takes runs that end signed.
// Bounded by applog.MaxSignedRun records and applog.MaxRunBytes bytes.
type tail struct {
	id    applog.ID
	first uint64 // seq of the first record held
	next  uint64 // seq of the next record expected
	arena []byte
	ends  []int // end offset in arena of each record
}

// receive reads frames until the connection fails, hands complete signed
// runs to the inserter, and tracks what the peer holds.
func (c *session) receive(ctx context.Context) error {
	r := bufio.NewReaderSize(c.conn, 64<<10)
	var (
		buf   []byte
		phase = expectHello
		rs    records
		t     tail
		hin   headsIn
		notes []ebt.Note
	)
	for {
		typ, p, nbuf, err := readFrame(r, buf)
		buf = nbuf
		if err != nil {
			if errors.Is(err, io.EOF) && phase == live && len(t.ends) > 0 {
				err = fmt.Errorf("%w: connection closed in an unsigned run of log %s at seq %d: %w", ErrProtocol, t.id, t.next-1, err)
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return err
		}
		switch {
		case typ == frameHello && phase == expectHello:
			v, err := decodeHello(p)
			if err != nil {
				return err
			}
			mine := c.myVersion()
			if min(v, mine) < 1 {
				return fmt.Errorf("%w: peer speaks version %d, we speak %d", ErrVersion, v, mine)
			}
			c.version = min(v, mine)
			if c.base != nil {
				c.base.register(c) // the peer's heads or notes are exceptions as they come
			}
			if c.version >= 4 {
				c.tree.join(c)
			}
			if c.version >= 5 && c.member.Up != nil {
				c.member.Up()
			}
			close(c.helloDone)
			phase = expectHeads
		case typ == frameHeads && phase == expectHeads && c.version >= 4:
			return fmt.Errorf("%w: heads frame in a version %d session (heads are notes)", ErrProtocol, c.version)
		case typ == frameNotes && phase != expectHello && c.version < 4:
			return fmt.Errorf("%w: frame type %d in a version %d session", ErrMalformed, typ, c.version)
		case typ == frameNotes && phase != expectHello:
			if notes, err = c.decodeNotes(notes[:0], p); err != nil {
				return err
			}
			c.tree.notes(c, notes)
			clear(notes)
		case typ == frameMember && phase != expectHello && c.version < 5:
			return fmt.Errorf("%w: frame type %d in a version %d session", ErrMalformed, typ, c.version)
		case typ == frameMember && phase != expectHello:
			if len(p) > MaxMembershipSize {
				return fmt.Errorf("%w: membership frame of %d bytes, limit %d", ErrMalformed, len(p), MaxMembershipSize)
			}
			if c.member.In == nil {
				break
			}
			if err := c.member.In(p); err != nil {
				return fmt.Errorf("%w: membership frame: %w", ErrMalformed, err)
			}
		case typ == frameHeads && phase == expectHeads:
			if err := c.takeHeads(p, &hin); err != nil {
				return err
			}
		case typ == frameHeadsEnd && phase == expectHeads:
			if len(p) != 0 {
				return fmt.Errorf("%w: end of heads with %d bytes of payload", ErrMalformed, len(p))
			}
			phase = live
			hin = headsIn{}               // the store's heads are no longer needed
			watched := c.peerHas(c.watch) // as advertised: nothing sent yet
			if c.version >= 3 && c.fetcher != nil {
				c.fp = c.fetcher.join(c.peer, c.cancel)
			}
			close(c.headsDone)
			if c.watchHead != nil {
				c.watchHead(watched)
			}
		case typ == frameRecords && phase == live:
			if err := decodeRecords(p, &rs); err != nil {
				return err
			}
			if err := c.receiveRecords(&t, &rs); err != nil {
				return err
			}
		case typ == frameFork && c.version < 2:
			return fmt.Errorf("%w: frame type %d in a version %d session", ErrMalformed, typ, c.version)
		case typ == frameFork && phase == live:
			if err := c.receiveFork(p); err != nil {
				return err
			}
		case typ >= frameGet && typ <= frameNone && c.version < 3:
			return fmt.Errorf("%w: frame type %d in a version %d session", ErrMalformed, typ, c.version)
		case typ == frameGet && phase == live:
			pt, err := decodeGet(p)
			if err != nil {
				return err
			}
			if err := c.queueGet(pt); err != nil {
				return err
			}
		case typ == frameData && phase == live:
			d, err := decodeData(p)
			if err != nil {
				return err
			}
			if c.fp == nil {
				return fmt.Errorf("%w: %s, not asked for", ErrProtocol, d.part)
			}
			if err := c.fetcher.data(c.fp, d); err != nil {
				return err
			}
		case typ == frameNone && phase == live:
			pt, why, err := decodeNone(p)
			if err != nil {
				return err
			}
			if c.fp == nil {
				return fmt.Errorf("%w: none of the %s, not asked for", ErrProtocol, pt)
			}
			if err := c.fetcher.none(c.fp, pt, why); err != nil {
				return err
			}
		case typ >= frameHello && typ <= frameMember:
			return fmt.Errorf("%w: frame type %d %s", ErrProtocol, typ, [...]string{
				expectHello: "before the hello",
				expectHeads: "before the end of the heads",
				live:        "after the end of the heads",
			}[phase])
		default:
			return fmt.Errorf("%w: unknown frame type %d", ErrMalformed, typ)
		}
	}
}

// headsIn is what the receiver keeps while the peer's heads come.
type headsIn struct {
	n     int                  // heads read
	limit int                  // heads allowed: the logs held as they began, plus MaxLogs; 0 before
	held  map[applog.ID]uint64 // without a base: the store's logs, as of the first heads frame
	other int                  // heads read of logs not held
}

// holds reports whether the store holds log id: as base says if c has
// one, else as in.held does.
func (in *headsIn) holds(c *session, id applog.ID) bool {
	if c.base == nil {
		_, ok := in.held[id]
		return ok
	}
	return c.base.holds(id)
}

// takeHeads records the heads of one heads frame in c.has: those of the
// logs the store holds and of the watched log, and of at most
// maxOtherHeads others. More heads in all than the store held when they
// began, plus MaxLogs, is an error: a peer holding what this store holds
// may hold more logs than MaxLogs (a chat's --max-logs is 100,000).
func (c *session) takeHeads(p []byte, in *headsIn) error {
	if in.limit == 0 {
		switch {
		case c.base != nil:
			c.base.refresh(c.st) // held: the store's heads, shared
			in.limit = c.base.len() + MaxLogs
		default:
			in.held = c.st.Heads()
			in.limit = len(in.held) + MaxLogs
		}
	}
	return decodeHeads(p, func(h head) error {
		if in.n++; in.n > in.limit {
			return fmt.Errorf("%w: peer advertises more than %d logs (the %d this side holds, plus %d)", ErrProtocol, in.limit, in.limit-MaxLogs, MaxLogs)
		}
		if !in.holds(c, h.ID) && h.ID != c.watch {
			// A log this side lacks: the peer sends it if it is real.
			// Kept only within a small window, so that made-up heads
			// cost nothing.
			if in.other++; in.other > maxOtherHeads {
				return nil
			}
		}
		c.advertise(h.ID, h.Head) // as advertised, even if lower than before
		return nil
	})
}

// receiveRecords adds a records frame to t and passes what ends signed to
// the inserter.
func (c *session) receiveRecords(t *tail, rs *records) error {
	if len(t.ends) > 0 && rs.ID != t.id {
		return fmt.Errorf("%w: records of log %s interrupt an unsigned run of log %s at seq %d", ErrProtocol, rs.ID, t.id, t.next-1)
	}
	if len(t.ends) == 0 && c.refuses(rs.ID) {
		// A forked, blocked, … log: its records are skipped, and the
		// peer's view of it, if this side tracks one, raised so that
		// nothing of it is sent back. No view is started: refused logs
		// of made-up keys would each cost one.
		c.raiseKnown(rs.ID, rs.First+uint64(len(rs.Recs))-1)
		return nil
	}
	if len(t.ends) == 0 && !c.admit(rs.ID) {
		return nil // a new log past the peer's quota: as refused
	}
	if len(t.ends) == 0 {
		// A new run: it may repeat records this side already holds (sent
		// by the peer while it got them from us or a third peer too), but
		// must not skip any.
		have := max(c.st.Head(rs.ID), c.insert.queued(rs.ID))
		if last := rs.First + uint64(len(rs.Recs)) - 1; c.key != "" && last <= have {
			// Every record held already: the tree hears of the
			// duplicate (and prunes the peer if another pushes the
			// log too).
			c.raise(rs.ID, last)
			c.tree.received(c, rs.ID, last, 0)
			return nil
		}
		if rs.First > have+1 {
			return fmt.Errorf("%w: log %s: got seq %d, hold %d: gap", ErrProtocol, rs.ID, rs.First, have)
		}
		t.id, t.next, t.first = rs.ID, have+1, have+1
		t.arena = t.arena[:0]
	} else if rs.First != t.next {
		return fmt.Errorf("%w: log %s: got seq %d, want %d", ErrProtocol, rs.ID, rs.First, t.next)
	}
	last := rs.First + uint64(len(rs.Recs)) - 1
	c.raise(rs.ID, last) // the peer holds these: never send them back

	signedN, signedBytes := 0, 0
	for i, rec := range rs.Recs {
		if rs.First+uint64(i) < t.next {
			continue // held already
		}
		t.arena = append(t.arena, rec...)
		t.ends = append(t.ends, len(t.arena))
		t.next++
		if rs.Signed[i] {
			signedN, signedBytes = len(t.ends), len(t.arena)
		}
	}
	if n, b := len(t.ends)-signedN, len(t.arena)-signedBytes; n > applog.MaxSignedRun || b > applog.MaxRunBytes {
		return fmt.Errorf("%w: log %s: %d records (%d bytes) up to seq %d without a signature", ErrProtocol, t.id, n, b, t.next-1)
	}
	if signedN == 0 {
		return nil
	}
	if err := c.insert.add(t.id, t.first, t.arena[:signedBytes], t.ends[:signedN]); err != nil {
		return err
	}
	// Keep the unsigned rest for the next frame.
	rest := copy(t.arena, t.arena[signedBytes:])
	t.arena = t.arena[:rest]
	k := copy(t.ends, t.ends[signedN:])
	t.ends = t.ends[:k]
	for i := range t.ends {
		t.ends[i] -= signedBytes
	}
	t.first += uint64(signedN)
	if len(t.ends) == 0 && cap(t.arena) > maxKeptRun {
		t.arena, t.ends = nil, nil // a long run's buffers go with it
	}
	return nil
}

// admit reports whether the records of log id, starting a run, may be
// taken: always, but for a new log (one the store neither holds nor has
// been handed) past the peer's Quota.
func (c *session) admit(id applog.ID) bool {
	if c.quota == nil || id == c.watch || c.st.Head(id) > 0 || c.insert.queued(id) > 0 {
		return true
	}
	c.mu.Lock()
	granted := c.granted[id] // admitted when this side grafted it
	c.mu.Unlock()
	if granted || c.quota.admit(c.source, id) {
		return true
	}
	if !c.quotaWarned {
		c.quotaWarned = true
		c.log.Info("quota reached: records of new logs from this peer are skipped", "log", id)
	}
	return false
}

// myVersion is the version this side says: Version with a Tree and
// Membership, else the highest without what it lacks.
func (c *session) myVersion() uint64 {
	switch {
	case c.tree == nil:
		return versionNoTree
	case c.member == nil:
		return versionNoMembership
	}
	return Version
}

// decodeNotes decodes a notes payload into notes: a malformed one, or a
// note of a log whose id is not valid, is an error wrapping ErrMalformed.
func (c *session) decodeNotes(notes []ebt.Note, p []byte) ([]ebt.Note, error) {
	notes, err := c.dec.Decode(notes, p)
	if err != nil {
		return notes, fmt.Errorf("%w: notes: %w", ErrMalformed, err)
	}
	for _, nt := range notes {
		if _, err := applog.ParseID(string(nt.Log)); err != nil {
			return notes, fmt.Errorf("%w: note: %w", ErrMalformed, err)
		}
	}
	return notes, nil
}
