package chat

import "testing"

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
