package chat

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"scuttle/applog/names"
	"scuttle/applog/names/glyph"
)

// FuzzCommand: every typed line is a message (itself, or from its
// second "/" for "//") or a command whose name and arguments are the
// line's; a command not in the table, or with other arguments than it
// takes, prints exactly one info line, escaped; no line panics.
func FuzzCommand(f *testing.F) {
	for _, s := range []string{"hello", "/help", "//help", "/", "//", "/trust bob ID", "/trust\tbob  x ", "/\x1b[2J", "/who am i", " /x", "/names\u2028x", "/block \xff", "/send", "/send /no/such file", "/get", "/get x y", "/get " + strings.Repeat("a", 52)} {
		f.Add(s)
	}
	db := newTestDB(f)
	ns, err := names.Open(f.TempDir(), nil)
	if err != nil {
		f.Fatal(err)
	}
	scr := &lastScreen{}
	c := New(Config{Me: "alice", DB: db, Names: ns, Screen: scr})
	f.Fuzz(func(t *testing.T, line string) {
		tl := parseTyped(line)
		if !tl.command {
			if tl.text != line && !(strings.HasPrefix(line, "//") && tl.text == line[1:]) {
				t.Fatalf("parseTyped(%q): message %q", line, tl.text)
			}
			return
		}
		if !strings.HasPrefix(line, "/"+tl.name) || strings.HasPrefix(line, "//") || strings.ContainsAny(tl.name, blanks) {
			t.Fatalf("parseTyped(%q): command %q", line, tl.name)
		}
		if strings.Trim(tl.rest, blanks) != tl.rest ||
			!slices.Equal(strings.Fields(tl.rest), strings.Fields(line[1+len(tl.name):])) {
			t.Fatalf("parseTyped(%q): arguments %q", line, tl.rest)
		}
		i := slices.IndexFunc(commands(), func(cmd command) bool { return cmd.name == tl.name })
		if i >= 0 {
			if _, ok := splitArgs(tl.rest, commands()[i].args); ok {
				return // runs: the commands' own tests
			}
		}
		scr.lines = scr.lines[:0]
		c.runCommand(tl)
		shown := scr.lines
		if len(shown) != 1 || shown[0].Kind != Info {
			t.Fatalf("%q: shown %q, want one info line", line, shown)
		}
		for _, r := range shown[0].Text {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 || glyph.Invisible(r) {
				t.Fatalf("%q: info line %q keeps %U", line, shown[0].Text, r)
			}
		}
		if !utf8.ValidString(shown[0].Text) {
			t.Fatalf("%q: info line %q: not UTF-8", line, shown[0].Text)
		}
	})
}

// lastScreen keeps the lines shown, for one goroutine.
type lastScreen struct{ lines []Line }

func (s *lastScreen) Show(l Line)      { s.lines = append(s.lines, l) }
func (s *lastScreen) SetStatus(Status) {}
