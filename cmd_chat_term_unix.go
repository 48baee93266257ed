//go:build unix

package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"scuttle/topology/chat/term"
)

// watchTerminal follows the terminal while ctx lasts: a new size
// (SIGWINCH) redraws the input for it; a continue (SIGCONT, after a stop
// by ^Z or by another process) makes the terminal raw again, for the
// shell may have restored its mode, and redraws. It returns the function
// that stops watching and waits for the watch to end.
func watchTerminal(ctx context.Context, raw *term.State, ed *term.Editor, in, out int) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGWINCH, syscall.SIGCONT)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-sigs:
				if sig == syscall.SIGCONT {
					term.MakeRaw(in, out) // the state before raw mode is raw's
				}
				if w, _, err := term.Size(out); err == nil {
					ed.Resize(w)
				} else {
					ed.Redraw()
				}
			}
		}
	})
	return func() {
		signal.Stop(sigs)
		cancel()
		wg.Wait()
	}
}

// suspend stops the process group as ^Z does in a shell, with the
// terminal in the mode it had before the chat, and makes it raw again
// and redraws when the shell continues it (fg). Without job control (an
// orphaned process group) SIGTSTP stops nothing, and the chat goes on
// at once.
func suspend(ed *term.Editor, raw *term.State, in, out int) {
	raw.Restore()
	syscall.Kill(0, syscall.SIGTSTP) // the kernel stops the process before kill returns
	term.MakeRaw(in, out)
	if w, _, err := term.Size(out); err == nil {
		ed.Resize(w)
	} else {
		ed.Redraw()
	}
}
