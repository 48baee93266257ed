// Package glyph holds the one table of characters that print as nothing
// or as something else: the invisible and bidi characters that no
// stranger's text may carry to a terminal unescaped, the blanks whose
// long runs could push text onto a row of its own, and the look-alike
// letters under which names collide. Its users are topology/chat
// (Escape), applog/names (Skeleton) and mdns (CheckName), so the three
// agree on what is invisible.
//
// The tables are of our own making, not Unicode's confusables data: the
// Latin, Cyrillic, Greek and Armenian letters that read as a Latin
// letter, fullwidth and mathematical Latin letters, and the digits and
// letters that read as one another (0 and o; 1, i, l and I). A false
// collision costs a name mark (NAME~SHORT) or a refused look-alike name,
// never a message; a missed one is what the tables are for.
package glyph

import "unicode"

// Invisible reports whether r prints as nothing, or reorders or joins
// what is around it: Unicode's format characters (category Cf: the
// zero-width space, joiners and marks U+200B–200F, the bidi embeddings,
// overrides and isolates U+202A–202E and U+2066–2069, U+2060–2064 and
// U+FEFF, the interlinear annotations, tag characters) and the other
// default-ignorable code points (U+034F, U+115F–1160, U+17B4–17B5,
// U+180B–180F, U+3164, the variation selectors, U+FFA0, U+FFF0–FFF8,
// U+E0000–E0FFF).
func Invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(ignorable, r)
}

// ignorable is the default-ignorable code points that are not format
// characters (DerivedCoreProperties.txt, Default_Ignorable_Code_Point).
var ignorable = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x034f, Hi: 0x034f, Stride: 1},
		{Lo: 0x115f, Hi: 0x1160, Stride: 1},
		{Lo: 0x17b4, Hi: 0x17b5, Stride: 1},
		{Lo: 0x180b, Hi: 0x180f, Stride: 1},
		{Lo: 0x2065, Hi: 0x2065, Stride: 1},
		{Lo: 0x3164, Hi: 0x3164, Stride: 1},
		{Lo: 0xfe00, Hi: 0xfe0f, Stride: 1},
		{Lo: 0xffa0, Hi: 0xffa0, Stride: 1},
		{Lo: 0xfff0, Hi: 0xfff8, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x1bca0, Hi: 0x1bca3, Stride: 1},
		{Lo: 0x1d173, Hi: 0x1d17a, Stride: 1},
		{Lo: 0xe0000, Hi: 0xe0fff, Stride: 1},
	},
}

// Blank reports whether r prints as blank space: white space (ASCII
// and Unicode's, such as U+00A0, U+2000–200A, U+3000) and the braille
// blank U+2800.
func Blank(r rune) bool {
	return unicode.IsSpace(r) || r == 0x2800
}

// Fold returns the lower-case ASCII letter or digit that r reads as, or
// r lower-cased if it reads as none; see the package doc for which
// letters collide.
func Fold(r rune) rune {
	switch {
	case 0xff01 <= r && r <= 0xff5e: // fullwidth ASCII
		r -= 0xfee0
	case 0x1d400 <= r && r <= 0x1d6a3: // mathematical Latin letters: 13 alphabets of A–Z a–z
		r = 'a' + (r-0x1d400)%52%26
	case 0x1d7ce <= r && r <= 0x1d7ff: // mathematical digits: 5 sets of 0–9
		r = '0' + (r-0x1d7ce)%10
	}
	r = unicode.ToLower(r)
	if m, ok := lookAlike[r]; ok {
		return m
	}
	return r
}

// lookAlike maps lower-case letters and digits to the ASCII letter they
// read as, in lower or in upper case (a letter whose capital reads as a
// Latin capital maps to that letter, as case does not separate names).
var lookAlike = map[rune]rune{
	// digits and Latin letters that read as one another
	'0': 'o', '1': 'l', 'i': 'l', '|': 'l', 'ı': 'l', 'ɩ': 'l', 'ǀ': 'l', 'ɡ': 'g', 'ʏ': 'y',
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'һ': 'h', 'н': 'h', 'і': 'l', 'ӏ': 'l', 'ј': 'j', 'к': 'k',
	'м': 'm', 'о': 'o', 'р': 'p', 'ԛ': 'q', 'ѕ': 's', 'т': 't', 'у': 'y', 'ү': 'y', 'х': 'x',
	'с': 'c', 'ԁ': 'd', 'ԝ': 'w', 'ѵ': 'v', 'ԍ': 'g',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'ζ': 'z', 'η': 'h', 'ι': 'l', 'κ': 'k', 'μ': 'm', 'ν': 'v',
	'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'y', 'χ': 'x', 'ϲ': 'c', 'ϳ': 'j',
	// Armenian
	'օ': 'o', 'ս': 'u', 'հ': 'h', 'ո': 'n', 'զ': 'q', 'ց': 'g',
}
