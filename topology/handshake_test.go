package topology

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestHelloRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    Hello
	}{
		{"all fields", Hello{ID: "3fa9c0", Name: "alice", Addr: "[::]:55204"}},
		{"id only", Hello{ID: "x"}},
		{"utf-8 name", Hello{ID: "id", Name: "zoë", Addr: "127.0.0.1:1"}},
		{"max fields", Hello{ID: strings.Repeat("i", maxField), Name: strings.Repeat("n", maxField), Addr: strings.Repeat("a", maxField)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeHello(&buf, tt.h); err != nil {
				t.Fatalf("writeHello: %v", err)
			}
			got, err := readHello(&buf)
			if err != nil {
				t.Fatalf("readHello: %v", err)
			}
			if got != tt.h {
				t.Errorf("got %+v, want %+v", got, tt.h)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes left unread, want 0", buf.Len())
			}
		})
	}
}

// TestHelloLayout pins the wire format documented in doc.go.
func TestHelloLayout(t *testing.T) {
	got := appendHello(nil, Hello{ID: "ab", Name: "c", Addr: ""})
	want := []byte("\x10scuttle-topology\x00\x01\x00\x06\x02ab\x01c\x00")
	if !bytes.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// frame builds a handshake frame with the given version and raw body.
func frame(version uint16, body []byte) []byte {
	b := append([]byte{byte(len(protoName))}, protoName...)
	b = binary.BigEndian.AppendUint16(b, version)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func TestReadHelloErrors(t *testing.T) {
	valid := appendHello(nil, Hello{ID: "id", Name: "n", Addr: "a"})
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errMalformed},
		{"http request", []byte("GET / HTTP/1.1\r\n\r\n"), errProtocol},
		{"other protocol of same length", append([]byte{16}, "scuttle-topologx\x00\x01\x00\x00"...), errProtocol},
		{"truncated header", valid[:10], errMalformed},
		{"version 2", frame(2, []byte("\x02id\x00\x00")), errVersion},
		{"version 0", frame(0, nil), errVersion},
		{"version 2 with oversize body", frame(2, make([]byte, 5000)), errVersion},
		{"oversize body", frame(protoVersion, make([]byte, maxHelloBody+1)), errMalformed},
		{"truncated body", valid[:len(valid)-1], errMalformed},
		{"empty body", frame(protoVersion, nil), errMalformed},
		{"field overruns body", frame(protoVersion, []byte("\x05id")), errMalformed},
		{"missing addr", frame(protoVersion, []byte("\x02id\x01n")), errMalformed},
		{"empty id", frame(protoVersion, []byte("\x00\x01n\x00")), errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := readHello(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Errorf("got %+v, %v; want error %v", h, err, tt.want)
			}
		})
	}
}

func TestReadHelloIgnoresAppendedFields(t *testing.T) {
	in := frame(protoVersion, []byte("\x02id\x01n\x01a\x07future!"))
	got, err := readHello(bytes.NewReader(in))
	if want := (Hello{ID: "id", Name: "n", Addr: "a"}); err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v, nil", got, err, want)
	}
}

func TestWriteHelloRejectsInvalid(t *testing.T) {
	tests := []struct {
		name string
		h    Hello
	}{
		{"empty id", Hello{Name: "alice"}},
		{"long name", Hello{ID: "x", Name: strings.Repeat("n", maxField+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeHello(&buf, tt.h); !errors.Is(err, errMalformed) {
				t.Errorf("got %v, want %v", err, errMalformed)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes, want 0", buf.Len())
			}
		})
	}
}

// FuzzReadHello: the decoder never panics, never accepts a frame whose
// body exceeds the bound, and what it accepts re-encodes to a frame that
// decodes to the same Hello.
func FuzzReadHello(f *testing.F) {
	f.Add(appendHello(nil, Hello{ID: "id", Name: "alice", Addr: "[::]:55204"}))
	f.Add(frame(2, []byte("\x02id\x00\x00")))
	f.Add(frame(protoVersion, []byte("\xffid")))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := readHello(bytes.NewReader(in))
		if err != nil {
			return
		}
		if len(in) > helloHeaderSize+maxHelloBody {
			if n := binary.BigEndian.Uint16(in[helloHeaderSize-2:]); n > maxHelloBody {
				t.Fatalf("accepted a body of %d bytes", n)
			}
		}
		var buf bytes.Buffer
		if err := writeHello(&buf, h); err != nil {
			t.Fatalf("accepted %+v, which writeHello refuses: %v", h, err)
		}
		h2, err := readHello(&buf)
		if err != nil || h2 != h {
			t.Fatalf("round trip: got %+v, %v; want %+v", h2, err, h)
		}
	})
}
