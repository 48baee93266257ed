package chat

import (
	"strings"
	"unicode/utf8"
)

// Escape makes s safe to print as part of one line (see AppendEscaped),
// so that no peer can print a line of its own making, such as "info> …",
// or drive the terminal. Every string a peer controls (a name, a
// message, an entry) passes through it, or through AppendEscaped,
// before it reaches a terminal: the chat's lines and the commands that
// list names, peers and entries.
func Escape(s string) string {
	return string(AppendEscaped(nil, []byte(s), ""))
}

// AppendEscaped appends s so that it prints as part of one line and shows
// every byte: \n \r \t, \xHH for other control bytes, DEL and bytes that
// are not UTF-8, \uHHHH for C1 controls and the line and paragraph
// separators (which end a line in some terminals and in JavaScript), and a
// backslash before each byte of special. Printable UTF-8 is kept.
func AppendEscaped(b, s []byte, special string) []byte {
	const hex = "0123456789abcdef"
	for len(s) > 0 {
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
		case r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029:
			b = append(b, '\\', 'u', hex[r>>12], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			b = append(b, s[:size]...)
		}
		s = s[size:]
	}
	return b
}
