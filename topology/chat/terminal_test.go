package chat

import (
	"strings"
	"testing"
	"time"

	"scuttle/applog"
)

// TestAppendTerminal: the golden terminal forms of lines, with and
// without colour: the local time, the palette's colour of the author's
// log, the own lines bold, info lines dim, and nothing but the escaped
// strings of the line.
func TestAppendTerminal(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 5, 59, 0, time.Local)
	a := applog.ID(strings.Repeat("a", 52))
	b := applog.ID(strings.Repeat("b", 52))
	tests := []struct {
		name         string
		l            Line
		plain, color string
	}{
		{"message", Line{Time: at, From: "alice", Log: a, Text: "hello"},
			"09:05 alice> hello", "09:05 \x1b[94malice\x1b[0m> hello"},
		{"another log", Line{Time: at, From: "bob", Log: b, Text: "hi"},
			"09:05 bob> hi", "09:05 \x1b[32mbob\x1b[0m> hi"},
		{"a name of another log", Line{Time: at, From: "alice~bbbbbbbb", Log: b, Text: "hi"},
			"09:05 alice~bbbbbbbb> hi", "09:05 \x1b[32malice~bbbbbbbb\x1b[0m> hi"},
		{"own", Line{Time: at, From: "me", Log: a, Own: true, Text: "mine"},
			"09:05 me> mine", "09:05 \x1b[1mme\x1b[0m> mine"},
		{"info", Line{Kind: Info, Time: at, Text: "direct connection to bob"},
			"09:05 info> direct connection to bob", "09:05 \x1b[2minfo> direct connection to bob\x1b[0m"},
		{"escaped text", Line{Time: at, From: `a\x1b[31m`, Log: a, Text: `x\ninfo> y`},
			`09:05 a\x1b[31m> x\ninfo> y`, "09:05 \x1b[94m" + `a\x1b[31m` + "\x1b[0m> " + `x\ninfo> y`},
		{"midnight", Line{Time: time.Date(2026, 12, 6, 0, 0, 0, 0, time.Local), From: "alice", Log: a, Text: "x"},
			"00:00 alice> x", "00:00 \x1b[94malice\x1b[0m> x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendTerminal(nil, tt.l, false)); got != tt.plain {
				t.Errorf("without colour: got %q, want %q", got, tt.plain)
			}
			if got := string(AppendTerminal([]byte("x"), tt.l, true)); got != "x"+tt.color {
				t.Errorf("in colour: got %q, want %q", got, "x"+tt.color)
			}
		})
	}
}

// TestAppendTerminalPalette: the palette's colours are spread over the
// logs, and a log's colour is always the same.
func TestAppendTerminalPalette(t *testing.T) {
	seen := map[string]int{}
	for i := range 240 {
		id := applog.IDOf([]byte{byte(i), byte(i >> 8), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30})
		c := authorColour(Line{Log: id})
		if c2 := authorColour(Line{Log: id}); c2 != c {
			t.Fatalf("%s: colour %q, then %q", id, c, c2)
		}
		seen[c]++
	}
	if len(seen) != len(palette) {
		t.Errorf("240 logs took %d colours of %d: %v", len(seen), len(palette), seen)
	}
	for c, n := range seen {
		if n < 5 {
			t.Errorf("colour %q taken by %d logs of 240", c, n)
		}
	}
}
