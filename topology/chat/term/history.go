package term

import "slices"

// history is the lines entered, oldest first, bounded both in number
// and in bytes: the oldest are dropped to make room.
type history struct {
	lines    []string
	bytes    int
	maxLines int
	maxBytes int
}

// add appends s unless it is empty, the same as the last line, or larger
// than the whole history may be.
func (h *history) add(s string) {
	if s == "" || len(s) > h.maxBytes || h.maxLines <= 0 {
		return
	}
	if n := len(h.lines); n > 0 && h.lines[n-1] == s {
		return
	}
	h.lines = append(h.lines, s)
	h.bytes += len(s)
	drop := 0
	for len(h.lines)-drop > h.maxLines || h.bytes > h.maxBytes {
		h.bytes -= len(h.lines[drop])
		drop++
	}
	h.lines = slices.Delete(h.lines, 0, drop)
}
