package chat

import (
	"strings"
	"testing"
	"unicode/utf8"

	"scuttle/applog/names/glyph"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, special, want string
	}{
		{"printable", "zoë ☃ it's", "", "zoë ☃ it's"},
		{"line ends", "a\nb\rc\td", "", `a\nb\rc\td`},
		{"control bytes", "\x00\x1b[31m\x7f", "", `\x00\x1b[31m\x7f`},
		{"not UTF-8", "\xff\xc3", "", `\xff\xc3`},
		{"C1 control", "\u009b", "", `\u009b`},
		{"line and paragraph separators", "\u2028\u2029", "", `\u2028\u2029`},
		{"special bytes", `it's a \`, `'\`, `it\'s a \\`},
		{"bidi override", "abc\u202edcba", "", `abc\u202edcba`},
		{"bidi isolates and marks", "\u2066\u2067\u2068\u2069\u200e\u200f\u061c", "", `\u2066\u2067\u2068\u2069\u200e\u200f\u061c`},
		{"zero-width", "b\u200bo\u200cb\u200d\u2060\ufeff", "", `b\u200bo\u200cb\u200d\u2060\ufeff`},
		{"other default-ignorables", "\u00ad\u034f\u3164\ufe0f\U000e0041", "", `\u00ad\u034f\u3164\ufe0f\U000e0041`},
		{"a few blanks are kept", "a" + strings.Repeat(" ", 8) + "b\u00a0c", "", "a        b\u00a0c"},
		{"a long run of blanks", "ok" + strings.Repeat(" ", 200) + "bob> hi", "", "ok [200 blanks] bob> hi"},
		{"a long run of other blanks", "ok" + strings.Repeat("\u3000\u2800\u00a0", 30) + "bob> hi", "", "ok [90 blanks] bob> hi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendEscaped(nil, []byte(tt.in), tt.special)); got != tt.want {
				t.Errorf("AppendEscaped(%q, %q) = %q, want %q", tt.in, tt.special, got, tt.want)
			}
			if tt.special == "" {
				if got := Escape(tt.in); got != tt.want {
					t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
				}
			}
		})
	}
}

// FuzzEscape checks AppendEscaped on any bytes: its output is valid
// UTF-8 with no control character, nothing invisible, no line separator
// and no run of more than maxBlanks blanks, so it prints as part of one
// line whatever a peer sends.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"hi", "a\nb", "\x1b[31m", "\u202e", "ok" + strings.Repeat(" ", 100) + "bob> x", "\xff", "\U000e0041"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := AppendEscaped(nil, in, "")
		if !utf8.Valid(out) {
			t.Fatalf("AppendEscaped(%q) = %q: not UTF-8", in, out)
		}
		blanks := 0
		for _, r := range string(out) {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 || glyph.Invisible(r) {
				t.Fatalf("AppendEscaped(%q) = %q keeps %U", in, out, r)
			}
			if blanks = blanks + 1; !glyph.Blank(r) {
				blanks = 0
			}
			if blanks > maxBlanks {
				t.Fatalf("AppendEscaped(%q) = %q keeps a run of %d blanks", in, out, blanks)
			}
		}
	})
}
