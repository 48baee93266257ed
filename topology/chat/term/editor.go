package term

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Errors of ReadLine and Confirm.
var (
	// ErrInterrupt is returned when ^C is typed; the line typed so far
	// stays, should the caller go on reading.
	ErrInterrupt = errors.New("term: interrupted")
	// ErrSuspend is returned when ^Z is typed, with the input cleared from
	// the screen: the caller restores the terminal, stops the process
	// (SIGTSTP), makes the terminal raw again when it continues and calls
	// Redraw. The line typed so far stays.
	ErrSuspend = errors.New("term: suspend")
	// ErrClosed is returned once Close has been called.
	ErrClosed = errors.New("term: editor closed")
	// ErrPaste comes with a bracketed paste of more than one line,
	// returned whole (joined by "\n", with what was typed around it): the
	// caller asks (Confirm) before sending so many lines.
	ErrPaste = errors.New("term: paste of several lines")
	// ErrPasteTooLong is returned, wrapped, as soon as a paste passes
	// MaxInput; the rest of the paste, up to its end marker, is dropped.
	ErrPasteTooLong = errors.New("term: paste too long")
)

// Defaults of Config.
const (
	DefaultWidth        = 80
	DefaultMaxInput     = 64 << 10
	DefaultHistoryLines = 100
	DefaultHistoryBytes = 64 << 10
)

// Config is what an Editor reads, writes and knows.
type Config struct {
	In  io.Reader // the terminal's input, in raw mode
	Out io.Writer // the terminal's output
	// Width is the terminal's width in columns; 0 means DefaultWidth.
	Width int
	// Prompt is printed before the line typed. It must be printable
	// text: it is written as it is.
	Prompt string
	// Complete, if set, is called on tab with the word before the cursor
	// (from the last space) and returns what the word may become.
	Complete func(word string) []string
	// MaxInput bounds a line and a paste, in bytes; 0 means
	// DefaultMaxInput.
	MaxInput int
	// HistoryLines and HistoryBytes bound the lines that up and down
	// recall; 0 means DefaultHistoryLines and DefaultHistoryBytes, and a
	// negative HistoryLines turns history off.
	HistoryLines int
	HistoryBytes int
}

// An Editor reads lines from a terminal in raw mode, while other
// goroutines print lines above the one being typed (Print). Its methods
// may be called from any goroutine; one ReadLine or Confirm runs at a
// time.
type Editor struct {
	in       io.Reader
	complete func(string) []string
	maxInput int

	readMu sync.Mutex // held by ReadLine and Confirm, across Read
	rbuf   [4096]byte // read into under readMu
	unread []byte     // what rbuf holds that is not decoded yet; under readMu
	rerr   error      // the error of the last Read, after unread; under readMu

	mu        sync.Mutex // guards what follows; never held across Read
	out       io.Writer
	obuf      []byte // output gathered for one Write
	werr      error  // the first failed Write
	width     int
	prompt    []rune
	line      []rune // the line being typed
	lineBytes int    // len of line in UTF-8
	pos       int    // the cursor, an index in line
	shown     bool   // prompt and line are on the screen
	cursorRow int    // the cursor's row, counting from the prompt's
	closed    bool
	dec       decoder

	hist    history
	histIdx int    // the history line shown; len(hist.lines): the draft
	draft   []rune // the line being typed, while history is shown

	pasting     bool   // inside a bracketed paste
	paste       []byte // its bytes so far
	pasteEnd    int    // bytes of the end marker matched
	pasteTooBig bool   // refused: dropped up to its end

	confirming bool   // Confirm is waiting for y or n
	asked      []rune // the prompt to show again after Confirm's question
}

// New returns an editor of cfg. Nothing is drawn until the first
// ReadLine, Print or Redraw.
func New(cfg Config) *Editor {
	e := &Editor{
		in:       cfg.In,
		out:      cfg.Out,
		complete: cfg.Complete,
		maxInput: cfg.MaxInput,
		width:    cfg.Width,
		prompt:   printable(cfg.Prompt),
		hist:     history{maxLines: cfg.HistoryLines, maxBytes: cfg.HistoryBytes},
	}
	if e.maxInput <= 0 {
		e.maxInput = DefaultMaxInput
	}
	if e.width <= 0 {
		e.width = DefaultWidth
	}
	if e.hist.maxLines == 0 {
		e.hist.maxLines = DefaultHistoryLines
	}
	if e.hist.maxBytes <= 0 {
		e.hist.maxBytes = DefaultHistoryBytes
	}
	return e
}

