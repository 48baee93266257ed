package replicate

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"

	"scuttle/applog"
	"scuttle/applog/blob"
	"scuttle/applog/replicate/ebt"
)

func TestReadFrame(t *testing.T) {
	x := testID("x")
	tests := []struct {
		name    string
		in      []byte
		typ     byte
		payload []byte
		err     error
	}{
		{"hello", wireHello(1), frameHello, []byte{1}, nil},
		{"heads end", wireHeadsEnd(), frameHeadsEnd, []byte{}, nil},
		{"eof", nil, 0, nil, io.EOF},
		{"empty frame", []byte{0}, 0, nil, ErrMalformed},
		{"truncated length", []byte{0x80}, 0, nil, ErrMalformed},
		{"length overflow", bytes.Repeat([]byte{0xff}, 11), 0, nil, ErrMalformed},
		{"truncated payload", []byte{5, frameHeads, 1}, 0, nil, ErrMalformed},
		{"max size", appendFrameHeader(nil, frameRecords, MaxFrameSize-1), 0, nil, ErrMalformed}, // accepted length, then EOF
		{"over max size", appendFrameHeader(nil, frameRecords, MaxFrameSize), 0, nil, ErrFrameSize},
		{"records", wireRecords(x, 7, []byte("abc")), frameRecords, append(appendID(nil, x), 7, 3<<1, 'a', 'b', 'c'), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ, p, _, err := readFrame(bufio.NewReader(bytes.NewReader(tc.in)), nil)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err: got %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if typ != tc.typ || !bytes.Equal(p, tc.payload) {
				t.Fatalf("got type %d payload %x, want type %d payload %x", typ, p, tc.typ, tc.payload)
			}
		})
	}
}

func TestDecodeRecords(t *testing.T) {
	x := testID("x")
	good := wireRecords(x, 1, []byte("one"), fakeRecord(2, nil, []byte("two"), true))
	tests := []struct {
		name   string
		frame  []byte
		first  uint64
		recs   []string
		signed []bool
		err    error
	}{
		{"two records", good, 1, []string{"one", string(fakeRecord(2, nil, []byte("two"), true))}, []bool{false, true}, nil},
		{"no records", wireFrame(frameRecords, append(appendID(nil, x), 1)), 0, nil, nil, ErrMalformed},
		{"seq 0", wireRecords(x, 0, []byte("a")), 0, nil, nil, ErrMalformed},
		{"empty record", wireFrame(frameRecords, append(appendID(nil, x), 1, 0)), 0, nil, nil, ErrMalformed},
		{"record past the end", wireFrame(frameRecords, append(appendID(nil, x), 1, 10, 'a')), 0, nil, nil, ErrMalformed},
		{"id too long", wireFrame(frameRecords, append(appendID(nil, applog.ID(bytes.Repeat([]byte{'a'}, MaxIDLen+1))), 1, 2, 'a')), 0, nil, nil, ErrMalformed},
		{"id not base32", wireFrame(frameRecords, append(appendID(nil, applog.ID(bytes.Repeat([]byte{'A'}, 52))), 1, 2, 'a')), 0, nil, nil, ErrMalformed},
		{"seq overflow", wireRecords(x, 1<<64-1, []byte("a"), []byte("b")), 0, nil, nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rs records
			err := decodeRecords(tc.frame[len(appendFrameHeader(nil, 0, len(tc.frame))):], &rs)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err: got %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			var recs []string
			for _, r := range rs.Recs {
				recs = append(recs, string(r))
			}
			if rs.ID != x || rs.First != tc.first || !slices.Equal(recs, tc.recs) || !slices.Equal(rs.Signed, tc.signed) {
				t.Fatalf("got %s %d %q %v, want %s %d %q %v", rs.ID, rs.First, recs, rs.Signed, x, tc.first, tc.recs, tc.signed)
			}
		})
	}
}

