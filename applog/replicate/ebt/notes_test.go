package ebt

import (
	"bytes"
	"errors"
	"reflect"
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
	d := Decoder{MaxRefs: 2}
	if _, err := d.Decode(nil, []byte{0, 1, 'a', 2, 0, 1, 'b', 2, 0, 1, 'c', 2}); !errors.Is(err, ErrNotes) {
		t.Errorf("third log past MaxRefs 2: %v, want ErrNotes", err)
	}
	e := Encoder{MaxRefs: 1}
	if b, err := e.Append([]byte("x"), []Note{{"a", 1, false, false}, {"b", 1, false, false}}); err == nil || string(b) != "x" {
		t.Errorf("encoder past MaxRefs: %q, %v; want an error and nothing appended", b, err)
	}
	if b, err := e.Append(nil, []Note{{"b", 1, false, false}}); err != nil || len(b) == 0 {
		t.Errorf("encoder after a failed batch: %q, %v; want b numbered as 1", b, err)
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