// result is what a key ends: a line, a paste, an answer or an error.
type result struct {
	line string
	yes  bool
	err  error
}

// ReadLine returns the next line typed, without its end. It returns
// io.EOF for ^D on an empty line or the end of In, ErrInterrupt for ^C,
// ErrSuspend for ^Z, ErrPaste with a paste of several lines, a wrapped
// ErrPasteTooLong, ErrClosed after Close, or the error of a Write.
func (e *Editor) ReadLine() (string, error) {
	e.readMu.Lock()
	defer e.readMu.Unlock()
	r := e.readLocked()
	return r.line, r.err
}

// Confirm shows question in place of the prompt and waits for y or n
// (Enter and ^D mean n); then the prompt and the line typed come back.
// It returns ErrInterrupt for ^C, and what ReadLine does for the end of
// In, Close or a failed Write.
func (e *Editor) Confirm(question string) (bool, error) {
	e.readMu.Lock()
	defer e.readMu.Unlock()
	e.mu.Lock()
	line, pos := e.line, e.pos
	e.clear()
	e.asked = e.prompt
	e.prompt, e.line, e.pos, e.lineBytes = printable(question), nil, 0, 0
	e.confirming = true
	e.mu.Unlock()
	r := e.readLocked()
	e.mu.Lock()
	e.confirming = false
	e.clear()
	e.prompt, e.line, e.pos = e.asked, line, pos
	e.lineBytes = runesLen(line)
	if !e.closed {
		e.draw()
	}
	e.flush()
	e.mu.Unlock()
	return r.yes, r.err
}

// readLocked decodes what was read and reads more until a key ends the
// call. e.readMu is held.
func (e *Editor) readLocked() result {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.shown && !e.closed {
		e.draw()
	}
	for {
		if e.closed {
			e.flush()
			return result{err: ErrClosed}
		}
		for len(e.unread) > 0 {
			b := e.unread[0]
			e.unread = e.unread[1:]
			if len(e.obuf) > maxPending {
				if err := e.flush(); err != nil {
					return result{err: err}
				}
			}
			if r, done := e.feed(b); done {
				if err := e.flush(); err != nil && r.err == nil {
					r.err = err
				}
				return r
			}
		}
		if err := e.flush(); err != nil {
			return result{err: err}
		}
		if e.rerr != nil {
			err := e.rerr
			e.rerr = nil
			return result{err: err}
		}
		e.mu.Unlock()
		n, err := e.in.Read(e.rbuf[:])
		e.mu.Lock()
		e.unread, e.rerr = e.rbuf[:n], err
	}
}

// Print prints line above the line being typed: it clears the prompt and
// the line, prints line and "\r\n", and draws them again with the cursor
// where it was. line is written as it is, so it must be safe to print
// (chat.AppendTerminal's lines are); a final "\n" or "\r\n" is dropped.
// Print may be called while ReadLine waits, from any goroutine.
func (e *Editor) Print(line []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.printLocked(trimEOL(line))
	e.flush()
}

// printLocked prints line above the input, as Print does. e.mu is held.
func (e *Editor) printLocked(line []byte) {
	e.clear()
	e.obuf = append(e.obuf, line...)
	e.obuf = append(e.obuf, '\r', '\n')
	if !e.closed {
		e.draw()
	}
}

// SetPrompt replaces the prompt, and redraws the input with it.
func (e *Editor) SetPrompt(prompt string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := printable(prompt)
	if e.confirming {
		e.asked = p // the prompt after the question
		return
	}
	if slices.Equal(p, e.prompt) {
		return
	}
	shown := e.shown
	e.clear()
	e.prompt = p
	if shown && !e.closed {
		e.draw()
	}
	e.flush()
}

