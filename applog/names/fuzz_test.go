package names

import (
	"bytes"
	"log/slog"
	"testing"
	"time"
)

// FuzzReplay replays arbitrary file contents. It must not panic; every
// binding it keeps must be one a record can hold and encode back to;
// and a valid record appended after any bytes whatsoever must be read
// whole (damage never costs the records after it).
func FuzzReplay(f *testing.F) {
	t0 := time.Date(2026, 12, 1, 9, 10, 11, 0, time.UTC)
	good := appendRecord(nil, Binding{"alice", testID(1), Direct, t0})
	f.Add([]byte{})
	f.Add(good)
	f.Add(append(bytes.Clone(good), good[:20]...))
	f.Add([]byte("\nn1 trusted bob " + string(testID(2)) + " 2026-12-01T09:10:11Z 00000000\n"))
	f.Add(bytes.Repeat([]byte("x"), maxLine+1))
	probe := Binding{"fuzz-probe", testID(7), Trusted, t0}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &Store{byKey: map[string]Binding{}, max: 4, log: slog.New(slog.DiscardHandler)}
		if err := s.replay(bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if s.read > int64(len(data)) {
			t.Fatalf("consumed %d of %d bytes", s.read, len(data))
		}
		untrusted := 0
		for k, b := range s.byKey {
			if k != lowerASCII(b.Name) {
				t.Fatalf("binding %q kept under key %q", b.Name, k)
			}
			if b.How != Trusted {
				untrusted++
			}
			rec := appendRecord(nil, b)
			back, err := parseRecord(rec[1 : len(rec)-1])
			if err != nil || back != b {
				t.Fatalf("binding %+v encodes to %q, which parses as %+v, %v", b, rec, back, err)
			}
		}
		if untrusted != s.untrusted || untrusted > s.max {
			t.Fatalf("%d untrusted bindings, counted %d, max %d", untrusted, s.untrusted, s.max)
		}

		// The same bytes followed by a valid record.
		s = &Store{byKey: map[string]Binding{}, max: 4, log: slog.New(slog.DiscardHandler)}
		all := appendRecord(bytes.Clone(data), probe)
		if err := s.replay(bytes.NewReader(all)); err != nil {
			t.Fatal(err)
		}
		if got := s.byKey[probe.Name]; got != probe {
			t.Fatalf("the record after %q was lost: got %+v", data, got)
		}
		if s.read != int64(len(all)) {
			t.Fatalf("consumed %d of %d bytes, which end with a complete record", s.read, len(all))
		}
	})
}
