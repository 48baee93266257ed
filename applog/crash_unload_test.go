package applog

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// crashLogs are the logs insertsChild inserts: 40 logs of 150 records
// from fixed keys, signed every 3, the same in every process.
func crashLogs() (ids []ID, runs [][][][]byte) {
	for i := range 40 {
		priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, ed25519.SeedSize))
		s := &signer{priv: priv, pub: priv.Public().(ed25519.PublicKey)}
		var prev [hashSize]byte
		var log [][][]byte
		var run [][]byte
		for seq := uint64(1); seq <= 150; seq++ {
			var sg *signer
			if seq%3 == 0 {
				sg = s
			}
			var rec []byte
			rec, prev = appendRecord(nil, seq, int64(seq), &prev, fmt.Appendf(nil, "log %d entry %d", i, seq), sg)
			if run = append(run, rec); sg != nil {
				log = append(log, run)
				run = nil
			}
		}
		ids = append(ids, idOf(s.pub))
		runs = append(runs, log)
	}
	return ids, runs
}

// insertsChild inserts the next run of random crashLogs, several logs to
// a round, into a writer that keeps at most 4 logs loaded (so logs are
// unloaded and loaded again all the time), and prints "log seq" for
// each record once its insert has returned.
func insertsChild(dir string) {
	db, err := Open(dir, &Options{SegmentSize: 1 << 10, LockWait: 10 * time.Second, MaxLoaded: 4})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	ids, runs := crashLogs()
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	for {
		var batch []*Run
		var lines strings.Builder
		for range 1 + r.IntN(6) {
			i := r.IntN(len(ids))
			head := db.Head(ids[i])
			if head == 150 {
				continue
			}
			batch = append(batch, db.Check(ids[i], runs[i][head/3]))
			fmt.Fprintf(&lines, "%d %d\n", i, head+3)
		}
		if _, err := db.InsertRuns(batch...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		os.Stdout.WriteString(lines.String())
	}
}

// TestCrashUnload: a writer inserting into logs that are unloaded and
// loaded again all the time is killed at random moments; every record it
// acknowledged is there after each crash, for a reader and for the next
// writer (with the bound, and without), and Verify finds nothing.
func TestCrashUnload(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary")
	}
	dir := t.TempDir()
	ids, _ := crashLogs()
	r := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
	acked := make([]uint64, len(ids))
	for round := range 16 {
		ls := killChild(t, childCmd(t, "inserts", dir), time.Duration(50+r.IntN(250))*time.Millisecond, round)
		for _, l := range ls {
			var i int
			var seq uint64
			if _, err := fmt.Sscanf(l, "%d %d", &i, &seq); err == nil {
				acked[i] = max(acked[i], seq)
			}
		}
		for _, opts := range []*Options{{ReadOnly: true}, {MaxLoaded: 4}, nil} {
			db, err := Open(dir, opts)
			if err != nil && opts != nil && opts.ReadOnly && errors.Is(err, fs.ErrNotExist) && !slices.ContainsFunc(acked, func(s uint64) bool { return s > 0 }) {
				// killed before it made the database, and so before it
				// acknowledged anything: there is nothing to read yet,
				// and the writer's Open below makes it
				continue
			}
			if err != nil {
				t.Fatalf("round %d: Open(%+v): %v", round, opts, err)
			}
			for i, id := range ids {
				if h := db.Head(id); h < acked[i] {
					t.Errorf("round %d, %+v: log %d head %d, but %d was acknowledged", round, opts, i, h, acked[i])
				}
				got := readAll(t, db, id)
				for k, e := range got {
					if want := fmt.Sprintf("log %d entry %d", i, k+1); e != want {
						t.Fatalf("round %d: log %d entry %d is %q, want %q", round, i, k+1, e, want)
					}
				}
			}
			verifyNoProblems(t, db)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	total := uint64(0)
	for _, a := range acked {
		total += a
	}
	t.Logf("%d records acknowledged over 16 crashes", total)
}
