package replicate

import "errors"

var (
	// ErrMalformed is returned (wrapped, with the offending field and
	// offset) when a peer sends bytes that do not decode as frames of this
	// protocol. The connection is closed.
	ErrMalformed = errors.New("replicate: malformed frame")

	// ErrFrameSize is returned when a peer announces a frame longer than
	// MaxFrameSize. The connection is closed before the frame is read.
	ErrFrameSize = errors.New("replicate: frame too large")

	// ErrVersion is returned when a peer's hello names no version this
	// package speaks.
	ErrVersion = errors.New("replicate: unsupported version")

	// ErrProtocol is returned (wrapped, naming the log and seq) when a peer
	// sends well-formed frames out of order: records before the heads are
	// complete, records that skip seqs, or an unsigned run longer than
	// applog.MaxSignedRun records or applog.MaxRunBytes bytes, or interleaved
	// with another log's records; more file requests outstanding than
	// allowed, or an answer to a file request not made.
	ErrProtocol = errors.New("replicate: protocol violation")
)
