package ebt

import (
	"fmt"
	"time"
)

// Params are a Machine's parameters. The zero value selects every
// default; Validate states the bounds.
type Params struct {
	// NoteInterval is how often the caller calls Tick: notes are batched
	// between two ticks, and a graft waits for a tick. Default 100ms;
	// 1ms … 10s.
	NoteInterval time.Duration

	// SwitchTime is how long a log may stay behind what a neighbour
	// noted, while some neighbour is eager for it, before another
	// neighbour is asked to be eager (a graft). It bounds the delay an
	// eager neighbour that stalls or leaves adds. Default 500ms;
	// NoteInterval … 1m.
	SwitchTime time.Duration

	// MaxUnheld bounds, per neighbour, the logs this peer does not hold
	// that it tracks from the neighbour's notes (logs it may want);
	// notes for further ones are dropped. Default 1024; 1 … 65536.
	MaxUnheld int

	// MaxExact bounds, per neighbour, the logs this peer holds for which
	// it keeps exactly the highest seq the neighbour holds as far as it
	// knows, where that is neither 0 nor this peer's head (the
	// neighbour is behind, or ahead): past it, the seq is taken as 0
	// (the neighbour is pushed, or noted, the log from its first entry,
	// and skips those it holds), or, for a neighbour ahead, as the head
	// plus one. Each log held costs a neighbour one byte otherwise,
	// whatever it asks. Default 1024; 1 … 65536.
	MaxExact int

	// Watchers is how many neighbours, besides the sources, this peer
	// asks to note each log it holds; it asks the others to be quiet
	// about it. An entry the sources do not deliver is missed only if
	// every watcher fails too (a watcher that leaves is replaced at
	// once). Each watcher costs a note per entry, a packet of its own at
	// the pace people type (doc.go, Watchers). Default 1; 1 … 64.
	Watchers int

	// NoteDelay is how long a note of a new head may wait for a
	// neighbour known to hold part of the log already (it said so, or
	// was pushed it: the note is likely only its backup), and four
	// times how long one may wait for a neighbour not known to hold any
	// (the note may be how it gets the entry): the notes waiting for
	// one neighbour go together, in one batch, at the first one's due,
	// or at once with any other message to it (a push, a graft, a
	// prune), and a note of a head the neighbour has meanwhile said it
	// holds is not sent. At chat rates each note is otherwise a packet
	// of its own, and its acknowledgement another. It adds at most
	// NoteDelay to the time an eager neighbour that stalls delays a
	// log. Default 2s (or NoteInterval, if longer); NoteInterval … 1m,
	// or negative: no delay.
	NoteDelay time.Duration

	// SweepInterval is how often a peer notes, to one neighbour at a
	// time in turn, the logs whose head rose in the last round (a sweep
	// of each neighbour) that the neighbour is not known to hold, even
	// one that asked it to be quiet: the repair of a tree whose sources formed a cycle cut off
	// from the log's author, which no note reaches otherwise (doc.go,
	// Sweep). Default 2s (or NoteInterval, if longer); NoteInterval …
	// 1m, or negative: none.
	SweepInterval time.Duration
}

// Default values of Params' fields.
const (
	DefaultNoteInterval = 100 * time.Millisecond
	DefaultSwitchTime   = 500 * time.Millisecond
	DefaultMaxUnheld    = 1024
	DefaultMaxExact     = 1024
	DefaultWatchers     = 1
	DefaultNoteDelay    = 2 * time.Second
	DefaultSweep        = 2 * time.Second
)

// withDefaults returns p with zero fields replaced by their defaults.
func (p Params) withDefaults() Params {
	if p.NoteInterval == 0 {
		p.NoteInterval = DefaultNoteInterval
	}
	if p.SwitchTime == 0 {
		p.SwitchTime = DefaultSwitchTime
	}
	if p.MaxUnheld == 0 {
		p.MaxUnheld = DefaultMaxUnheld
	}
	if p.MaxExact == 0 {
		p.MaxExact = DefaultMaxExact
	}
	if p.Watchers == 0 {
		p.Watchers = DefaultWatchers
	}
	if p.NoteDelay == 0 {
		p.NoteDelay = max(DefaultNoteDelay, p.NoteInterval)
	}
	if p.SweepInterval == 0 {
		p.SweepInterval = max(DefaultSweep, p.NoteInterval)
	}
	return p
}

// Validate reports whether p, once zero fields are given their
// defaults, is within the bounds its fields state.
func (p Params) Validate() error {
	p = p.withDefaults()
	switch {
	case p.NoteInterval < time.Millisecond || p.NoteInterval > 10*time.Second:
		return fmt.Errorf("ebt: NoteInterval %v not within 1ms … 10s", p.NoteInterval)
	case p.SwitchTime < p.NoteInterval || p.SwitchTime > time.Minute:
		return fmt.Errorf("ebt: SwitchTime %v not within NoteInterval (%v) … 1m", p.SwitchTime, p.NoteInterval)
	case p.MaxUnheld < 1 || p.MaxUnheld > 1<<16:
		return fmt.Errorf("ebt: MaxUnheld %d not within 1 … 65536", p.MaxUnheld)
	case p.MaxExact < 1 || p.MaxExact > 1<<16:
		return fmt.Errorf("ebt: MaxExact %d not within 1 … 65536", p.MaxExact)
	case p.Watchers < 1 || p.Watchers > 64:
		return fmt.Errorf("ebt: Watchers %d not within 1 … 64", p.Watchers)
	case p.NoteDelay > 0 && (p.NoteDelay < p.NoteInterval || p.NoteDelay > time.Minute):
		return fmt.Errorf("ebt: NoteDelay %v not within NoteInterval (%v) … 1m, nor negative", p.NoteDelay, p.NoteInterval)
	case p.SweepInterval > 0 && (p.SweepInterval < p.NoteInterval || p.SweepInterval > time.Minute):
		return fmt.Errorf("ebt: SweepInterval %v not within NoteInterval (%v) … 1m, nor negative", p.SweepInterval, p.NoteInterval)
	}
	return nil
}