// Resize tells the editor the terminal is now width columns wide, and
// redraws the input.
func (e *Editor) Resize(width int) {
	if width <= 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shown {
		// Some terminals rewrap the rows on a resize, some cut them:
		// the cursor's row is one of the two counts. Going up the fewer
		// rows never clears a printed line; a row of the old input may
		// stay on the screen.
		e.width = width
		row, _ := e.cursorAt(e.pos)
		e.cursorRow = min(e.cursorRow, row)
		e.clear()
	}
	e.width = width
	if !e.closed {
		e.draw()
	}
	e.flush()
}

// Redraw draws the prompt and the line typed again, on the row of the
// cursor (after ^Z and fg, or ^L).
func (e *Editor) Redraw() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clear()
	if !e.closed {
		e.draw()
	}
	e.flush()
}

// Close clears the prompt and the line typed from the screen, and ends
// ReadLine and Confirm: they return ErrClosed, at once or when their
// Read returns. Print still prints, without a prompt. Close closes
// neither In nor Out.
func (e *Editor) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.clear()
	e.closed = true
	return e.flush()
}

// feed decodes b and acts on the key it completes. It returns a result
// and true when the key ends ReadLine or Confirm. e.mu is held.
func (e *Editor) feed(b byte) (result, bool) {
	if e.pasting {
		return e.pasteByte(b)
	}
	k, ok := e.dec.feed(b)
	if !ok {
		return result{}, false
	}
	switch {
	case k == keyPasteStart:
		e.pasting, e.paste, e.pasteEnd, e.pasteTooBig = true, e.paste[:0], 0, false
		return result{}, false
	case e.confirming:
		return e.answer(k)
	}
	return e.handleKey(k)
}

// answer acts on k while Confirm waits.
func (e *Editor) answer(k key) (result, bool) {
	switch k {
	case 'y', 'Y':
		return result{yes: true}, true
	case 'n', 'N', keyEnter, keyCtrlD:
		return result{}, true
	case keyCtrlC:
		return result{err: ErrInterrupt}, true
	}
	return result{}, false
}

// handleKey acts on one key typed. e.mu is held.
func (e *Editor) handleKey(k key) (result, bool) {
	switch k {
	case keyEnter:
		line := string(e.line)
		e.hist.add(line)
		e.clear()
		e.line, e.pos, e.lineBytes = e.line[:0], 0, 0
		e.histIdx, e.draft = len(e.hist.lines), e.draft[:0]
		e.draw()
		return result{line: line}, true
	case keyCtrlC:
		return result{err: ErrInterrupt}, true
	case keyCtrlD:
		if len(e.line) == 0 {
			return result{err: io.EOF}, true
		}
		e.deleteRange(e.pos, e.nextStop(e.pos))
	case keyCtrlZ:
		e.clear()
		return result{err: ErrSuspend}, true
	case keyLeft, keyCtrlB:
		e.moveTo(e.prevStop(e.pos))
	case keyRight, keyCtrlF:
		e.moveTo(e.nextStop(e.pos))
	case keyWordLeft:
		e.moveTo(e.wordStart(e.pos))
	case keyWordRight:
		e.moveTo(e.wordEnd(e.pos))
	case keyHome, keyCtrlA:
		e.moveTo(0)
	case keyEnd, keyCtrlE:
		e.moveTo(len(e.line))
	case keyBackspace, keyCtrlH:
		e.deleteRange(e.prevStop(e.pos), e.pos)
	case keyDelete:
		e.deleteRange(e.pos, e.nextStop(e.pos))
	case keyCtrlW:
		e.deleteRange(e.wordStart(e.pos), e.pos)
	case keyCtrlU:
		e.deleteRange(0, e.pos)
	case keyCtrlK:
		e.deleteRange(e.pos, len(e.line))
	case keyUp, keyCtrlP:
		e.recall(-1)
	case keyDown, keyCtrlN:
		e.recall(+1)
	case keyTab:
		e.completeWord()
	case keyCtrlL:
		e.obuf = append(e.obuf, "\x1b[H\x1b[2J"...)
		e.shown, e.cursorRow = false, 0
		e.draw()
	default:
		if typable(k) {
			e.insert([]rune{k})
		}
	}
	return result{}, false
}