// FuzzReadFrame reads frames from arbitrary bytes and decodes each by its
// type: it must never panic, never return a payload over the limit, fail
// only with this package's errors, and what decodes must re-encode to
// something that decodes the same.
func FuzzReadFrame(f *testing.F) {
	x := testID("x")
	f.Add(cat(wireHello(1), wireHeads(head{x, 3}), wireHeadsEnd(), wireRecords(x, 1, []byte("a"), []byte("bc"))))
	f.Add(wireHello(0))
	f.Add(appendFrameHeader(nil, frameRecords, MaxFrameSize))
	f.Add([]byte{0})
	f.Add(bytes.Repeat([]byte{0xff}, 12))
	var fid blob.ID
	fid[0] = 7
	f.Add(cat(wireGet(part{ID: fid, Kind: partBlock, Index: 3}), wireGet(part{ID: fid, Kind: partManifest})))
	f.Add(wireFrame(frameData, append(binary.AppendUvarint(appendPart(nil, part{ID: fid, Kind: partManifest}), 40), make([]byte, 40)...)))
	f.Add(wireFrame(frameData, append(appendPart(nil, part{ID: fid, Kind: partBlock, Index: 9}), "block"...)))
	f.Add(wireFrame(frameNone, append(appendPart(nil, part{ID: fid, Kind: partBlock, Index: 9}), nonePart)))
	var enc ebt.Encoder
	np, _ := enc.Append(nil, []ebt.Note{{Log: ebt.Log(x), Seq: 3, Eager: true}, {Log: ebt.Log(testID("y")), Seq: 7, Quiet: true}})
	np2, _ := enc.Append(nil, []ebt.Note{{Log: ebt.Log(x), Seq: 4}})
	f.Add(cat(wireHello(4), wireFrame(frameNotes, np), wireHeadsEnd(), wireFrame(frameNotes, np2), wireFrame(frameNotes, nil)))
	f.Add(wireFrame(frameNotes, []byte{0, 1, 'a', 3}))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		var buf []byte
		var rs records
		var dec ebt.Decoder
		for range 100 {
			typ, p, nbuf, err := readFrame(r, buf)
			buf = nbuf
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrFrameSize) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(p)+1 > MaxFrameSize {
				t.Fatalf("payload of %d bytes", len(p))
			}
			switch typ {
			case frameHello:
				decodeHello(p)
			case frameHeads:
				var hs []head
				if decodeHeads(p, func(h head) error { hs = append(hs, h); return nil }) == nil {
					re := wireHeads(hs...)
					var hs2 []head
					_, p2, _, err := readFrame(bufio.NewReader(bytes.NewReader(re)), nil)
					if err != nil || decodeHeads(p2, func(h head) error { hs2 = append(hs2, h); return nil }) != nil || !slices.Equal(hs, hs2) {
						t.Fatalf("heads %v do not round-trip: %v", hs, err)
					}
				}
			case frameNotes:
				// The notes of one direction: a Decoder across the
				// frames, as a session keeps one.
				if _, err := dec.Decode(nil, p); err != nil && !errors.Is(err, ebt.ErrNotes) {
					t.Fatalf("notes: unexpected error %v", err)
				}
			case frameGet:
				if pt, err := decodeGet(p); err == nil {
					if pt2, err := decodeGet(appendPart(nil, pt)); err != nil || pt2 != pt {
						t.Fatalf("get of %s does not round-trip: %v", pt, err)
					}
				}
			case frameNone:
				if pt, why, err := decodeNone(p); err == nil {
					if pt2, why2, err := decodeNone(append(appendPart(nil, pt), why)); err != nil || pt2 != pt || why2 != why {
						t.Fatalf("none of %s does not round-trip: %v", pt, err)
					}
				}
			case frameData:
				if d, err := decodeData(p); err == nil {
					if len(d.Bytes) == 0 || len(d.Bytes) > blob.BlockSize || !d.valid() {
						t.Fatalf("data of %s with %d bytes accepted", d.part, len(d.Bytes))
					}
					pl := appendPart(nil, d.part)
					if d.Kind == partManifest {
						pl = binary.AppendUvarint(pl, d.Total)
					}
					d2, err := decodeData(append(pl, d.Bytes...))
					if err != nil || d2.part != d.part || d2.Total != d.Total || !bytes.Equal(d2.Bytes, d.Bytes) {
						t.Fatalf("data of %s does not round-trip: %v", d.part, err)
					}
				}
			case frameRecords:
				if decodeRecords(p, &rs) == nil {
					pl := appendID(nil, rs.ID)
					pl = binary.AppendUvarint(pl, rs.First)
					for i, rec := range rs.Recs {
						pl = appendRecord(pl, rec, rs.Signed[i])
					}
					var rs2 records
					if err := decodeRecords(pl, &rs2); err != nil || rs2.ID != rs.ID || rs2.First != rs.First ||
						!slices.EqualFunc(rs.Recs, rs2.Recs, bytes.Equal) || !slices.Equal(rs.Signed, rs2.Signed) {
						t.Fatalf("records do not round-trip: %v", err)
					}
				}
			}
		}
	})
}

