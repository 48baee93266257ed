package term

import "unicode/utf8"

// Keys: the bytes a terminal sends, decoded one byte at a time, so that
// an escape sequence or a character split between two reads decodes the
// same as one read whole. The decoder holds at most one unfinished
// sequence, of bounded length.

// A key is a character typed, or one of the special keys below. Special
// keys are runes of the surrogate range, which no UTF-8 decodes to, so
// that none can be typed as text.
type key = rune

const (
	keyUp = 0xd800 + iota
	keyDown
	keyLeft
	keyRight
	keyWordLeft
	keyWordRight
	keyHome
	keyEnd
	keyDelete
	keyPasteStart
	keyPasteEnd
)

// The control keys the editor knows, as the bytes they send (untyped:
// they compare with bytes and keys alike).
const (
	keyCtrlA     = 0x01 // home
	keyCtrlB     = 0x02 // left
	keyCtrlC     = 0x03 // interrupt
	keyCtrlD     = 0x04 // end of input on an empty line, else delete
	keyCtrlE     = 0x05 // end
	keyCtrlF     = 0x06 // right
	keyCtrlH     = 0x08 // backspace
	keyTab       = 0x09
	keyLF        = 0x0a
	keyCtrlK     = 0x0b // delete to the end
	keyCtrlL     = 0x0c // redraw
	keyEnter     = 0x0d
	keyCtrlN     = 0x0e // down
	keyCtrlP     = 0x10 // up
	keyCtrlU     = 0x15 // delete to the start
	keyCtrlW     = 0x17 // delete the word before the cursor
	keyCtrlZ     = 0x1a // suspend
	keyEscape    = 0x1b
	keyBackspace = 0x7f
)

// maxParams bounds the parameter bytes of an escape sequence; a longer
// one is read to its end and ignored.
const maxParams = 16

// decoder turns bytes into keys. Its zero value is ready.
type decoder struct {
	st     decState
	params [maxParams]byte // the parameter bytes of a CSI sequence
	np     int             // len of params used; maxParams+1: too long
	utf    [utf8.UTFMax]byte
	nu     int  // bytes of utf gathered
	need   int  // bytes of the character in utf
	lastCR bool // the last byte was "\r": a "\n" right after it is the same Enter
}

type decState uint8

const (
	decGround decState = iota
	decEscape          // after ESC
	decCSI             // after ESC [
	decSS3             // after ESC O
	decUTF8            // inside a multi-byte character
)

// feed decodes b and returns the key it completes, if any.
func (d *decoder) feed(b byte) (key, bool) {
	switch d.st {
	case decEscape:
		switch b {
		case '[':
			d.st, d.np = decCSI, 0
			return 0, false
		case 'O':
			d.st = decSS3
			return 0, false
		case keyEscape:
			return 0, false // ESC ESC: the first one is dropped
		}
		d.st = decGround
		switch b {
		case 'b', 'B':
			return keyWordLeft, true
		case 'f', 'F':
			return keyWordRight, true
		case keyBackspace, keyCtrlH:
			return keyCtrlW, true // alt-backspace
		}
		return d.ground(b) // an alt-modified key: the key alone
	case decCSI:
		switch {
		case b >= 0x20 && b <= 0x3f: // parameters and intermediates
			if d.np < maxParams {
				d.params[d.np] = b
			}
			if d.np <= maxParams {
				d.np++
			}
			return 0, false
		case b >= 0x40 && b <= 0x7e:
			d.st = decGround
			if d.np > maxParams {
				return 0, false
			}
			return csiKey(string(d.params[:d.np]), b)
		}
		d.st = decGround // a control byte cuts the sequence short
		return d.ground(b)
	case decSS3:
		d.st = decGround
		return csiKey("", b)
	case decUTF8:
		if b&0xc0 != 0x80 { // not a continuation byte: drop the character
			d.st = decGround
			return d.ground(b)
		}
		d.utf[d.nu] = b
		d.nu++
		if d.nu < d.need {
			return 0, false
		}
		d.st = decGround
		r, size := utf8.DecodeRune(d.utf[:d.nu])
		if r == utf8.RuneError && size <= 1 {
			return 0, false // overlong, a surrogate, or past U+10FFFF
		}
		return r, true
	}
	return d.ground(b)
}

// ground decodes b outside any sequence.
func (d *decoder) ground(b byte) (key, bool) {
	cr := d.lastCR
	d.lastCR = b == '\r'
	switch {
	case b == keyEscape:
		d.st = decEscape
		return 0, false
	case b == '\n' && cr:
		return 0, false
	case b == '\n':
		return keyEnter, true
	case b < utf8.RuneSelf:
		return key(b), true
	case b >= 0xc2 && b <= 0xf4:
		d.st, d.nu = decUTF8, 1
		d.utf[0] = b
		d.need = 2
		if b >= 0xe0 {
			d.need = 3
		}
		if b >= 0xf0 {
			d.need = 4
		}
		return 0, false
	}
	return 0, false // a stray continuation byte, or one no UTF-8 has
}

// csiKey returns the key of the sequence ESC [ params final (or ESC O
// final, with no params), if it is one the editor knows.
func csiKey(params string, final byte) (key, bool) {
	// "1;5C": the key with a modifier (2 shift, 3 alt, 5 ctrl); alt and
	// ctrl make left and right move by words.
	mod := ""
	if len(params) > 2 && params[:2] == "1;" {
		params, mod = "", params[2:]
	}
	word := mod == "3" || mod == "5"
	if params == "" {
		switch final {
		case 'A':
			return keyUp, true
		case 'B':
			return keyDown, true
		case 'C':
			if word {
				return keyWordRight, true
			}
			return keyRight, true
		case 'D':
			if word {
				return keyWordLeft, true
			}
			return keyLeft, true
		case 'H':
			return keyHome, true
		case 'F':
			return keyEnd, true
		}
		return 0, false
	}
	if final != '~' {
		return 0, false
	}
	switch params {
	case "1", "7":
		return keyHome, true
	case "4", "8":
		return keyEnd, true
	case "3":
		return keyDelete, true
	case "200":
		return keyPasteStart, true
	case "201":
		return keyPasteEnd, true
	}
	return 0, false
}
