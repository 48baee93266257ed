//go:build !unix && !windows

package main

import (
	"context"

	"scuttle/topology/chat/term"
)

// watchTerminal does nothing: term.IsTerminal is false on this
// operating system, so the terminal chat never runs.
func watchTerminal(ctx context.Context, raw *term.State, ed *term.Editor, in, out int) (stop func()) {
	return func() {}
}

// suspend redraws.
func suspend(ed *term.Editor, raw *term.State, in, out int) { ed.Redraw() }