// pasteByte adds b to the bracketed paste, or ends it at the end marker
// ESC [ 2 0 1 ~. e.mu is held.
func (e *Editor) pasteByte(b byte) (result, bool) {
	const end = "\x1b[201~"
	if b == end[e.pasteEnd] {
		e.pasteEnd++
		if e.pasteEnd < len(end) {
			return result{}, false
		}
		e.pasting, e.pasteEnd = false, 0
		return e.endPaste()
	}
	// What matched of the marker is text after all. ESC appears once
	// in the marker, so b may only start it again.
	matched := e.pasteEnd
	e.pasteEnd = 0
	if r, done := e.pasteAppend(end[:matched]); done {
		return r, true
	}
	if b == end[0] {
		e.pasteEnd = 1
		return result{}, false
	}
	return e.pasteAppend(string(b))
}

// pasteAppend adds s to the paste, and refuses the paste once it passes
// MaxInput with what is typed.
func (e *Editor) pasteAppend(s string) (result, bool) {
	if e.pasteTooBig || s == "" {
		return result{}, false
	}
	if e.lineBytes+len(e.paste)+len(s) > e.maxInput {
		e.pasteTooBig, e.paste = true, e.paste[:0]
		return result{err: fmt.Errorf("%w: more than %d bytes with the line typed: not inserted", ErrPasteTooLong, e.maxInput)}, true
	}
	e.paste = append(e.paste, s...)
	return result{}, false
}

// endPaste inserts the paste at the cursor, or returns it with what was
// typed around it, as ErrPaste, when it holds more than one line.
func (e *Editor) endPaste() (result, bool) {
	if e.pasteTooBig || e.confirming {
		e.pasteTooBig, e.paste = false, e.paste[:0]
		return result{}, false
	}
	text := pasteText(e.paste)
	e.paste = e.paste[:0]
	if !slices.Contains(text, '\n') {
		e.insert(text)
		return result{}, false
	}
	all := string(e.line[:e.pos]) + string(text) + string(e.line[e.pos:])
	e.clear()
	e.line, e.pos, e.lineBytes = e.line[:0], 0, 0
	e.draw()
	return result{line: all, err: ErrPaste}, true
}

// pasteText returns the runes of a paste that may be inserted: valid
// UTF-8, line ends as "\n" (none at the end), a tab as a space, no other
// control or reordering character.
func pasteText(b []byte) []rune {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimRight(s, "\r\n")
	var out []rune
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			out = append(out, '\n')
		case r == '\t':
			out = append(out, ' ')
		case typable(r):
			out = append(out, r)
		}
	}
	return out
}

// typable reports whether r may be part of a line: no control character,
// and none of the characters that reorder what follows them (bidi
// controls), which would make the line shown differ from the line sent.
func typable(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
		return false
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return false
	case r >= keyUp && r <= 0xdfff, r > utf8.MaxRune:
		return false
	}
	return true
}

// printable returns the typable runes of s, for a prompt.
func printable(s string) []rune {
	var out []rune
	for _, r := range s {
		if typable(r) {
			out = append(out, r)
		}
	}
	return out
}

// insert puts rs at the cursor if the line stays within MaxInput.
func (e *Editor) insert(rs []rune) {
	n := runesLen(rs)
	if e.lineBytes+n > e.maxInput {
		e.obuf = append(e.obuf, '\a')
		return
	}
	e.lineBytes += n
	atEnd := e.pos == len(e.line)
	e.line = slices.Insert(e.line, e.pos, rs...)
	e.pos += len(rs)
	if atEnd && e.shown && len(rs) == 1 {
		// Typing at the end: the character alone, unless it reaches the
		// last column or is of no width.
		row, col := e.layout(len(e.line) - 1)
		if w := RuneWidth(rs[0]); w > 0 && col+w < e.width && row == e.cursorRow {
			e.obuf = utf8.AppendRune(e.obuf, rs[0])
			return
		}
	}
	e.redraw()
}

// deleteRange removes line[from:to] and puts the cursor at from.
func (e *Editor) deleteRange(from, to int) {
	if from >= to {
		return
	}
	e.lineBytes -= runesLen(e.line[from:to])
	e.line = slices.Delete(e.line, from, to)
	e.pos = from
	e.redraw()
}

