package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"scuttle/topology/chat"
	"scuttle/topology/chat/term"
)

// The terminal chat: when standard input and output are both a
// terminal, scuttle chat puts it in raw mode and reads typed lines with
// topology/chat/term's editor, which prints the chat's lines above the
// line being typed. All the chat's logic stays in topology/chat; this
// file connects the two and owns the terminal's mode.

// chatTerminal returns standard input and output when they are both a
// terminal the line editor can drive, else nil: a pipe, a file, a
// terminal with TERM=dumb (an editor's shell window), or --no-edit.
func chatTerminal(st *state, noEdit bool) (in, out *os.File) {
	in, ok1 := st.stdin.(*os.File)
	out, ok2 := st.stdout.(*os.File)
	if noEdit || !ok1 || !ok2 || st.getenv("TERM") == "dumb" {
		return nil, nil
	}
	if !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return nil, nil
	}
	return in, out
}

// wantColour says whether the terminal chat colours names: not when
// NO_COLOR is set (no-color.org) or TERM is dumb, nor when TERM is unset
// except on Windows, whose consoles set no TERM and take colours once
// MakeRaw has turned their virtual-terminal processing on.
func wantColour(getenv func(string) string, goos string) bool {
	t := getenv("TERM")
	return getenv("NO_COLOR") == "" && t != "dumb" && (t != "" || goos == "windows")
}

// runTerminalChat runs the chat of cfg on the terminal in, out: raw mode
// for its whole run, restored however it ends (return, ^C, ^D, panic of
// this goroutine or of the editor's), and restored while the chat is
// suspended with ^Z.
//
// diag is where cfg.Log writes: through the editor while it runs, else
// straight to standard error. run runs the chat made (chat.Chat's Run,
// or serveChat's for --web too).
func runTerminalChat(ctx context.Context, st *state, cfg chat.Config, in, out *os.File, diag *lineWriter, run func(context.Context, *chat.Chat) error) (err error) {
	inFd, outFd := int(in.Fd()), int(out.Fd())
	raw, err := term.MakeRaw(inFd, outFd)
	if err != nil {
		// A console without escape sequences (Windows before 10): the
		// pipe's lines, as with --no-edit.
		cfg.Log.Debug("no terminal chat", "err", err)
		return run(ctx, chat.New(cfg))
	}
	defer func() { err = errors.Join(err, raw.Restore()) }()
	io.WriteString(out, term.BracketedPasteOn)
	defer io.WriteString(out, term.BracketedPasteOff)
	width, _, err := term.Size(outFd)
	if err != nil {
		width = term.DefaultWidth
	}
	colour := wantColour(st.getenv, runtime.GOOS)
	var c *chat.Chat // set before the editor reads a key
	ed := term.New(term.Config{In: in, Out: out, Width: width, Prompt: cfg.Me + "> ",
		Complete: func(word string) []string { return complete(c, word) }})
	defer ed.Close() // before the terminal is restored: the input area is cleared

	// What the chat shows, and its errors and diagnostics, go through the
	// editor, above the line being typed.
	cfg.Screen = &termScreen{ed: ed, colour: colour}
	cfg.Errs = diag
	diag.through(ed)
	defer diag.through(nil)
	cfg.In = nil // typed lines come from the editor, through c.Type
	c = chat.New(cfg)
	ed.SetPrompt(prompt(c.Status()))

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopWatch := watchTerminal(ctx, raw, ed, inFd, outFd)
	defer stopWatch()
	// The reader is not waited for: a Read of the terminal cannot be
	// interrupted, and the process ends anyway.
	restore := func() { io.WriteString(out, term.BracketedPasteOff); raw.Restore() }
	send := func(line string) error { return c.Type(ctx, line) }
	go readTyped(ed, raw, restore, send, cancel, colour, inFd, outFd)
	return run(ctx, c)
}

