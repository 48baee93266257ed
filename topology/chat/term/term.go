package term

import "errors"

// The terminal itself: whether a file is one, its size, and raw mode.
// Each operating system has a file of its own (term_unix.go,
// term_windows.go, term_other.go); this file holds what they share.

// A State is a terminal's mode before MakeRaw changed it; Restore puts
// it back.
type State struct {
	state
}

// Restore puts the terminal back into the mode it had before MakeRaw.
// It may be called more than once, and after the terminal was made raw
// again (after a suspend): it restores the same mode each time.
func (s *State) Restore() error {
	if s == nil {
		return nil
	}
	return s.restore()
}

// ErrNotSupported is returned by Size and MakeRaw where the operating
// system has no terminal this package knows how to drive.
var ErrNotSupported = errors.New("term: not supported on this operating system")

// The sequences that turn the terminal's bracketed paste mode on and off
// (xterm's mode 2004): while it is on, the terminal sends a paste between
// ESC [ 200 ~ and ESC [ 201 ~, which the Editor reads as one input. Write
// the first after MakeRaw and the second before Restore.
const (
	BracketedPasteOn  = "\x1b[?2004h"
	BracketedPasteOff = "\x1b[?2004l"
)
