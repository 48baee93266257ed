package applog

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Insert benchmarks: records made in memory by other authors are stored
// by Insert in runs of insertRun records (what a replication receiver
// hands the store), into a fresh database each time:
//
//	go test -run '^$' -bench 'Insert' -benchtime 3x ./applog
//
// BenchmarkInsertBaseline writes the same record bytes, run by run, to
// one plain file with an fdatasync after each run: the least a durable
// store of those runs can cost.

const insertRunLen = 2500 // records per Insert, about what a receiver batches

// benchLog is the records of one author's log, grouped into runs that
// each end with a signed record.
type benchLog struct {
	id   ID
	runs [][][]byte
}

// makeBenchLogs builds logs×per 100-byte records, signed every signEvery
// records and at the end, grouped into runs of about insertRunLen.
func makeBenchLogs(tb testing.TB, logs, per, signEvery int) []benchLog {
	tb.Helper()
	payload := benchPayloads(1)[0]
	out := make([]benchLog, logs)
	for i := range out {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		s := &signer{priv: priv, pub: pub}
		out[i].id = idOf(pub)
		var prev [hashSize]byte
		var run [][]byte
		arena := make([]byte, 0, per*(offPayload+benchEntry)+(per/signEvery+1)*sigSize)
		for seq := 1; seq <= per; seq++ {
			sign := seq%signEvery == 0 || seq == per
			var sg *signer
			if sign {
				sg = s
			}
			start := len(arena)
			var h [hashSize]byte
			arena, h = appendRecord(arena, uint64(seq), int64(seq), &prev, payload, sg)
			prev = h
			run = append(run, arena[start:len(arena):len(arena)])
			if sign && (len(run) >= insertRunLen || seq == per) {
				out[i].runs = append(out[i].runs, run)
				run = nil
			}
		}
	}
	return out
}

func countRecs(logs []benchLog) (n int) {
	for _, l := range logs {
		for _, r := range l.runs {
			n += len(r)
		}
	}
	return n
}

// insertCases are the shapes measured: one long log; many short logs
// (each new to the database, so the cost of adding a log shows); and
// the many logs inserted from 8 goroutines at once, as a replication
// receiver does, so that group commit can share their syncs.
var insertCases = []struct {
	name                 string
	logs, per, signEvery int
	goroutines           int
}{
	{"logs=1/entries=1M", 1, 1 << 20, 1000, 1},
	{"logs=1000/entries=1000", 1000, 1000, 1000, 1},
	{"logs=1000/entries=1000/goroutines=8", 1000, 1000, 1000, 8},
}

func BenchmarkInsert(b *testing.B) {
	for _, c := range insertCases {
		b.Run(c.name, func(b *testing.B) {
			logs := makeBenchLogs(b, c.logs, c.per, c.signEvery)
			n := countRecs(logs)
			loopFresh(b, n, func(dir string) (func(), func()) {
				db := openBench(b, dir)
				return func() { insertAll(b, db, logs, c.goroutines) }, func() {
					commits := db.gc.commits.Load()
					if err := db.Close(); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(n)/float64(commits), "entries/commit")
				}
			})
		})
	}
}

// insertAll inserts every run of logs into db, the logs shared out
// among g goroutines (each log's runs in order).
func insertAll(b testing.TB, db *DB, logs []benchLog, g int) {
	var wg sync.WaitGroup
	next := make(chan *benchLog)
	for range g {
		wg.Go(func() {
			for l := range next {
				for _, r := range l.runs {
					if n, err := db.Insert(l.id, r); err != nil || n != len(r) {
						b.Errorf("insert %s: %d of %d stored: %v", l.id.Short(), n, len(r), err)
						return
					}
				}
			}
		})
	}
	for i := range logs {
		next <- &logs[i]
	}
	close(next)
	wg.Wait()
}

// BenchmarkInsertBaseline writes the bytes of the one-log case, run by
// run, to a plain file with an fdatasync after each run.
func BenchmarkInsertBaseline(b *testing.B) {
	c := insertCases[0]
	logs := makeBenchLogs(b, c.logs, c.per, c.signEvery)
	var buf []byte
	loopFresh(b, countRecs(logs), func(dir string) (func(), func()) {
		f := createBench(b, dir)
		return func() {
			for _, r := range logs[0].runs {
				buf = buf[:0]
				for _, rec := range r {
					buf = append(buf, rec...)
				}
				if _, err := f.Write(buf); err != nil {
					b.Fatal(err)
				}
				if err := fdatasync(f); err != nil {
					b.Fatal(err)
				}
			}
		}, func() { f.Close() }
	})
}

// BenchmarkNewLogBaseline is the least that adding a log durably costs
// with one directory per log: create a directory and a file in it, and
// fsync the file and both directories.
func BenchmarkNewLogBaseline(b *testing.B) {
	dir := b.TempDir()
	i := 0
	for b.Loop() {
		d := filepath.Join(dir, fmt.Sprint(i))
		i++
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(filepath.Join(d, "f"))
		if err != nil {
			b.Fatal(err)
		}
		if err := fdatasync(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if err := syncDir(d); err != nil {
			b.Fatal(err)
		}
		if err := syncDir(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/log")
}
