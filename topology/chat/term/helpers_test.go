package term

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// splitReader returns its input in the chunks given: each Read returns
// at most the rest of the current chunk.
type splitReader struct {
	chunks [][]byte
}

// split cuts in at the offsets at (ascending).
func split(in string, at ...int) *splitReader {
	r := &splitReader{}
	last := 0
	for _, i := range at {
		r.chunks = append(r.chunks, []byte(in[last:i]))
		last = i
	}
	r.chunks = append(r.chunks, []byte(in[last:]))
	return r
}

// everyN cuts in into chunks of n bytes.
func everyN(in string, n int) *splitReader {
	var at []int
	for i := n; i < len(in); i += n {
		at = append(at, i)
	}
	return split(in, at...)
}

func (r *splitReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	return n, nil
}

// session is what an editor returned and wrote for one input.
type session struct {
	results []string // each ReadLine's line, or "!" and its error
	out     string   // every byte written
}

// drive reads lines from an editor of cfg over in until io.EOF or
// ErrClosed, answering a paste of several lines with the line itself.
func drive(cfg Config, in io.Reader) session {
	var out bytes.Buffer
	cfg.In, cfg.Out = in, &out
	e := New(cfg)
	var s session
	for range 10000 {
		line, err := e.ReadLine()
		switch {
		case err == nil:
			s.results = append(s.results, fmt.Sprintf("%q", line))
			continue
		case errors.Is(err, ErrPaste):
			s.results = append(s.results, fmt.Sprintf("!paste %q", line))
			continue
		}
		s.results = append(s.results, "!"+err.Error())
		if err == io.EOF || err == ErrClosed {
			break
		}
	}
	s.out = out.String()
	return s
}

// quoteResults returns results as drive records them.
func quoteResults(lines ...string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "!") {
			out = append(out, l)
		} else {
			out = append(out, fmt.Sprintf("%q", l))
		}
	}
	return out
}
