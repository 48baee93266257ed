package testkit

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A VT is a terminal screen for tests: it interprets what a program
// writes to a terminal, as far as the chat's line editor uses escape
// sequences, and shows the rows of text that result. Unknown sequences
// are kept in Unknown, so that a test can fail on them.
type VT struct {
	width, height int
	runeWidth     func(rune) int
	rows          [][]string // each cell's text: " " blank, "" right of a wide character
	scrolled      []string   // the rows that scrolled off the top
	row, col      int
	wrapNext      bool   // the cursor waits on the last column
	seq           []byte // an escape sequence or character begun
	Unknown       []string
}

// NewVT returns a blank screen of width columns and height rows whose
// characters take runeWidth columns (0, 1 or 2).
func NewVT(width, height int, runeWidth func(rune) int) *VT {
	v := &VT{width: width, height: height, runeWidth: runeWidth}
	for range height {
		v.rows = append(v.rows, v.blank())
	}
	return v
}

func (v *VT) blank() []string {
	row := make([]string, v.width)
	blankCells(row)
	return row
}

// blankCells makes cells blank.
func blankCells(cells []string) {
	for i := range cells {
		cells[i] = " "
	}
}

// Resize makes the screen width columns wide, cutting or padding each
// row as xterm does (it does not rewrap rows).
func (v *VT) Resize(width int) {
	for i, r := range v.rows {
		if width < len(r) {
			v.rows[i] = r[:width]
		} else {
			pad := make([]string, width-len(r))
			blankCells(pad)
			v.rows[i] = append(r, pad...)
		}
	}
	v.width = width
	v.col = min(v.col, width-1)
	v.wrapNext = false
}

// Write interprets p; an escape sequence or character may be split
// across writes.
func (v *VT) Write(p []byte) (int, error) {
	for _, b := range p {
		v.byte(b)
	}
	return len(p), nil
}

func (v *VT) byte(b byte) {
	if len(v.seq) > 0 {
		v.seq = append(v.seq, b)
		if v.seq[0] == 0x1b {
			v.escape()
		} else if utf8.FullRune(v.seq) {
			r, _ := utf8.DecodeRune(v.seq)
			v.seq = v.seq[:0]
			v.put(r)
		}
		return
	}
	switch {
	case b == 0x1b || b >= 0x80:
		v.seq = append(v.seq, b)
	case b == '\r':
		v.col, v.wrapNext = 0, false
	case b == '\n':
		v.down()
	case b == '\a':
	case b == '\b':
		if v.col > 0 {
			v.col--
		}
		v.wrapNext = false
	case b < 0x20 || b == 0x7f:
		v.Unknown = append(v.Unknown, fmt.Sprintf("%q", b))
	default:
		v.put(rune(b))
	}
}

// escape interprets v.seq once it is a whole sequence.
func (v *VT) escape() {
	s := v.seq
	if len(s) < 2 || s[1] == '[' && (len(s) < 3 || s[len(s)-1] < 0x40 || s[len(s)-1] > 0x7e) {
		return // not whole yet
	}
	v.seq = v.seq[:0]
	if s[1] != '[' {
		v.Unknown = append(v.Unknown, fmt.Sprintf("%q", s))
		return
	}
	params, final := string(s[2:len(s)-1]), s[len(s)-1]
	if strings.HasPrefix(params, "?") && (final == 'h' || final == 'l') {
		return // a private mode, such as bracketed paste: not shown
	}
	n := 1
	if params != "" && final != 'm' {
		var err error
		if n, err = strconv.Atoi(params); err != nil {
			if final == 'J' && params == "2" {
				n = 2
			} else {
				v.Unknown = append(v.Unknown, fmt.Sprintf("%q", s))
				return
			}
		}
	}
	v.wrapNext = false
	switch final {
	case 'A':
		v.row = max(v.row-n, 0)
	case 'B':
		v.row = min(v.row+n, v.height-1)
	case 'C':
		v.col = min(v.col+n, v.width-1)
	case 'D':
		v.col = max(v.col-n, 0)
	case 'H':
		v.row, v.col = 0, 0
	case 'J':
		if params == "2" {
			for i := range v.rows {
				v.rows[i] = v.blank()
			}
			return
		}
		blankCells(v.rows[v.row][v.col:])
		for i := v.row + 1; i < v.height; i++ {
			v.rows[i] = v.blank()
		}
	case 'K':
		blankCells(v.rows[v.row][v.col:])
	case 'm': // colours: not shown
	default:
		v.Unknown = append(v.Unknown, fmt.Sprintf("%q", s))
	}
}

// put writes r at the cursor, as a terminal does: a character that does
// not fit on the row's rest wraps to the next.
func (v *VT) put(r rune) {
	w := v.runeWidth(r)
	if w == 0 {
		// Drawn on the character before.
		c := v.col - 1
		if v.wrapNext {
			c = v.width - 1
		}
		for c > 0 && v.rows[v.row][c] == "" {
			c--
		}
		if c >= 0 {
			v.rows[v.row][c] += string(r)
		}
		return
	}
	if v.wrapNext || v.col+w > v.width {
		v.col, v.wrapNext = 0, false
		v.down()
	}
	v.rows[v.row][v.col] = string(r)
	for i := 1; i < w; i++ {
		v.rows[v.row][v.col+i] = ""
	}
	v.col += w
	if v.col >= v.width {
		v.col, v.wrapNext = v.width-1, true
	}
}

// down moves the cursor one row down, scrolling at the bottom.
func (v *VT) down() {
	v.wrapNext = false
	if v.row < v.height-1 {
		v.row++
		return
	}
	v.scrolled = append(v.scrolled, rowString(v.rows[0]))
	v.rows = append(v.rows[1:], v.blank())
}

func rowString(cells []string) string {
	var b strings.Builder
	for _, c := range cells {
		b.WriteString(c)
	}
	return strings.TrimRight(b.String(), " ")
}

// Rows returns the rows of the screen, without trailing blanks; a wide
// character's second column shows as nothing.
func (v *VT) Rows() []string {
	out := make([]string, len(v.rows))
	for i, r := range v.rows {
		out[i] = rowString(r)
	}
	return out
}

// Lines returns the rows that scrolled off the top, then the screen's
// rows, without the blank rows at the bottom.
func (v *VT) Lines() []string {
	out := append(append([]string(nil), v.scrolled...), v.Rows()...)
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// Cursor returns the cursor's row and column on the screen.
func (v *VT) Cursor() (row, col int) { return v.row, v.col }
