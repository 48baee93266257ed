package chat

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"scuttle/applog/names/glyph"
)

func TestAppendJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"bob", `"bob"`},
		{"zoë ☃", `"zoë ☃"`},
		{`say "hi" \ there`, `"say \"hi\" \\ there"`},
		{"a\nb\rc\td\x00\x1b[31m", `"a\nb\rc\td\u0000\u001b[31m"`},
		{"<script>&", `"\u003cscript\u003e\u0026"`},
		{"\x7f\u0085\u009b", `"\u007f\u0085\u009b"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"bob\u200b\u200d\u2060\ufeff", `"bob\u200b\u200d\u2060\ufeff"`},
		{"\u202eevil\u202c\u2066x\u2069", `"\u202eevil\u202c\u2066x\u2069"`},
		{"tag\U000e0041", `"tag\udb40\udc41"`},
		{"\xff\xfe", `"\ufffd\ufffd"`},
		{"ok" + strings.Repeat(" ", 8) + "x", `"ok        x"`},
		{"ok" + strings.Repeat(" ", 9) + "bob> x", `"ok` + strings.Repeat(`\u0020`, 9) + `bob\u003e x"`},
		{"a\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000b", `"a` + strings.Repeat(`\u3000`, 9) + `b"`},
	}
	for _, tt := range tests {
		if got := string(AppendJSON(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("AppendJSON(%+q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestAppendJSONValue: every string of a value, keys and nested ones
// too, is written by AppendJSON; the rest is encoding/json's.
func TestAppendJSONValue(t *testing.T) {
	v := struct {
		Name  string            `json:"name"`
		Addrs []string          `json:"addrs"`
		Port  int               `json:"port"`
		TXT   map[string]string `json:"txt,omitempty"`
		Empty string            `json:"empty,omitempty"`
	}{"bob\u202e", []string{"10.0.0.1", "a\"\\\u200bb"}, 4000, map[string]string{"id\u2066": "x<y"}, ""}
	got, err := AppendJSONValue([]byte("> "), v)
	if err != nil {
		t.Fatal(err)
	}
	want := `> {"name":"bob\u202e","addrs":["10.0.0.1","a\"\\\u200bb"],"port":4000,"txt":{"id\u2066":"x\u003cy"}}`
	if string(got) != want {
		t.Errorf("AppendJSONValue = %s\nwant            %s", got, want)
	}
	if _, err := AppendJSONValue(nil, func() {}); err == nil {
		t.Error("AppendJSONValue of a func: no error")
	}
}

// FuzzAppendJSON checks AppendJSON on any bytes: its output is valid
// JSON, decodes (with encoding/json) to the input with U+FFFD for each
// byte that is not UTF-8, and holds no control character, nothing
// invisible, no line separator and no run of more than maxBlanks
// blanks, so that it prints on one line and hides nothing.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{"hi", "a\nb", "\x1b[31m", "\u202e", "ok" + strings.Repeat(" ", 100) + "bob> x", "\xff", "\U000e0041", `"\`, "<&>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := AppendJSON(nil, in)
		if !json.Valid(out) {
			t.Fatalf("AppendJSON(%q) = %s: not JSON", in, out)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("AppendJSON(%q) = %s: %v", in, out, err)
		}
		var want strings.Builder
		for s := in; len(s) > 0; {
			r, size := utf8.DecodeRune(s)
			want.WriteRune(r) // RuneError for a byte that is not UTF-8
			s = s[size:]
		}
		if got != want.String() {
			t.Fatalf("AppendJSON(%q) = %s decodes to %q, want %q", in, out, got, want.String())
		}
		blanks := 0
		for _, r := range string(out) {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 || glyph.Invisible(r) {
				t.Fatalf("AppendJSON(%q) = %q keeps %U", in, out, r)
			}
			if blanks = blanks + 1; !glyph.Blank(r) {
				blanks = 0
			}
			if blanks > maxBlanks {
				t.Fatalf("AppendJSON(%q) = %q keeps a run of %d blanks", in, out, blanks)
			}
		}
	})
}
