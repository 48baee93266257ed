package glyph

import "testing"

func TestInvisible(t *testing.T) {
	for _, r := range []rune{0x00ad, 0x034f, 0x061c, 0x115f, 0x180e, 0x200b, 0x200d, 0x200f, 0x202a, 0x202e, 0x2060, 0x2066, 0x2069, 0x3164, 0xfe0f, 0xfeff, 0xffa0, 0x1d173, 0xe0001, 0xe0100} {
		if !Invisible(r) {
			t.Errorf("Invisible(%U) = false", r)
		}
	}
	for _, r := range []rune{'a', ' ', 'é', 'о', '☃', 0x2800, 0x3000} {
		if Invisible(r) {
			t.Errorf("Invisible(%U) = true", r)
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[rune]rune{
		'B': 'b', 'о': 'o', 'О': 'o', 'В': 'b', 'ο': 'o', 'Ο': 'o', '0': 'o', '1': 'l', 'I': 'l', 'i': 'l',
		'ｂ': 'b', 'Ｂ': 'b', 0x1d41b: 'b', 0x1d7cf: 'l', 'օ': 'o', 'é': 'é', '☃': '☃',
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}
