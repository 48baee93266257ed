package applog

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks come in pairs: BenchmarkX measures the store,
// BenchmarkXBaseline the limit it is compared with (plain file I/O of
// the same bytes), so figures can be reported as ratios from one run:
//
//	go test -run '^$' -bench . -benchtime 3x ./applog
//
// APPLOG_BENCH_OPEN_N sets the size of the database BenchmarkOpen builds
// (default 2,000,000 entries; 10,000,000 takes ~1.6 GB of disk).

const benchEntry = 100 // payload bytes

func benchPayloads(n int) [][]byte {
	p := make([]byte, benchEntry)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	d := make([][]byte, n)
	for i := range d {
		d[i] = p
	}
	return d
}

func reportRate(b *testing.B, entries int) {
	b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "entries/s")
}

// loopFresh times one round per b.Loop iteration on a directory of its
// own: open prepares the directory untimed and returns the timed work and
// an untimed close; the directory is removed after each round. It
// reports n entries per round as entries/s.
func loopFresh(b *testing.B, n int, open func(dir string) (work, close func())) {
	total := 0
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		work, closeRound := open(dir)
		b.StartTimer()
		work()
		b.StopTimer()
		closeRound()
		os.RemoveAll(dir)
		b.StartTimer()
		total += n
	}
	reportRate(b, total)
}

// openBench opens a database in dir for a benchmark round.
func openBench(b *testing.B, dir string) *DB {
	db, err := Open(dir, benchOpts())
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// createBench creates the plain file of a baseline round in dir.
func createBench(b *testing.B, dir string) *os.File {
	f, err := os.Create(filepath.Join(dir, "plain"))
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkBatchAppend appends 1M 100-byte entries in one durable
// AppendBatch (hashing, framing, signing every 1024, writing, fsync).
func BenchmarkBatchAppend(b *testing.B) {
	const n = 1 << 20
	data := benchPayloads(n)
	loopFresh(b, n, func(dir string) (func(), func()) {
		db := openBench(b, dir)
		return func() {
			if _, err := db.AppendBatch(data); err != nil {
				b.Fatal(err)
			}
		}, func() { db.Close() }
	})
}

// BenchmarkBatchAppendBaseline writes the same entries as CRC-framed
// records (length, CRC-32C, payload) through a 64 KiB buffer into one
// file and fdatasyncs once.
func BenchmarkBatchAppendBaseline(b *testing.B) {
	const n = 1 << 20
	data := benchPayloads(n)
	loopFresh(b, n, func(dir string) (func(), func()) {
		f := createBench(b, dir)
		return func() {
			w := bufio.NewWriterSize(f, 64<<10)
			var hdr [8]byte
			for _, d := range data {
				binary.LittleEndian.PutUint32(hdr[:], uint32(len(d)))
				binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(d, castagnoli))
				w.Write(hdr[:])
				w.Write(d)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := fdatasync(f); err != nil {
				b.Fatal(err)
			}
		}, func() { f.Close() }
	})
}

// BenchmarkConcurrentAppend: single-entry Appends from many goroutines,
// grouped into shared fsyncs.
func BenchmarkConcurrentAppend(b *testing.B) {
	for _, g := range []int{1, 64, 256} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			db, err := Open(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			p := benchPayloads(1)[0]
			per := max(b.N/g, 1)
			b.ResetTimer()
			var wg sync.WaitGroup
			for range g {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range per {
						if _, err := db.Append(p); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			reportRate(b, per*g)
			b.ReportMetric(float64(per*g)/float64(db.gc.commits.Load()), "entries/commit")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(db.gc.commits.Load()), "µs/commit")
		})
	}
}

// BenchmarkAppend is one durable single-entry Append at a time.
func BenchmarkAppend(b *testing.B) {
	db, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	p := benchPayloads(1)[0]
	for b.Loop() {
		if _, err := db.Append(p); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N)
}

// BenchmarkAppendBaseline appends 100 bytes to a file and fdatasyncs, the
// least a durable append can cost.
func BenchmarkAppendBaseline(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "plain"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	p := benchPayloads(1)[0]
	for b.Loop() {
		if _, err := f.Write(p); err != nil {
			b.Fatal(err)
		}
		if err := fdatasync(f); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N)
}

// buildBench makes a database with n 100-byte entries in the own log.
func buildBench(b *testing.B, dir string, n int) {
	b.Helper()
	db, err := Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	data := benchPayloads(min(n, 1<<20))
	for left := n; left > 0; left -= len(data) {
		if _, err := db.AppendBatch(data[:min(left, len(data))]); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
}

// plainFrames writes n CRC-framed 100-byte entries to one file.
func plainFrames(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	p := benchPayloads(1)[0]
	var hdr [8]byte
	for range n {
		binary.LittleEndian.PutUint32(hdr[:], uint32(len(p)))
		binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(p, castagnoli))
		w.Write(hdr[:])
		w.Write(p)
	}
	w.Flush()
	f.Close()
}

// BenchmarkReadAll iterates 1M entries with Iter (CRC and seq checked).
func BenchmarkReadAll(b *testing.B) {
	const n = 1 << 20
	dir := b.TempDir()
	buildBench(b, dir, n)
	db, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	total := 0
	for b.Loop() {
		it := db.Iter(db.ID(), 1)
		c := 0
		for it.Next() {
			c++
		}
		if it.Err() != nil || c != n {
			b.Fatalf("read %d: %v", c, it.Err())
		}
		it.Close()
		total += c
	}
	reportRate(b, total)
}

// BenchmarkReadAllBaseline scans a file of the same CRC-framed entries in
// 256 KiB reads, checking each CRC.
func BenchmarkReadAllBaseline(b *testing.B) {
	const n = 1 << 20
	path := filepath.Join(b.TempDir(), "plain")
	plainFrames(b, path, n)
	buf := make([]byte, 256<<10)
	total := 0
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		c, off, pos, end := 0, int64(0), 0, 0
		for {
			if end-pos < 8+benchEntry {
				rest := copy(buf, buf[pos:end])
				m, err := f.ReadAt(buf[rest:], off+int64(end))
				off += int64(pos)
				pos, end = 0, rest+m
				if m == 0 && err == io.EOF {
					break
				}
			}
			l := int(binary.LittleEndian.Uint32(buf[pos:]))
			if crc32.Checksum(buf[pos+8:pos+8+l], castagnoli) != binary.LittleEndian.Uint32(buf[pos+4:]) {
				b.Fatal("crc")
			}
			pos += 8 + l
			c++
		}
		f.Close()
		if c != n {
			b.Fatalf("read %d", c)
		}
		total += c
	}
	reportRate(b, total)
}