// moveTo puts the cursor at i.
func (e *Editor) moveTo(i int) {
	if i == e.pos {
		return
	}
	e.pos = i
	row, col := e.cursorAt(i)
	e.moveCursor(row, col)
}

// recall shows the history line dir from the one shown (-1: older).
func (e *Editor) recall(dir int) {
	i := e.histIdx + dir
	if i < 0 || i > len(e.hist.lines) {
		return
	}
	if e.histIdx == len(e.hist.lines) {
		e.draft = append(e.draft[:0], e.line...)
	}
	e.histIdx = i
	if i == len(e.hist.lines) {
		e.line = append(e.line[:0], e.draft...)
	} else {
		e.line = append(e.line[:0], []rune(e.hist.lines[i])...)
	}
	e.pos, e.lineBytes = len(e.line), runesLen(e.line)
	e.redraw()
}

// maxListed bounds the completions listed when tab finds several.
const maxListed = 40

// completeWord completes the word before the cursor: to the one
// completion, or to what all completions share; when that adds nothing,
// they are listed above the line.
func (e *Editor) completeWord() {
	if e.complete == nil {
		return
	}
	start := e.pos
	for start > 0 && e.line[start-1] != ' ' {
		start--
	}
	word := string(e.line[start:e.pos])
	// Complete runs without the mutex, so that it may take locks of its
	// own that a goroutine in Print holds; ReadLine still holds readMu,
	// so the line does not change meanwhile.
	e.mu.Unlock()
	cands := e.complete(word)
	e.mu.Lock()
	if len(cands) == 0 || e.closed {
		return
	}
	common := cands[0]
	for _, c := range cands[1:] {
		common = commonPrefix(common, c)
	}
	add := []rune(common)
	if len(cands) == 1 && !strings.HasSuffix(common, " ") && (e.pos == len(e.line) || e.line[e.pos] != ' ') {
		add = append(add, ' ')
	}
	if len(cands) > 1 && (common == word || !strings.HasPrefix(common, word)) {
		// Nothing to add (or the completions differ from the word in
		// case): list them.
		var list []byte
		for i, c := range cands {
			if i == maxListed {
				list = fmt.Appendf(list, "  (%d more)", len(cands)-i)
				break
			}
			if i > 0 {
				list = append(list, "  "...)
			}
			list = append(list, string(printable(c))...)
		}
		e.printLocked(list)
		return
	}
	rest := e.line[e.pos:]
	newLine := slices.Concat(e.line[:start], printable(string(add)), rest)
	if n := runesLen(newLine); n <= e.maxInput {
		e.pos = len(newLine) - len(rest)
		e.line, e.lineBytes = newLine, n
		e.redraw()
	}
}

// commonPrefix returns the longest prefix of a and b, in whole runes.
func commonPrefix(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) {
		ra, n := utf8.DecodeRuneInString(a[i:])
		rb, _ := utf8.DecodeRuneInString(b[i:])
		if ra != rb {
			break
		}
		i += n
	}
	return a[:i]
}

// prevStop returns where left moves the cursor from i: before the
// character before it, with the characters of no width that follow
// that one (a letter and its accents move together).
func (e *Editor) prevStop(i int) int {
	for i > 0 {
		i--
		if RuneWidth(e.line[i]) > 0 {
			break
		}
	}
	return i
}

// nextStop returns where right moves the cursor from i: past the
// character at i and the characters of no width after it.
func (e *Editor) nextStop(i int) int {
	if i < len(e.line) {
		i++
	}
	for i < len(e.line) && RuneWidth(e.line[i]) == 0 {
		i++
	}
	return i
}

// wordStart returns the start of the word before i.
func (e *Editor) wordStart(i int) int {
	for i > 0 && e.line[i-1] == ' ' {
		i--
	}
	for i > 0 && e.line[i-1] != ' ' {
		i--
	}
	return i
}

// wordEnd returns the end of the word after i.
func (e *Editor) wordEnd(i int) int {
	for i < len(e.line) && e.line[i] == ' ' {
		i++
	}
	for i < len(e.line) && e.line[i] != ' ' {
		i++
	}
	return i
}

func runesLen(rs []rune) int {
	n := 0
	for _, r := range rs {
		n += utf8.RuneLen(r)
	}
	return n
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
