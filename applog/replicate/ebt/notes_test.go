package ebt

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestNotesWire: the payload's exact bytes, numbering a log the first
// time and referring to it after, and back.
func TestNotesWire(t *testing.T) {
	var e Encoder
	var d Decoder
	b, err := e.Append(nil, []Note{{"ab", 5, true, false}, {"c", 0, false, false}})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 2, 'a', 'b', 5<<2 | 1, 0, 1, 'c', 0}
	if !bytes.Equal(b, want) {
		t.Errorf("first batch % x, want % x", b, want)
	}
	got, err := d.Decode(nil, b)
	if err != nil || !reflect.DeepEqual(got, []Note{{"ab", 5, true, false}, {"c", 0, false, false}}) {
		t.Errorf("decoded %+v, %v", got, err)
	}
	b, _ = e.Append(nil, []Note{{"c", 300, true, false}, {"ab", 6, false, false}})
	want = []byte{2, 0xb1, 0x09, 1, 6 << 2}
	if !bytes.Equal(b, want) {
		t.Errorf("second batch % x, want % x", b, want)
	}
	got, err = d.Decode(nil, b)
	if err != nil || !reflect.DeepEqual(got, []Note{{"c", 300, true, false}, {"ab", 6, false, false}}) {
		t.Errorf("decoded %+v, %v", got, err)
	}
	b, _ = e.Append(nil, []Note{{"c", 7, false, true}})
	if want = []byte{2, 7<<2 | 2}; !bytes.Equal(b, want) {
		t.Errorf("quiet % x, want % x", b, want)
	}
	if got, err = d.Decode(nil, b); err != nil || !reflect.DeepEqual(got, []Note{{"c", 7, false, true}}) {
		t.Errorf("decoded %+v, %v", got, err)
	}
}

// TestNotesMalformed: each malformed payload is an error wrapping
// ErrNotes.
func TestNotesMalformed(t *testing.T) {
	long := append([]byte{0, MaxIDLen + 1}, strings.Repeat("x", MaxIDLen+1)...)
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"ref not given", []byte{1, 2}},
		{"truncated ref", []byte{0x80}},
		{"id length 0", []byte{0, 0, 2}},
		{"id too long", append(long, 2)},
		{"id truncated", []byte{0, 5, 'a'}},
		{"note missing", []byte{0, 1, 'a'}},
		{"note overlong", append([]byte{0, 1, 'a'}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"want 3", []byte{0, 1, 'a', 3}},
		{"numbered twice", []byte{0, 1, 'a', 2, 0, 1, 'a', 2}},
	} {
		var d Decoder
		if _, err := d.Decode(nil, tc.payload); !errors.Is(err, ErrNotes) {
			t.Errorf("%s: error %v, want ErrNotes", tc.name, err)
		}
	}
	var d0 Decoder
	if notes, err := d0.Decode(nil, nil); err != nil || len(notes) != 0 {
		t.Errorf("empty payload (a Resend): %+v, %v; want no note, no error", notes, err)
	}
	// Past MaxRefs, a log takes no number: it is named by its id each
	// time, and a ref to a number past the window is malformed.
	d := Decoder{MaxRefs: 2}
	notes, err := d.Decode(nil, []byte{0, 1, 'a', 2, 0, 1, 'b', 2, 0, 1, 'c', 2, 0, 1, 'c', 6})
	if want := []Note{{"a", 0, false, true}, {"b", 0, false, true}, {"c", 0, false, true}, {"c", 1, false, true}}; err != nil || !slices.Equal(notes, want) {
		t.Errorf("logs past MaxRefs 2: %+v, %v; want %+v", notes, err, want)
	}
	if len(d.logs) != 2 || len(d.seen) != 2 {
		t.Errorf("the decoder keeps %d ids and %d seen, want 2 and 2", len(d.logs), len(d.seen))
	}
	if _, err := d.Decode(nil, []byte{3, 2}); !errors.Is(err, ErrNotes) {
		t.Errorf("ref 3 past the window of 2: %v, want ErrNotes", err)
	}
	e := Encoder{MaxRefs: 1}
	b, err := e.Append(nil, []Note{{"a", 1, false, false}, {"b", 1, false, false}, {"a", 2, false, false}, {"b", 2, false, false}})
	if want := []byte{0, 1, 'a', 4, 0, 1, 'b', 4, 1, 8, 0, 1, 'b', 8}; err != nil || !bytes.Equal(b, want) {
		t.Errorf("encoder past MaxRefs 1: %v, %v; want %v: a numbered, b by its id each time", b, err, want)
	}
}

// FuzzDecodeNotes: no payload panics the decoder, and what it decodes
// encodes and decodes back the same.
func FuzzDecodeNotes(f *testing.F) {
	f.Add([]byte{0, 2, 'a', 'b', 11, 0, 1, 'c', 0})
	f.Add([]byte{0, 1, 'a', 2, 1, 3, 1, 4})
	f.Add([]byte{1, 2})
	f.Fuzz(func(t *testing.T, payload []byte) {
		d := Decoder{MaxRefs: 8}
		notes, err := d.Decode(nil, payload)
		if err != nil {
			if !errors.Is(err, ErrNotes) {
				t.Fatalf("error %v does not wrap ErrNotes", err)
			}
			return
		}
		if len(notes) > len(payload)/2 {
			t.Fatalf("%d notes from %d bytes", len(notes), len(payload))
		}
		var e Encoder
		var d2 Decoder
		b, err := e.Append(nil, notes)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", notes, err)
		}
		back, err := d2.Decode(nil, b)
		if err != nil || !reflect.DeepEqual(back, notes) {
			t.Fatalf("round trip: %+v, %v; want %+v", back, err, notes)
		}
	})
}
