package topology

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzProof is the proof FuzzReadProof expects.
var fuzzProof = proofMAC([]byte(publicNetworkKey), make([]byte, exporterSize), roleDialer)

func TestReadProof(t *testing.T) {
	flipped := bytes.Clone(fuzzProof)
	flipped[31] ^= 1
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"match", fuzzProof, nil},
		{"match, more after", append(bytes.Clone(fuzzProof), "hello"...), nil},
		{"last bit flipped", flipped, errNetwork},
		{"acceptor's role", proofMAC([]byte(publicNetworkKey), make([]byte, exporterSize), roleAcceptor), errNetwork},
		{"other network", proofMAC(bytes.Repeat([]byte{1}, 32), make([]byte, exporterSize), roleDialer), errNetwork},
		{"short", fuzzProof[:31], errMalformed},
		{"empty", nil, errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader(tt.in)
			err := readProof(r, fuzzProof)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if read := len(tt.in) - r.Len(); read > proofSize {
				t.Errorf("read %d bytes, want at most %d", read, proofSize)
			}
		})
	}
}

// FuzzReadProof: the proof reader never panics, never reads past the
// proof, and accepts exactly the expected 32 bytes.
func FuzzReadProof(f *testing.F) {
	f.Add(fuzzProof)
	f.Add(fuzzProof[:31])
	f.Add(append(bytes.Clone(fuzzProof), 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		err := readProof(r, fuzzProof)
		if read := len(in) - r.Len(); read > proofSize {
			t.Fatalf("read %d bytes", read)
		}
		if ok := len(in) >= proofSize && bytes.Equal(in[:proofSize], fuzzProof); ok != (err == nil) {
			t.Fatalf("input %x: got %v", in, err)
		}
	})
}
