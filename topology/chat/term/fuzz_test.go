package term

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEditor types random input: the editor never panics, every line it
// returns is valid UTF-8 within MaxInput, its output is bounded, and it
// writes no control byte or escape sequence but its own.
func FuzzEditor(f *testing.F) {
	for _, s := range []string{
		"hello\r", "a\x1b[Db\x1b[3~\x01\x05\r", "\x1b[200~a\nb\x1b[201~", "\x1b[200~" + strings.Repeat("x", 100),
		"日本語\x7f\x17\x15\r", "e\u0301\x1b[D\x1b[C\r", "\x1b[1;5D\x1bb\x1bf\x0b\x0c\t\r", "\x1b[A\x1b[B\x10\x0e",
		"\xff\xc3\x1b\x1b[\x1bO", "\x03\x1a\x04",
	} {
		f.Add([]byte(s), uint8(10))
	}
	f.Fuzz(func(t *testing.T, in []byte, width uint8) {
		const maxInput = 64
		run := func(r io.Reader) (results []string, out []byte) {
			var buf bytes.Buffer
			e := New(Config{In: r, Out: &buf, Prompt: "> ", Width: int(width%50) + 1, MaxInput: maxInput, Complete: completeNames})
			for range len(in) + 2 {
				line, err := e.ReadLine()
				if !utf8.ValidString(line) || len(line) > maxInput {
					t.Fatalf("ReadLine returned %q (%d bytes), err %v", line, len(line), err)
				}
				results = append(results, fmt.Sprintf("%q %v", line, err))
				if err == io.EOF {
					break
				}
				if err != nil && !errors.Is(err, ErrInterrupt) && !errors.Is(err, ErrSuspend) && !errors.Is(err, ErrPaste) && !errors.Is(err, ErrPasteTooLong) {
					t.Fatalf("ReadLine: %v", err)
				}
				if errors.Is(err, ErrPaste) {
					e.Print([]byte("pasted"))
				}
			}
			return results, buf.Bytes()
		}
		results, out := run(bytes.NewReader(in))
		if max := (len(in) + 4) * 1024; len(out) > max {
			t.Fatalf("wrote %d bytes for %d of input", len(out), len(in))
		}
		if err := checkOwnSequences(out); err != nil {
			t.Fatalf("%v in %q", err, out)
		}
		// A byte a read: the same lines, the same output.
		results1, out1 := run(everyN(string(in), 1))
		if !slices.Equal(results, results1) || !bytes.Equal(out, out1) {
			t.Fatalf("read a byte at a time: %q, %q; read whole: %q, %q", results1, out1, results, out)
		}
	})
}

// checkOwnSequences returns an error if b holds a control byte or escape
// sequence that the editor does not write itself.
func checkOwnSequences(b []byte) error {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\r' || c == '\n' || c == '\a':
		case c == 0x1b:
			j := i + 1
			if j >= len(b) || b[j] != '[' {
				return errors.New("ESC without [")
			}
			j++
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			if j >= len(b) || !strings.ContainsRune("ABCHJK", rune(b[j])) {
				return errors.New("unexpected escape sequence")
			}
			i = j
		case c < 0x20 || c == 0x7f:
			return errors.New("control byte")
		case c >= 0x80:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError || !typable(r) {
				return errors.New("invalid or control character")
			}
			i += size - 1
		}
	}
	return nil
}
