package testkit

import (
	"slices"
	"testing"
)

// wideCJK is a width function for the VT's tests: 2 for 日, 0 for a
// combining acute accent, 1 otherwise.
func wideCJK(r rune) int {
	switch r {
	case '日':
		return 2
	case '\u0301':
		return 0
	}
	return 1
}

func TestVT(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		rows   []string
		row    int
		col    int
		scroll []string
	}{
		{"wrap at the last column waits", "abcd", []string{"abcd", "", ""}, 0, 3, nil},
		{"then wraps", "abcde", []string{"abcd", "e", ""}, 1, 1, nil},
		{"cr lf", "ab\r\ncd", []string{"ab", "cd", ""}, 1, 2, nil},
		{"wide does not fit", "abc日", []string{"abc", "日", ""}, 1, 2, nil},
		{"combining", "e\u0301x", []string{"e\u0301x", "", ""}, 0, 2, nil},
		{"up and clear", "ab\r\ncd\x1b[A\r\x1b[J", []string{"", "", ""}, 0, 0, nil},
		{"right and down", "\x1b[2C\x1b[Bx", []string{"", "  x", ""}, 1, 3, nil},
		{"erase line", "abcd\r\x1b[1C\x1b[K", []string{"a", "", ""}, 0, 1, nil},
		{"scroll", "1\r\n2\r\n3\r\n4", []string{"2", "3", "4"}, 2, 1, []string{"1"}},
		{"colours and modes ignored", "\x1b[?2004h\x1b[1ma\x1b[0m", []string{"a", "", ""}, 0, 1, nil},
		{"clear screen", "ab\x1b[H\x1b[2Jc", []string{"c", "", ""}, 0, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVT(4, 3, wideCJK)
			for i := range len(tt.in) { // a byte at a time: sequences split
				v.Write([]byte{tt.in[i]})
			}
			row, col := v.Cursor()
			if !slices.Equal(v.Rows(), tt.rows) || row != tt.row || col != tt.col || len(v.Unknown) > 0 {
				t.Errorf("rows %q, cursor %d,%d, unknown %q; want %q, %d,%d", v.Rows(), row, col, v.Unknown, tt.rows, tt.row, tt.col)
			}
			if got := v.Lines(); len(tt.scroll) > 0 && !slices.Equal(got[:len(tt.scroll)], tt.scroll) {
				t.Errorf("lines %q, want them to start %q", got, tt.scroll)
			}
		})
	}
	v := NewVT(4, 3, wideCJK)
	v.Write([]byte("\x1b[5n\x01"))
	if want := []string{`"\x1b[5n"`, `'\x01'`}; !slices.Equal(v.Unknown, want) {
		t.Errorf("unknown %q, want %q", v.Unknown, want)
	}
}
