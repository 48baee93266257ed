package replicate

import (
	"fmt"

	"scuttle/applog"
)

// Forker is a Store that keeps proofs of forked logs, as *applog.DB does
// (see applog.CheckForkProof). Serve then sends the proofs it holds to a
// peer that speaks Version 2, marks a log forked when a peer sends a
// proof that checks, skips records of forked logs it receives, and no
// longer sends records of a forked log. A Store that is not a Forker
// still checks every proof it is sent.
type Forker interface {
	// Forked returns the seq at which log id is forked, 0 if it is not.
	Forked(id applog.ID) uint64
	// Forks returns the forked logs.
	Forks() []applog.Fork
	// ForkProof returns the proof that log id is forked.
	ForkProof(id applog.ID) ([]byte, error)
	// AddForkProof checks proof p and marks its log forked; it reports
	// the fork and whether it was new.
	AddForkProof(p []byte) (applog.Fork, bool, error)
}

// A Refuser is a Store that refuses every record of some logs (as
// *applog.DB does: forked, blocked, new logs beyond a limit, peers' logs
// below a free-space floor). Serve skips records of such a log without
// checking or queueing them, and goes on with the others; an Insert
// error matching applog.IsRefused does not end the session either.
type Refuser interface {
	Refuses(id applog.ID) bool
}

// refuses reports whether the store refuses log id outright.
func (c *session) refuses(id applog.ID) bool {
	r, ok := c.st.(Refuser)
	return ok && r.Refuses(id)
}

// receiveFork handles a fork frame: a proof that does not check is a
// malformed frame; one that does marks the log forked in the store.
func (c *session) receiveFork(p []byte) error {
	fk, err := applog.CheckForkProof(p)
	if err != nil {
		return fmt.Errorf("%w: fork proof: %w", ErrMalformed, err)
	}
	if c.forker == nil {
		return nil // nothing is ever sent back
	}
	c.mu.Lock()
	c.forkSeen[fk.Log] = true // the peer knows: never send it back
	c.mu.Unlock()
	_, isNew, err := c.forker.AddForkProof(p)
	if err != nil {
		return fmt.Errorf("log %s: fork proof: %w", fk.Log, err)
	}
	if c.forker.Forked(fk.Log) == 0 {
		// A log the store does not hold (a made-up one, say): the store
		// keeps no proof of it, so none can be sent back, and the
		// session remembers nothing of it.
		c.mu.Lock()
		delete(c.forkSeen, fk.Log)
		c.mu.Unlock()
	}
	if isNew {
		c.log.Warn("log forked: proof received", "log", fk.Log, "seq", fk.Seq)
	}
	return nil
}

// sendForks sends a fork frame for each fork the store holds and the
// peer has not been sent nor sent us, if the peer speaks Version 2. It
// returns the forked logs, so that the pass sends no records of them
// (whatever the version).
func (s *sender) sendForks() (map[applog.ID]bool, error) {
	c := s.c
	if c.forker == nil {
		return nil, nil
	}
	forks := c.forker.Forks()
	if len(forks) == 0 {
		return nil, nil
	}
	frozen := make(map[applog.ID]bool, len(forks))
	for _, fk := range forks {
		frozen[fk.Log] = true
		if c.version < 2 {
			continue // a version 1 peer would take the frame as malformed
		}
		c.mu.Lock()
		seen := c.forkSeen[fk.Log]
		c.forkSeen[fk.Log] = true
		c.mu.Unlock()
		if seen {
			continue
		}
		p, err := c.forker.ForkProof(fk.Log)
		if err != nil {
			c.log.Warn("fork proof not sent", "log", fk.Log, "err", err)
			continue // too large to keep: the log is frozen here only
		}
		s.payload = append(s.payload[:0], p...)
		if err := s.frame(frameFork); err != nil {
			return nil, err
		}
	}
	return frozen, nil
}
