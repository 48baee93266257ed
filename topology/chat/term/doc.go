// Package term is the terminal chat's line editor: it reads the line
// being typed from a terminal in raw mode while lines from peers are
// printed above it, so that what arrives never breaks what is typed.
//
// # Model
//
// The screen is lines printed, followed by the input area: the prompt
// and the line typed, wrapped over as many rows as they need, always the
// last rows. Print clears the input area, prints its line and draws the
// input area again with the cursor where it was; ReadLine decodes keys
// and redraws the input area after each. Both run under one mutex, which
// ReadLine releases while it waits in Read, so Print may be called from
// any goroutine at any time (the terminal's Read is never interrupted:
// Close ends ReadLine when its Read returns).
//
// Positions on the screen come from the display width of each character
// (RuneWidth: two columns for East Asian wide and fullwidth characters
// and emoji, none for combining marks and format characters) and the
// terminal's rule for wrapping, so a line of several rows, wide
// characters at a row's end and a resize redraw in place
// (TestScreenMatches, TestResize, checked against a VT that interprets
// what is written).
//
// # Keys
//
// Keys are decoded one byte at a time, so an escape sequence or a
// character split across reads decodes as if read whole (TestKeys feeds
// every row cut at every offset). left/right, ^B/^F; home/end, ^A/^E;
// alt-b/alt-f and ctrl- or alt-left/right by words; backspace, delete,
// ^D (end of input on an empty line); ^W, ^U, ^K; up/down, ^P/^N
// through the history, bounded in lines and bytes; tab completes the
// word before the cursor (Config.Complete), to the common prefix of the
// completions, or lists them; ^L redraws; ^C and ^Z end ReadLine with
// ErrInterrupt and ErrSuspend (raw mode turns off the signals, so the
// caller decides). A bracketed paste (ESC [ 200 ~ … ESC [ 201 ~) is one
// input: its keys are text, and a paste of several lines comes back
// whole with ErrPaste, for the caller to ask (Confirm) before sending.
// A line and a paste are bounded by Config.MaxInput; a paste that passes
// it is refused at once and the rest of it dropped, so a paste without
// its end marker holds at most MaxInput bytes.
//
// # What reaches the terminal
//
// The editor writes the prompt, the line typed, the lines given to
// Print, and a few escape sequences of its own (see draw.go). A line
// typed keeps no control character, and no character that reorders the
// line (bidi controls): what is typed is what is sent. Print writes its
// line as it is: the chat gives it lines made by chat.AppendTerminal,
// whose every peer-controlled byte went through chat.Escape, the one
// escaping function; no byte from a peer reaches the terminal any other
// way. FuzzEditor checks that no input makes the editor write a control
// byte or escape sequence other than its own.
//
// # The terminal
//
// IsTerminal, Size and MakeRaw drive the terminal itself: termios
// through golang.org/x/sys/unix on Linux, macOS and the BSDs, console
// modes through golang.org/x/sys/windows on Windows (input as VT
// sequences, output interpreting them). MakeRaw returns the State to
// Restore, which the caller defers:
//
//	st, err := term.MakeRaw(int(os.Stdin.Fd()), int(os.Stdout.Fd()))
//	if err != nil {
//		return err
//	}
//	defer st.Restore()
package term
