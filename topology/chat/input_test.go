package chat

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadLine(t *testing.T) {
	type result struct {
		line string
		err  error
	}
	tests := []struct {
		name string
		in   string
		want []result
	}{
		{"lines", "a\nb\r\n\nc", []result{{"a", nil}, {"b", nil}, {"", nil}, {"c", nil}, {"", io.EOF}}},
		{"empty", "", []result{{"", io.EOF}}},
		{"at the limit", strings.Repeat("x", 8) + "\n", []result{{strings.Repeat("x", 8), nil}, {"", io.EOF}}},
		{"too long", strings.Repeat("x", 9) + "\nok\n", []result{{"", errLineTooLong}, {"ok", nil}, {"", io.EOF}}},
		{"too long across buffers", strings.Repeat("y", 100) + "\nok", []result{{"", errLineTooLong}, {"ok", nil}, {"", io.EOF}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := bufio.NewReaderSize(strings.NewReader(tt.in), 16)
			for i, want := range tt.want {
				line, err := readLine(in, 8)
				if line != want.line || !errors.Is(err, want.err) || (err == nil) != (want.err == nil) {
					t.Fatalf("call %d: got %q, %v; want %q, %v", i+1, line, err, want.line, want.err)
				}
			}
		})
	}
}
