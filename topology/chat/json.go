package chat

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"scuttle/applog/names/glyph"
)

// JSON output: what the commands print with --json, and any JSON a
// front end shows, holds strings a peer controls (names, messages,
// instance names, TXT values). encoding/json escapes control characters,
// U+2028 and U+2029 and <, > and &, but leaves the characters that print
// as nothing or reorder a line (zero-width characters, bidi overrides),
// and C1 controls, which some terminals obey, as they are. AppendJSON
// escapes those too, as Escape does, so JSON printed to a terminal hides
// nothing either; it stays JSON that decodes to the same string.

// AppendJSON appends s to b as a JSON string, quotes included. Like
// encoding/json, it escapes ", \ and control characters (\n, \r, \t,
// else \u00XX), <, > and & (as \u003c, \u003e, \u0026), U+2028 and
// U+2029, and writes each byte that is not UTF-8 as \ufffd. Beyond it,
// DEL, the C1 controls, every character AppendEscaped shows escaped as
// invisible or bidi (glyph.Invisible), and each blank of a run of more
// than maxBlanks of them are written as \uXXXX (a UTF-16 surrogate pair
// above U+FFFF), so that no string can hide, reorder or push text onto
// a terminal row of its own. Decoding the result gives s back, with
// U+FFFD for each byte that is not UTF-8.
func AppendJSON(b, s []byte) []byte {
	b = append(b, '"')
	for len(s) > 0 {
		if i := plainASCII(s); i > 0 { // the common case, taken whole
			b = append(b, s[:i]...)
			s = s[i:]
			continue
		}
		if n, size := blankRun(s, ""); n > maxBlanks {
			for _, r := range string(s[:size]) {
				b = appendJSONRune(b, r)
			}
			s = s[size:]
			continue
		}
		r, size := utf8.DecodeRune(s)
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r < 0x20, r == '<', r == '>', r == '&', r == 0x7f,
			r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029, glyph.Invisible(r):
			b = appendJSONRune(b, r)
		default:
			b = append(b, s[:size]...)
		}
		s = s[size:]
	}
	return append(b, '"')
}

// plainASCII returns how many bytes s starts with that AppendJSON
// writes as they are: printable ASCII but the blank, ", \, <, > and &.
func plainASCII(s []byte) int {
	for i, c := range s {
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return i
		}
	}
	return len(s)
}

// appendJSONRune appends r as \uXXXX, or as a surrogate pair of them
// above U+FFFF.
func appendJSONRune(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	u := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	if r > 0xffff {
		r -= 0x10000
		return u(u(b, 0xd800+(r>>10)), 0xdc00+(r&0x3ff))
	}
	return u(b, r)
}

// AppendJSONValue appends v's JSON encoding, as encoding/json makes it
// (v must marshal), with every string in it, keys included, written by
// AppendJSON: the JSON of a command's --json output.
func AppendJSONValue(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	for i := 0; i < len(j); {
		if j[i] != '"' {
			b = append(b, j[i])
			i++
			continue
		}
		end := i + 1 // the closing quote: encoding/json's strings escape every other
		for ; j[end] != '"'; end++ {
			if j[end] == '\\' {
				end++
			}
		}
		var s string
		if err := json.Unmarshal(j[i:end+1], &s); err != nil {
			return b, fmt.Errorf("chat: re-escaping JSON: %w", err)
		}
		b = AppendJSON(b, []byte(s))
		i = end + 1
	}
	return b, nil
}
