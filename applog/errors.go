package applog

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test them with errors.Is; the errors returned
// wrap them with the evidence (log, seq, file, offset, peer record index).
var (
	// ErrNotFound is returned by Get for a seq the database does not hold.
	ErrNotFound = errors.New("applog: not found")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("applog: database closed")
	// ErrReadOnly is returned by Append, AppendBatch and Insert on a
	// database opened with Options.ReadOnly.
	ErrReadOnly = errors.New("applog: database is read-only")
	// ErrLocked is returned by a writer's Open when another process holds
	// the database's lock for longer than Options.LockWait; the error
	// names the holder's pid.
	ErrLocked = errors.New("applog: database is locked by another writer")
	// ErrCorrupt is matched (errors.Is) by every *CorruptError: stored bytes
	// that fail their CRC, framing, seq, chain or index checks, or received
	// records that cannot be decoded.
	ErrCorrupt = errors.New("applog: corrupt record")
	// ErrGap is returned by Insert when the first new record is not the
	// log's head+1, or the records given are not consecutive.
	ErrGap = errors.New("applog: records do not continue the log")
	// ErrFork is matched by the *ForkError Insert returns when authenticated
	// records differ from the stored ones at a seq already held, or do not
	// chain to the stored head: the author signed two histories.
	ErrFork = errors.New("applog: record differs from the stored one (fork)")
	// ErrForked is returned by Insert for records of a log marked forked
	// (see Forked): it is frozen, nothing more of it is stored.
	ErrForked = errors.New("applog: log is forked and frozen")
	// ErrChain is returned by Insert when a record's previous-hash field
	// does not equal the hash of the record before it.
	ErrChain = errors.New("applog: hash chain broken")
	// ErrSignature is returned by Insert when a signature does not verify
	// against the log's id (its author's public key).
	ErrSignature = errors.New("applog: bad signature")
	// ErrUnsigned is returned by Insert when records are not followed by a
	// signed record (the run cannot be authenticated), or a run exceeds
	// MaxSignedRun records or MaxRunBytes bytes without a signature.
	ErrUnsigned = errors.New("applog: records not authenticated by a signature")
	// ErrRepaired is matched by what Verify reports of damage found in
	// a file derived from the segments (the log table, the feed, the
	// state file, an index) and repaired or read around: it cost no
	// entry, and is not a problem of the logs' data.
	ErrRepaired = errors.New("applog: repaired")
	// ErrTooLarge is returned by Append and AppendBatch for a payload over
	// MaxEntrySize. (A stored or received frame longer than allowed is a
	// *CorruptError.)
	ErrTooLarge = errors.New("applog: entry too large")
)

// CorruptError reports stored bytes that fail a check: which log, which
// seq (the one expected at that place; 0 if unknown), which file and at
// which byte offset. errors.Is(err, ErrCorrupt) holds for every
// CorruptError.
type CorruptError struct {
	Log    ID
	Seq    uint64
	File   string
	Offset int64
	Err    error // what is wrong
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("applog: corrupt log %s at seq %d (%s offset %d): %v", e.Log, e.Seq, e.File, e.Offset, e.Err)
}

// Unwrap returns the cause and ErrCorrupt, so errors.Is matches both.
func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// Limits that bound what a peer may have to buffer.
const (
	// MaxEntrySize is the largest payload of one entry.
	MaxEntrySize = 1 << 20
	// MaxSignedRun is the most records from one signed record (exclusive)
	// to the next (inclusive).
	MaxSignedRun = 1024
	// MaxRunBytes is the most encoded bytes from one signed record
	// (exclusive) to the next (inclusive).
	MaxRunBytes = 4 << 20
)
