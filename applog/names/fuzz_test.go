package names

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"scuttle/applog/names/glyph"
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
		s := &Store{st: newState(4, 2), log: slog.New(slog.DiscardHandler)}
		if err := s.replay(bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if s.read > int64(len(data)) {
			t.Fatalf("consumed %d of %d bytes", s.read, len(data))
		}
		count := map[How]int{}
		for k, b := range s.st.byKey {
			if k != Skeleton(b.Name) {
				t.Fatalf("binding %q kept under key %q", b.Name, k)
			}
			if !slices.Contains(s.st.byID[b.ID], k) {
				t.Fatalf("binding %q not among its log's keys %q", b.Name, s.st.byID[b.ID])
			}
			count[b.How]++
			rec := appendRecord(nil, b)
			back, err := parseRecord(rec[1 : len(rec)-1])
			if err != nil || back != b {
				t.Fatalf("binding %+v encodes to %q, which parses as %+v, %v", b, rec, back, err)
			}
		}
		if count[Direct] != s.st.direct || count[Direct] > s.st.maxDirect || count[Claimed] != s.st.nclaim || count[Claimed] > s.st.maxClaimed {
			t.Fatalf("bindings %v, counted %d direct and %d claimed", count, s.st.direct, s.st.nclaim)
		}

		// The same bytes followed by a valid record.
		s = &Store{st: newState(4, 2), log: slog.New(slog.DiscardHandler)}
		all := appendRecord(bytes.Clone(data), probe)
		if err := s.replay(bytes.NewReader(all)); err != nil {
			t.Fatal(err)
		}
		if got := s.st.byKey[Skeleton(probe.Name)]; got != probe {
			t.Fatalf("the record after %q was lost: got %+v", data, got)
		}
		if s.read != int64(len(all)) {
			t.Fatalf("consumed %d of %d bytes, which end with a complete record", s.read, len(all))
		}
	})
}

// FuzzSkeleton checks Skeleton on any string: it never panics, it is
// idempotent, it keeps no invisible character, and names that differ
// only by case or by invisible characters have one skeleton.
func FuzzSkeleton(f *testing.F) {
	for _, s := range []string{"bob", "bоb", "bob\u200b", "\u202eBOB", "ｂｏｂ", "\U0001d41b", "zoë", "\xff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Skeleton(s)
		if again := Skeleton(k); again != k {
			t.Fatalf("Skeleton(%+q) = %+q, whose skeleton is %+q", s, k, again)
		}
		for _, r := range k {
			if glyph.Invisible(r) {
				t.Fatalf("Skeleton(%+q) = %+q keeps the invisible %U", s, k, r)
			}
		}
		// Only where upper-casing round-trips: "ſ" upper-cases to "S".
		upper := strings.ToUpper(s)
		roundTrips := strings.Compare(strings.ToLower(upper), strings.ToLower(s)) == 0 // not EqualFold: it folds ſ and s
		if up := Skeleton(upper + "\u200d"); utf8.ValidString(s) && roundTrips && up != k {
			t.Fatalf("Skeleton(%+q) = %+q, but of its upper case with a joiner %+q", s, k, up)
		}
	})
}
