package chat

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"scuttle/applog/names/glyph"
)

// Escape makes s safe to print as part of one line (see AppendEscaped),
// so that no peer can print a line of its own making, such as "info> …",
// or drive the terminal. Every string a peer controls (a name, a
// message, an entry, an mDNS instance name or TXT value) passes through
// it, or through AppendEscaped, before it reaches a terminal: the chat's
// lines and the commands that list names, peers, entries and what
// doctor found.
func Escape(s string) string {
	return string(AppendEscaped(nil, []byte(s), ""))
}

// maxBlanks is the longest run of blanks printed as it is; a longer run
// could push what follows to the start of a terminal row of its own,
// where it would read as a line ("ok", 80 spaces, "bob> …").
const maxBlanks = 8

// AppendEscaped appends s so that it prints as part of one line and shows
// every byte: \n \r \t, \xHH for other control bytes, DEL and bytes that
// are not UTF-8, \uHHHH (\UHHHHHHHH above U+FFFF) for C1 controls, the
// line and paragraph separators (which end a line in some terminals and
// in JavaScript) and the characters that print as nothing or reorder the
// line (glyph.Invisible: zero-width characters, joiners, bidi controls,
// the other default-ignorables), " [N blanks] " for a run of more than
// maxBlanks blanks (spaces and the other blank characters), and a
// backslash before each byte of special. Other printable UTF-8 is kept.
func AppendEscaped(b, s []byte, special string) []byte {
	const hex = "0123456789abcdef"
	for len(s) > 0 {
		if n, size := blankRun(s, special); n > maxBlanks {
			b = append(b, " ["...)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, " blanks] "...)
			s = s[size:]
			continue
		}
		r, size := utf8.DecodeRune(s)
		switch {
		case r < utf8.RuneSelf && strings.IndexByte(special, byte(r)) >= 0:
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f:
			b = append(b, '\\', 'x', hex[s[0]>>4], hex[s[0]&0xf])
		case r > 0xffff && glyph.Invisible(r):
			b = append(b, '\\', 'U')
			for shift := 28; shift >= 0; shift -= 4 {
				b = append(b, hex[r>>shift&0xf])
			}
		case r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029, glyph.Invisible(r):
			b = append(b, '\\', 'u', hex[r>>12], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			b = append(b, s[:size]...)
		}
		s = s[size:]
	}
	return b
}

// blankRun returns how many blanks s starts with, and their length in
// bytes: printable blanks only (a tab or a line end is escaped instead),
// none of them special.
func blankRun(s []byte, special string) (n, size int) {
	for size < len(s) {
		r, w := utf8.DecodeRune(s[size:])
		if !glyph.Blank(r) || r < 0x20 || r == 0x85 || r == 0x2028 || r == 0x2029 ||
			r < utf8.RuneSelf && strings.IndexByte(special, byte(r)) >= 0 {
			break
		}
		n, size = n+1, size+w
	}
	return n, size
}
