package main

import (
	"context"
	"sync"
	"time"

	"scuttle/topology/chat/term"
)

// resizePoll is how often the console's size is looked at: Windows
// tells a console program of a resize only through console input
// records, which a read of VT input does not return.
const resizePoll = 500 * time.Millisecond

// watchTerminal redraws the input for the console's new width when it
// changes, while ctx lasts. It returns the function that stops watching
// and waits for the watch to end.
func watchTerminal(ctx context.Context, raw *term.State, ed *term.Editor, in, out int) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		last, _, _ := term.Size(out)
		t := time.NewTicker(resizePoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if w, _, err := term.Size(out); err == nil && w != last {
					last = w
					ed.Resize(w)
				}
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// suspend does nothing but redraw: a Windows console has no job
// control, and ^Z is an ordinary key.
func suspend(ed *term.Editor, raw *term.State, in, out int) { ed.Redraw() }