func TestDecodeFileFrames(t *testing.T) {
	var id blob.ID
	id[31] = 9
	blk := part{ID: id, Kind: partBlock, Index: 5}
	man := part{ID: id, Kind: partManifest, Index: 1}
	manData := func(total uint64, n int) []byte {
		return append(binary.AppendUvarint(appendPart(nil, man), total), make([]byte, n)...)
	}
	tests := []struct {
		name    string
		payload []byte
		decode  func([]byte) error
		err     error
	}{
		{"get", appendPart(nil, blk), func(b []byte) error { _, err := decodeGet(b); return err }, nil},
		{"get short", appendPart(nil, blk)[:32], func(b []byte) error { _, err := decodeGet(b); return err }, ErrMalformed},
		{"get kind 2", append(id[:], 2, 0), func(b []byte) error { _, err := decodeGet(b); return err }, ErrMalformed},
		{"get trailing", append(appendPart(nil, blk), 0), func(b []byte) error { _, err := decodeGet(b); return err }, ErrMalformed},
		{"get index out of range", appendPart(nil, part{ID: id, Kind: partBlock, Index: 1 << 60}), func(b []byte) error { _, err := decodeGet(b); return err }, nil},
		{"none", append(appendPart(nil, blk), nonePart), func(b []byte) error { _, _, err := decodeNone(b); return err }, nil},
		{"none no reason", appendPart(nil, blk), func(b []byte) error { _, _, err := decodeNone(b); return err }, ErrMalformed},
		{"none reason 2", append(appendPart(nil, blk), 2), func(b []byte) error { _, _, err := decodeNone(b); return err }, ErrMalformed},
		{"block", append(appendPart(nil, blk), make([]byte, blob.BlockSize)...), func(b []byte) error { _, err := decodeData(b); return err }, nil},
		{"block too long", append(appendPart(nil, blk), make([]byte, blob.BlockSize+1)...), func(b []byte) error { _, err := decodeData(b); return err }, ErrMalformed},
		{"block empty", appendPart(nil, blk), func(b []byte) error { _, err := decodeData(b); return err }, ErrMalformed},
		{"block out of range", append(appendPart(nil, part{ID: id, Kind: partBlock, Index: blob.MaxBlocks}), 1), func(b []byte) error { _, err := decodeData(b); return err }, ErrMalformed},
		{"manifest part", manData(blob.BlockSize+100, 100), func(b []byte) error { _, err := decodeData(b); return err }, nil},
		{"manifest part short", manData(blob.BlockSize+100, 99), func(b []byte) error { _, err := decodeData(b); return err }, ErrMalformed},
		{"manifest part past the end", manData(blob.BlockSize, 1), func(b []byte) error { _, err := decodeData(b); return err }, ErrMalformed},
		{"manifest too large", manData(maxManifestLen+1, blob.BlockSize), func(b []byte) error { _, err := decodeData(b); return err }, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.decode(tc.payload); !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
		})
	}
}
