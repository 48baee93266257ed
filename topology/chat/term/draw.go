package term

import (
	"strconv"
	"unicode/utf8"
)

// Drawing: the prompt and the line typed take the last rows of the
// screen, the input area; lines printed go above it. The editor keeps
// the cursor's row in the input area, so that it can go back to the
// area's start, and computes every position from the widths of the
// characters (RuneWidth), with the terminal's rule for wrapping: a
// character that does not fit on the rest of a row starts the next one.
//
// The escape sequences written are few, and every terminal since the
// VT100 has them: CR, CRLF, CUU (ESC [ n A), CUD (ESC [ n B), CUF
// (ESC [ n C), ED (ESC [ J, and ESC [ H ESC [ 2 J for ^L), EL (ESC [ K)
// and BEL when a line is full.

// advance returns where the terminal puts the cursor after a character
// of width w written at row, col. col may come out as e.width: the
// cursor then waits on the last column for the next character to wrap.
func (e *Editor) advance(row, col, w int) (int, int) {
	if w > 0 && col+w > e.width {
		row, col = row+1, 0
	}
	return row, col + w
}

// layout returns the position after the prompt and line[:n], counted
// from the start of the input area.
func (e *Editor) layout(n int) (row, col int) {
	for _, r := range e.prompt {
		row, col = e.advance(row, col, RuneWidth(r))
	}
	for _, r := range e.line[:n] {
		row, col = e.advance(row, col, RuneWidth(r))
	}
	return row, col
}

// cursorAt returns where the cursor shows when it is before line[i]: at
// the start of the next row when the row is full, or when line[i] is a
// wide character that does not fit on the row's rest.
func (e *Editor) cursorAt(i int) (row, col int) {
	row, col = e.layout(i)
	if col >= e.width || i < len(e.line) && col+RuneWidth(e.line[i]) > e.width {
		return row + 1, 0
	}
	return row, col
}

// clear takes the input area off the screen, leaving the cursor at the
// start of its first row.
func (e *Editor) clear() {
	if !e.shown {
		return
	}
	e.toStart()
	e.obuf = append(e.obuf, "\x1b[J"...)
	e.shown = false
}

// toStart moves the cursor to the start of the input area.
func (e *Editor) toStart() {
	e.obuf = appendCSI(e.obuf, e.cursorRow, 'A')
	e.obuf = append(e.obuf, '\r')
	e.cursorRow = 0
}

// redraw draws the input area again, over itself.
func (e *Editor) redraw() {
	if !e.shown {
		e.draw()
		return
	}
	e.toStart()
	e.draw()
}

// draw writes the prompt and the line from the start of the input area,
// clears what was below them, and puts the cursor at e.pos.
func (e *Editor) draw() {
	row, col := 0, 0
	put := func(r rune) {
		w := RuneWidth(r)
		if w > 0 && col < e.width && col+w > e.width {
			// A wide character that does not fit: the terminal wraps it
			// but leaves the row's last column as it was.
			e.obuf = append(e.obuf, "\x1b[K\r\n"...)
		}
		row, col = e.advance(row, col, w)
		e.obuf = utf8.AppendRune(e.obuf, r)
	}
	for _, r := range e.prompt {
		put(r)
	}
	for _, r := range e.line {
		put(r)
	}
	if col >= e.width {
		// Out of the waiting state on the last column, which ED would
		// clear and which moves differently in different terminals.
		e.obuf = append(e.obuf, '\r', '\n')
		row, col = row+1, 0
	}
	e.obuf = append(e.obuf, "\x1b[J"...)
	e.shown, e.cursorRow = true, row
	if r, c := e.cursorAt(e.pos); r != row || c != col {
		e.moveCursor(r, c)
	}
}

// moveCursor moves the cursor to row, col of the input area.
func (e *Editor) moveCursor(row, col int) {
	if row < e.cursorRow {
		e.obuf = appendCSI(e.obuf, e.cursorRow-row, 'A')
	} else {
		e.obuf = appendCSI(e.obuf, row-e.cursorRow, 'B')
	}
	e.obuf = append(e.obuf, '\r')
	e.obuf = appendCSI(e.obuf, col, 'C')
	e.cursorRow = row
}

// appendCSI appends ESC [ n final, nothing when n is 0.
func appendCSI(b []byte, n int, final byte) []byte {
	if n <= 0 {
		return b
	}
	b = append(b, "\x1b["...)
	if n > 1 {
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, final)
}

// maxPending bounds the output gathered before it is written.
const maxPending = 32 << 10

// flush writes the output gathered, and returns the first error a Write
// returned, now or before: after one, nothing more is written.
func (e *Editor) flush() error {
	if len(e.obuf) > 0 && e.werr == nil {
		_, e.werr = e.out.Write(e.obuf)
	}
	e.obuf = e.obuf[:0]
	if cap(e.obuf) > 2*maxPending {
		e.obuf = nil
	}
	return e.werr
}