// readTyped sends each line read by ed to the chat until ^C, ^D on an
// empty line or an error, and then ends the chat through cancel. A paste
// of several lines is sent once the user says yes. restore puts the
// terminal back as it was, for a panic.
func readTyped(ed *term.Editor, raw *term.State, restore func(), send func(string) error, cancel context.CancelCauseFunc, colour bool, in, out int) {
	defer func() {
		if p := recover(); p != nil {
			ed.Close()
			restore()
			panic(p)
		}
	}()
	info := func(text string) {
		ed.Print(chat.AppendTerminal(nil, chat.Line{Kind: chat.Info, Time: time.Now(), Text: chat.Escape(text)}, colour))
	}
	// sent reports whether the chat goes on after line was typed.
	sent := func(line string) bool {
		switch err := send(line); {
		case err == nil:
		case errors.Is(err, chat.ErrEnded), errors.Is(err, context.Canceled):
			return false
		default:
			info(err.Error() + ": not sent")
		}
		return true
	}
	for {
		line, err := ed.ReadLine()
		switch {
		case err == nil:
			if !sent(line) {
				return
			}
			continue
		case errors.Is(err, term.ErrPaste):
			n := strings.Count(line, "\n") + 1
			var yes bool
			if yes, err = ed.Confirm("send " + strconv.Itoa(n) + " lines? [y/n] "); err == nil {
				if !yes {
					info("paste not sent")
				} else if !sent(line) {
					return
				}
				continue
			}
		case errors.Is(err, term.ErrPasteTooLong):
			info(err.Error())
			continue
		case errors.Is(err, term.ErrSuspend):
			suspend(ed, raw, in, out)
			continue
		}
		switch {
		case errors.Is(err, term.ErrInterrupt), err == io.EOF, errors.Is(err, term.ErrClosed):
			cancel(nil) // as SIGINT does: the chat ends cleanly
		default:
			cancel(fmt.Errorf("terminal: %w", err))
		}
		return
	}
}

// termScreen is the chat's Screen on the terminal: each line printed
// above the line being typed, the status in the prompt.
type termScreen struct {
	ed     *term.Editor
	colour bool
	buf    []byte // under the chat's screen mutex, which serializes Show
}

func (s *termScreen) Show(l chat.Line) {
	s.buf = chat.AppendTerminal(s.buf[:0], l, s.colour)
	s.ed.Print(s.buf)
}

func (s *termScreen) SetStatus(st chat.Status) { s.ed.SetPrompt(prompt(st)) }

// prompt returns the prompt that shows st: where typed lines go, how
// many peers are connected, and the own name, as
// "[public · 3 peers] alice> " or "[#room · private · 1 peer] alice> ".
func prompt(st chat.Status) string {
	var b strings.Builder
	b.WriteByte('[')
	if st.Room != "" {
		b.WriteString("#" + st.Room + " · ")
	}
	if st.Private {
		b.WriteString("private")
	} else {
		b.WriteString("public")
	}
	b.WriteString(" · " + strconv.Itoa(st.Peers) + " peer")
	if st.Peers != 1 {
		b.WriteByte('s')
	}
	b.WriteString("] " + st.Me + "> ")
	return b.String()
}

// maxPartial bounds what lineWriter holds of a line without its end.
const maxPartial = 4 << 10

// lineWriter prints what is written to it through an editor, a line at a
// time and escaped, or, without an editor, writes it to direct as it is:
// the chat's errors and diagnostics, on the terminal.
type lineWriter struct {
	direct  io.Writer
	mu      sync.Mutex   // the chat and the logger write from many goroutines
	ed      *term.Editor // nil: direct
	partial []byte
}

// through makes w print through ed from now on; nil: direct.
func (w *lineWriter) through(ed *term.Editor) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ed, w.partial = ed, w.partial[:0]
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ed == nil {
		return w.direct.Write(p)
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(w.partial)+len(p) > maxPartial {
				p = p[:maxPartial-len(w.partial)]
			}
			w.partial = append(w.partial, p...)
			break
		}
		w.partial = append(w.partial, p[:i]...)
		w.ed.Print([]byte(chat.Escape(string(w.partial))))
		w.partial, p = w.partial[:0], p[i+1:]
	}
	return n, nil
}
