package term

import (
	"unicode"
	"unicode/utf8"
)

// Display width: how many terminal columns a character takes. Most take
// one; the East Asian Wide and Fullwidth characters (CJK ideographs,
// kana, Hangul syllables, fullwidth forms) and the emoji shown as
// pictures take two; combining marks, format characters and the Hangul
// jamo that join a syllable take none, for they draw on the character
// before them. Terminals use the same rules (wcwidth), from the Unicode
// data of their day; a character newer than both may be off by one
// column, which costs a misplaced cursor until the next redraw, never a
// wrong line.

// RuneWidth returns the number of columns r takes in a terminal: 0, 1
// or 2. Control characters count 0: the editor never prints them.
func RuneWidth(r rune) int {
	switch {
	case r < 0x20 || r == 0x7f:
		return 0
	case r < 0x300:
		// Latin, Greek etc.: one column, but C1 controls none, and the
		// soft hyphen (a format character) one, as terminals show it.
		if r >= 0x80 && r < 0xa0 {
			return 0
		}
		return 1
	case inTable(r, zeroWidth) || unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case inTable(r, wide):
		return 2
	}
	return 1
}

// StringWidth returns the number of columns s takes in a terminal, the
// sum of its runes' widths. Invalid UTF-8 counts one column a byte, as
// a replacement character.
func StringWidth(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != 0x7f {
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			n++
		} else {
			n += RuneWidth(r)
		}
		i += size
	}
	return n
}

// A runeRange is the characters lo to hi, both included.
type runeRange struct{ lo, hi rune }

// inTable reports whether r is in one of the sorted ranges of t.
func inTable(r rune, t []runeRange) bool {
	lo, hi := 0, len(t)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case r < t[m].lo:
			hi = m
		case r > t[m].hi:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// zeroWidth are the characters of no width that are not marks (Mn, Me)
// or format characters (Cf): the medial vowels and final consonants of
// Hangul jamo, which join the initial consonant before them into one
// two-column syllable.
var zeroWidth = []runeRange{
	{0x1160, 0x11ff},
	{0xd7b0, 0xd7ff},
}

// wide are the characters East Asian Width calls Wide (W) or Fullwidth
// (F), Unicode 15.1, emoji presentation included, sorted and merged
// where adjacent.
var wide = []runeRange{
	{0x1100, 0x115f}, {0x231a, 0x231b}, {0x2329, 0x232a}, {0x23e9, 0x23ec},
	{0x23f0, 0x23f0}, {0x23f3, 0x23f3}, {0x25fd, 0x25fe}, {0x2614, 0x2615},
	{0x2648, 0x2653}, {0x267f, 0x267f}, {0x2693, 0x2693}, {0x26a1, 0x26a1},
	{0x26aa, 0x26ab}, {0x26bd, 0x26be}, {0x26c4, 0x26c5}, {0x26ce, 0x26ce},
	{0x26d4, 0x26d4}, {0x26ea, 0x26ea}, {0x26f2, 0x26f3}, {0x26f5, 0x26f5},
	{0x26fa, 0x26fa}, {0x26fd, 0x26fd}, {0x2705, 0x2705}, {0x270a, 0x270b},
	{0x2728, 0x2728}, {0x274c, 0x274c}, {0x274e, 0x274e}, {0x2753, 0x2755},
	{0x2757, 0x2757}, {0x2795, 0x2797}, {0x27b0, 0x27b0}, {0x27bf, 0x27bf},
	{0x2b1b, 0x2b1c}, {0x2b50, 0x2b50}, {0x2b55, 0x2b55}, {0x2e80, 0x303e},
	{0x3041, 0x33ff}, {0x3400, 0x4dbf}, {0x4e00, 0x9fff}, {0xa000, 0xa4cf},
	{0xa960, 0xa97f}, {0xac00, 0xd7a3}, {0xf900, 0xfaff}, {0xfe10, 0xfe19},
	{0xfe30, 0xfe6f}, {0xff00, 0xff60}, {0xffe0, 0xffe6},
	{0x16fe0, 0x16fe4}, {0x16ff0, 0x16ff1}, {0x17000, 0x18cd5}, {0x18d00, 0x18d08},
	{0x1aff0, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf}, {0x1f18e, 0x1f18e},
	{0x1f191, 0x1f19a}, {0x1f200, 0x1f202}, {0x1f210, 0x1f23b}, {0x1f240, 0x1f248},
	{0x1f250, 0x1f251}, {0x1f260, 0x1f265}, {0x1f300, 0x1f320}, {0x1f32d, 0x1f335},
	{0x1f337, 0x1f37c}, {0x1f37e, 0x1f393}, {0x1f3a0, 0x1f3ca}, {0x1f3cf, 0x1f3d3},
	{0x1f3e0, 0x1f3f0}, {0x1f3f4, 0x1f3f4}, {0x1f3f8, 0x1f43e}, {0x1f440, 0x1f440},
	{0x1f442, 0x1f4fc}, {0x1f4ff, 0x1f53d}, {0x1f54b, 0x1f54e}, {0x1f550, 0x1f567},
	{0x1f57a, 0x1f57a}, {0x1f595, 0x1f596}, {0x1f5a4, 0x1f5a4}, {0x1f5fb, 0x1f64f},
	{0x1f680, 0x1f6c5}, {0x1f6cc, 0x1f6cc}, {0x1f6d0, 0x1f6d2}, {0x1f6d5, 0x1f6d7},
	{0x1f6dc, 0x1f6df}, {0x1f6eb, 0x1f6ec}, {0x1f6f4, 0x1f6fc}, {0x1f7e0, 0x1f7eb},
	{0x1f7f0, 0x1f7f0}, {0x1f90c, 0x1f93a}, {0x1f93c, 0x1f945}, {0x1f947, 0x1f9ff},
	{0x1fa70, 0x1fa7c}, {0x1fa80, 0x1fa88}, {0x1fa90, 0x1fabd}, {0x1fabf, 0x1fac5},
	{0x1face, 0x1fadb}, {0x1fae0, 0x1fae8}, {0x1faf0, 0x1faf8},
	{0x20000, 0x2fffd}, {0x30000, 0x3fffd},
}
