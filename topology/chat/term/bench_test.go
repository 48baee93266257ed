package term

import (
	"io"
	"testing"
)

// benchEditor returns an editor on io.Discard with a 40-character line
// typed and the cursor in its middle.
func benchEditor() *Editor {
	e := New(Config{Out: io.Discard, Prompt: "[#public · 3 peers] alice> ", Width: 80})
	typeKeys(e, "a line of forty characters typed so far\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D")
	return e
}

// BenchmarkKeystroke times a key typed in the middle of a line and
// backspace, each redrawing the line, in process.
func BenchmarkKeystroke(b *testing.B) {
	e := benchEditor()
	for b.Loop() {
		typeKeys(e, "x\x7f")
	}
}

// BenchmarkKeystrokeAtEnd times a key typed at the end of a line (the
// character alone is written) and backspace (a redraw).
func BenchmarkKeystrokeAtEnd(b *testing.B) {
	e := benchEditor()
	typeKeys(e, "\x05")
	for b.Loop() {
		typeKeys(e, "x\x7f")
	}
}

// BenchmarkPrint times an incoming line printed above a half-typed one,
// in process.
func BenchmarkPrint(b *testing.B) {
	e := benchEditor()
	line := []byte("12:34 \x1b[36mbob\x1b[0m> an incoming line of some fifty characters.")
	for b.Loop() {
		e.Print(line)
	}
}
