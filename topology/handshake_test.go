package topology

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestHelloRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    hello
	}{
		{"all fields", hello{name: "alice", addr: "[::]:55204"}},
		{"empty", hello{}},
		{"utf-8 name", hello{name: "zoë", addr: "127.0.0.1:1"}},
		{"max fields", hello{name: strings.Repeat("n", maxField), addr: strings.Repeat("a", maxField)}},
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

// TestFrameLayouts pins the wire formats documented in doc.go.
func TestFrameLayouts(t *testing.T) {
	tests := []struct {
		name      string
		got, want []byte
	}{
		{"hello", appendHello(nil, hello{name: "c", addr: "ab"}), []byte("\x10scuttle-topology\x00\x02\x00\x05\x01c\x02ab")},
		{"version 1 refusal", appendHelloHeader(nil, protoVersion, 0), []byte("\x10scuttle-topology\x00\x02\x00\x00")},
		{"verdict", appendVerdict(nil, verdictAccept, 0x0102030405060708), []byte("\x01\x01\x02\x03\x04\x05\x06\x07\x08")},
		{"report", appendReport(nil, reportReady, []connID{{1, 2, 3, 4, 5, 6, 7, 8}, {9}}), []byte("\x04\x02\x01\x02\x03\x04\x05\x06\x07\x08\x09\x00\x00\x00\x00\x00\x00\x00")},
		{"refused report", appendReport(nil, codeRefused, nil), []byte("\x03\x00")},
		{"report cut to 16 ids", appendReport(nil, reportReady, make([]connID, 20))[:2], []byte("\x04\x10")},
		{"public network key", []byte(publicNetworkKey), []byte("scuttle-topology public network.")},
		// HMAC-SHA256(publicNetworkKey, 32 zero bytes ‖ 0x01), by Python's hmac.
		{"proof mac", proofMAC([]byte(publicNetworkKey), make([]byte, 32), roleDialer), unhex("cd22a494a1836a432bad4927678945913e80bcafca9e9d7e38a13cc41261a97f")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.got, tt.want) {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	if len(publicNetworkKey) != NetworkKeySize {
		t.Errorf("public network key: %d bytes, want %d", len(publicNetworkKey), NetworkKeySize)
	}
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// frame builds a Hello frame with the given version and raw body.
func frame(version uint16, body []byte) []byte {
	return append(appendHelloHeader(nil, version, len(body)), body...)
}

func TestReadHelloErrors(t *testing.T) {
	valid := appendHello(nil, hello{name: "n", addr: "a"})
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errMalformed},
		{"http request", []byte("GET / HTTP/1.1\r\n\r\n"), errProtocol},
		{"TLS record", []byte{tlsRecordHandshake, 3, 1}, errProtocol},
		{"other protocol of same length", append([]byte{16}, "scuttle-topologx\x00\x02\x00\x00"...), errProtocol},
		{"truncated header", valid[:10], errMalformed},
		{"version 1", frame(1, []byte("\x02id\x00\x00")), errVersion},
		{"version 3", frame(3, nil), errVersion},
		{"version 0", frame(0, nil), errVersion},
		{"version 1 with oversize body", frame(1, make([]byte, 5000)), errVersion},
		{"oversize body", frame(protoVersion, make([]byte, maxHelloBody+1)), errMalformed},
		{"truncated body", valid[:len(valid)-1], errMalformed},
		{"empty body", frame(protoVersion, nil), errMalformed},
		{"field overruns body", frame(protoVersion, []byte("\x05ab")), errMalformed},
		{"missing addr", frame(protoVersion, []byte("\x01n")), errMalformed},
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
	in := frame(protoVersion, []byte("\x01n\x01a\x07future!"))
	got, err := readHello(bytes.NewReader(in))
	if want := (hello{name: "n", addr: "a"}); err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v, nil", got, err, want)
	}
}

func TestWriteHelloRejectsInvalid(t *testing.T) {
	tests := []struct {
		name string
		h    hello
	}{
		{"long name", hello{name: strings.Repeat("n", maxField+1)}},
		{"long addr", hello{addr: strings.Repeat("a", maxField+1)}},
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

func TestReadVerdictAndReport(t *testing.T) {
	verdicts := []struct {
		name string
		in   []byte
		code byte
		seq  uint64
		err  error
	}{
		{"accept", appendVerdict(nil, verdictAccept, 7), verdictAccept, 7, nil},
		{"duplicate", appendVerdict(nil, verdictDuplicate, 0), verdictDuplicate, 0, nil},
		{"refused", appendVerdict(nil, codeRefused, 0), codeRefused, 0, nil},
		{"a report code", appendVerdict(nil, reportReady, 0), 0, 0, errMalformed},
		{"unknown", appendVerdict(nil, 0, 0), 0, 0, errMalformed},
		{"truncated", appendVerdict(nil, verdictAccept, 7)[:8], 0, 0, errMalformed},
	}
	for _, tt := range verdicts {
		t.Run("verdict "+tt.name, func(t *testing.T) {
			code, seq, err := readVerdict(bytes.NewReader(tt.in))
			if code != tt.code || seq != tt.seq || !errors.Is(err, tt.err) {
				t.Errorf("got %d, %d, %v; want %d, %d, %v", code, seq, err, tt.code, tt.seq, tt.err)
			}
		})
	}
	reports := []struct {
		name string
		in   []byte
		code byte
		ids  int
		err  error
	}{
		{"ready, none", appendReport(nil, reportReady, nil), reportReady, 0, nil},
		{"ready, 16", appendReport(nil, reportReady, make([]connID, 16)), reportReady, 16, nil},
		{"refused", appendReport(nil, codeRefused, nil), codeRefused, 0, nil},
		{"17 ids", append([]byte{reportReady, 17}, make([]byte, 17*connIDSize)...), 0, 0, errMalformed},
		{"a verdict code", []byte{verdictAccept, 0}, 0, 0, errMalformed},
		{"truncated id", appendReport(nil, reportReady, make([]connID, 2))[:12], 0, 0, errMalformed},
		{"empty", nil, 0, 0, errMalformed},
	}
	for _, tt := range reports {
		t.Run("report "+tt.name, func(t *testing.T) {
			code, ids, err := readReport(bytes.NewReader(tt.in))
			if code != tt.code || len(ids) != tt.ids || !errors.Is(err, tt.err) {
				t.Errorf("got %d, %d ids, %v; want %d, %d, %v", code, len(ids), err, tt.code, tt.ids, tt.err)
			}
		})
	}
}

// FuzzReadHello: the decoder never panics, never accepts a frame whose
// body exceeds the bound, and what it accepts re-encodes to a frame that
// decodes to the same Hello.
func FuzzReadHello(f *testing.F) {
	f.Add(appendHello(nil, hello{name: "alice", addr: "[::]:55204"}))
	f.Add(frame(1, []byte("\x02id\x00\x00")))
	f.Add(frame(protoVersion, []byte("\xffid")))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := readHello(bytes.NewReader(in))
		if err != nil {
			return
		}
		if n := binary.BigEndian.Uint16(in[helloHeaderSize-2:]); n > maxHelloBody {
			t.Fatalf("accepted a body of %d bytes", n)
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

// FuzzReadVerdict: the verdict and report readers never panic, read no
// more than their frame, accept only known codes and at most
// maxReportIDs ids, and what they accept re-encodes to the bytes read.
func FuzzReadVerdict(f *testing.F) {
	f.Add(appendVerdict(nil, verdictAccept, 7))
	f.Add(appendReport(nil, reportReady, []connID{{1}}))
	f.Add([]byte{reportReady, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		if code, seq, err := readVerdict(r); err == nil {
			if got := appendVerdict(nil, code, seq); !bytes.Equal(got, in[:verdictSize]) {
				t.Fatalf("verdict %d, %d re-encodes to %x, read %x", code, seq, got, in[:verdictSize])
			}
		} else if r.Len() < len(in)-verdictSize {
			t.Fatalf("verdict reader read %d bytes", len(in)-r.Len())
		}
		r = bytes.NewReader(in)
		code, ids, err := readReport(r)
		if err != nil {
			return
		}
		if code != reportReady && code != codeRefused || len(ids) > maxReportIDs {
			t.Fatalf("accepted a report of code %d with %d ids", code, len(ids))
		}
		read := in[:len(in)-r.Len()]
		if got := appendReport(nil, code, ids); !bytes.Equal(got, read) {
			t.Fatalf("report re-encodes to %x, read %x", got, read)
		}
	})
}