// BenchmarkGet reads entries at random seqs of a 1M-entry log.
func BenchmarkGet(b *testing.B) {
	const n = 1 << 20
	dir := b.TempDir()
	buildBench(b, dir, n)
	db, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(1, 2))
	id := db.ID()
	for b.Loop() {
		if _, err := db.Get(id, 1+r.Uint64N(n)); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N)
}

// BenchmarkGetBaseline is one 108-byte pread at a random entry of a file
// of the same framed entries.
func BenchmarkGetBaseline(b *testing.B) {
	const n = 1 << 20
	path := filepath.Join(b.TempDir(), "plain")
	plainFrames(b, path, n)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 8+benchEntry)
	for b.Loop() {
		if _, err := f.ReadAt(buf, int64(r.IntN(n))*int64(len(buf))); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N)
}

// BenchmarkOpen opens (and closes) a large database; it also reports
// the peak RSS of a fresh process that opens it read-only and as a
// writer (rss-MB), measured in a child process.
func BenchmarkOpen(b *testing.B) {
	n := 2_000_000
	if s := os.Getenv("APPLOG_BENCH_OPEN_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := b.TempDir()
	buildBench(b, dir, n)
	for _, ro := range []bool{false, true} {
		b.Run(fmt.Sprintf("entries=%d/readonly=%v", n, ro), func(b *testing.B) {
			for b.Loop() {
				db, err := Open(dir, &Options{ReadOnly: ro})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if h := db.Head(db.ID()); h != uint64(n) {
					b.Fatalf("head %d, want %d", h, n)
				}
				db.Close()
				b.StartTimer()
			}
			out, err := childOpen(dir, ro)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(out, "rss-MB")
		})
	}
}

// childOpen runs the test binary as a child that opens dir, reads one
// entry and reports its peak RSS (VmHWM) in MB.
func childOpen(dir string, ro bool) (float64, error) {
	cmd := childCmdPlain("open", dir, envCount+"="+strconv.FormatBool(ro))
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("child: %v: %s", err, out)
	}
	for l := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "rss-kB "); ok {
			kb, err := strconv.ParseFloat(v, 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("child said %q", out)
}

// openChild is the child of childOpen.
func openChild(dir string, ro bool) {
	start := time.Now()
	db, err := Open(dir, &Options{ReadOnly: ro})
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	took := time.Since(start)
	if _, err := db.Get(db.ID(), db.Head(db.ID())); err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	st, _ := os.ReadFile("/proc/self/status")
	for l := range strings.Lines(string(st)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Printf("rss-kB %s\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	fmt.Printf("open %v\n", took)
	db.Close()
}

func benchOpts() *Options {
	if s := os.Getenv("APPLOG_SEG"); s != "" {
		n, _ := strconv.ParseInt(s, 10, 64)
		return &Options{SegmentSize: n}
	}
	return nil
}
