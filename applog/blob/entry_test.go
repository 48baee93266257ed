package blob

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestEntry: an entry encodes to the documented JSON, parses back, and
// prints as the receiver's line with author and name escaped.
func TestEntry(t *testing.T) {
	m, _ := Hash(bytes.NewReader(gen(1, 2_100_000)))
	e := NewEntry("/home/alice/talks/slides.pdf", m, []byte("%PDF-1.7"))
	want := `{"kind":"file","name":"slides.pdf","size":2100000,"media":"application/pdf","id":"` + m.ID().String() + `"}`
	if got := string(e.Encode()); got != want {
		t.Fatalf("Encode = %s\nwant     %s", got, want)
	}
	back, err := ParseEntry(e.Encode())
	if err != nil || back != e {
		t.Fatalf("ParseEntry = %+v, %v; want %+v", back, err, e)
	}
	if got, want := e.Line("alice", strings.ToUpper), "ALICE> [file] SLIDES.PDF (2.1 MB) "+m.ID().String(); got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
}

// TestParseEntryRefuses: a chat line is not an entry; a file entry that
// breaks a bound is a bad one.
func TestParseEntryRefuses(t *testing.T) {
	id := specID(nil).String()
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"chat line", `{"username":"alice","message":"hi"}`, ErrNotEntry},
		{"other kind", `{"kind":"room","name":"x","id":"` + id + `"}`, ErrNotEntry},
		{"not JSON", `hello`, ErrNotEntry},
		{"long chat line", `{"username":"a","message":"` + strings.Repeat("x", 5000) + `"}`, ErrNotEntry},
		{"long file entry", `{"kind":"file","name":"` + strings.Repeat("x", 5000) + `"}`, ErrBadEntry},
		{"empty name", `{"kind":"file","name":"","size":1,"id":"` + id + `"}`, ErrBadEntry},
		{"long name", `{"kind":"file","name":"` + strings.Repeat("x", 256) + `","size":1,"id":"` + id + `"}`, ErrBadEntry},
		{"long media", `{"kind":"file","name":"a","media":"` + strings.Repeat("x", 128) + `","size":1,"id":"` + id + `"}`, ErrBadEntry},
		{"negative size", `{"kind":"file","name":"a","size":-1,"id":"` + id + `"}`, ErrBadEntry},
		{"huge size", `{"kind":"file","name":"a","size":17179869185,"id":"` + id + `"}`, ErrBadEntry},
		{"bad id", `{"kind":"file","name":"a","size":1,"id":"x"}`, ErrBadEntry},
		{"no id", `{"kind":"file","name":"a","size":1}`, ErrBadEntry},
	} {
		if _, err := ParseEntry([]byte(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("%s: ParseEntry = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := ParseEntry([]byte(`{"kind":"file","name":"a\u001b[2J","size":17179869184,"media":"","id":"` + id + `","later":1}`)); err != nil {
		t.Errorf("an entry at the bounds with an unknown field: %v", err)
	}
}

// TestFormatSize: sizes as people read them.
func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {2_100_000, "2.1 MB"}, {999_960, "1.0 MB"},
		{1 << 30, "1.1 GB"}, {MaxSize, "17.2 GB"}, {5e15, "5000.0 TB"},
	} {
		if got := FormatSize(tc.n); got != tc.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// TestMediaType: by extension first, else by content.
func TestMediaType(t *testing.T) {
	for _, tc := range []struct{ name, head, want string }{
		{"a.png", "", "image/png"},
		{"a.PDF", "", "application/pdf"},
		{"noext", "\x89PNG\r\n\x1a\n", "image/png"},
		{"noext", "plain words", "text/plain; charset=utf-8"},
		{"noext", "\x00\x01\x02", "application/octet-stream"},
	} {
		if got := MediaType(tc.name, []byte(tc.head)); got != tc.want {
			t.Errorf("MediaType(%q, %q) = %q, want %q", tc.name, tc.head, got, tc.want)
		}
	}
}

// FuzzParseEntry: ParseEntry never panics; what it takes keeps its bounds
// and survives Encode and ParseEntry unchanged.
func FuzzParseEntry(f *testing.F) {
	m, _ := Hash(bytes.NewReader(gen(1, 10)))
	f.Add(NewEntry("a.txt", m, nil).Encode())
	f.Add([]byte(`{"username":"alice","message":"hi"}`))
	f.Add([]byte(`{"kind":"file","name":"\u001b]0;x\u0007","size":0,"media":"","id":"` + m.ID().String() + `"}`))
	f.Add(NewSealedEntry("b.txt", m, [KeySize]byte{7}, nil).Encode())
	f.Add([]byte(`{"kind":"file","name":"a","size":1,"id":"` + m.ID().String() + `","key":"` + ID{}.String() + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			return
		}
		if e.Name == "" || len(e.Name) > MaxNameLen || len(e.Media) > MaxMediaLen || e.Size < 0 || e.Size > MaxSize || e.Sealed() && e.Size > MaxSealedSize {
			t.Fatalf("out of bounds: %+v", e)
		}
		back, err := ParseEntry(e.Encode())
		if err != nil || back != e {
			t.Fatalf("round trip: %+v, %v; want %+v", back, err, e)
		}
		_ = fmt.Sprint(e.Line("a", strings.ToUpper))
	})
}
