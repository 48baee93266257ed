package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"scuttle/applog/seal"
	"scuttle/topology/testkit"
)

// TestSealFigures measures what sealed entries cost a reader they are
// not for: scuttle read, and read --open, over a database of 1M entries
// of which 90 % are other people's private messages, against one of 1M
// public entries of the same size, in the same run. It is a measurement,
// not a check, so it runs only when asked (SCUTTLE_FIGURES_ENTRIES
// changes the total, default 1,000,000):
//
//	SCUTTLE_FIGURES=1 go test -run TestSealFigures -v -timeout 30m .
func TestSealFigures(t *testing.T) {
	testkit.Figures(t)
	total := 1_000_000
	if s := os.Getenv("SCUTTLE_FIGURES_ENTRIES"); s != "" {
		total, _ = strconv.Atoi(s)
	}
	const authors = 9
	perAuthor := total / 10
	dir := t.TempDir()
	sealedDB := newSealUser(t, filepath.Join(dir, "sealed.db"))
	publicDB := newSealUser(t, filepath.Join(dir, "public.db"))
	stranger, _ := seal.GenerateKey() // the others write to someone else
	text := bytes.Repeat([]byte("x"), 100)

	fill := func(u *sealUser, entries [][]byte) {
		t.Helper()
		for i := 0; i < len(entries); i += 10_000 {
			if _, err := u.db.AppendBatch(entries[i:min(i+10_000, len(entries))]); err != nil {
				t.Fatal(err)
			}
		}
	}
	var size int
	for a := range authors {
		s := newSealUser(t, filepath.Join(dir, fmt.Sprint("s", a)))
		p := newSealUser(t, filepath.Join(dir, fmt.Sprint("p", a)))
		ctx := seal.Context{Author: s.id()}
		var sealedEntries, publicEntries [][]byte
		for i := range perAuthor {
			if i < 16 {
				b, err := seal.Seal(ctx, s.kr.Current(), []seal.Recipient{{Log: p.id(), Key: stranger.Public()}}, text)
				if err != nil {
					t.Fatal(err)
				}
				sealedEntries = append(sealedEntries, b)
				size = len(b)
			} else {
				sealedEntries = append(sealedEntries, sealedEntries[i%16])
			}
			publicEntries = append(publicEntries, bytes.Repeat([]byte("y"), size))
		}
		fill(s, sealedEntries)
		fill(p, publicEntries)
		copyLogBatches(t, s, sealedDB)
		copyLogBatches(t, p, publicDB)
		s.db.Close()
		p.db.Close()
		os.RemoveAll(s.dir)
		os.RemoveAll(p.dir)
	}
	own := make([][]byte, perAuthor-1) // the own key entry is the first
	for i := range own {
		own[i] = bytes.Repeat([]byte("z"), size)
	}
	fill(sealedDB, own)
	fill(publicDB, own)
	sealedDB.db.Close()
	publicDB.db.Close()

	read := func(db string, args ...string) time.Duration {
		var errb strings.Builder
		start := time.Now()
		code := run(context.Background(), append([]string{"read", "--db", db}, args...), strings.NewReader(""), io.Discard, &errb, func(string) string { return "" })
		d := time.Since(start)
		if code != 0 {
			t.Fatalf("read: %d %s", code, errb.String())
		}
		return d
	}
	for _, args := range [][]string{nil, {"--open"}} {
		var ds, dp []time.Duration
		for range 3 { // interleaved, so that both see the same load
			ds = append(ds, read(sealedDB.dir, args...))
			dp = append(dp, read(publicDB.dir, args...))
		}
		slices.Sort(ds)
		slices.Sort(dp)
		t.Logf("read %v over %d entries (90%% others' private messages, %d B each): median %v; over as many public entries of the same size: %v; ratio %.2f",
			args, total, size, ds[1], dp[1], float64(ds[1])/float64(dp[1]))
	}
}

// copyLogBatches inserts from's own log into to's database, in runs of
// about 10,000 records that each end with a signed one.
func copyLogBatches(t *testing.T, from, to *sealUser) {
	t.Helper()
	var recs [][]byte
	flush := func() {
		if _, err := to.db.Insert(from.id(), recs); err != nil {
			t.Fatal(err)
		}
		recs = recs[:0]
	}
	it := from.db.Iter(from.id(), 1)
	for it.Next() {
		recs = append(recs, bytes.Clone(it.Record()))
		if len(recs) >= 10_000 && it.Signed() { // a run ends signed
			flush()
		}
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if len(recs) > 0 {
		flush()
	}
}
