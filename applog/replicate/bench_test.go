package replicate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"scuttle/applog"
)

// Benchmarks: go test -run '^$' -bench . -benchtime 1x ./applog/replicate
//
// Each reports entries/s next to a baseline measured in the same run: a
// plain TCP stream on 127.0.0.1 of as many bytes as the records take,
// written in 64 KiB writes and read into a 64 KiB buffer.

const benchEntry = 100 // payload bytes per entry

// fillLog appends n entries of benchEntry bytes to db's own log in batches
// of batch.
func fillLog(tb testing.TB, db *applog.DB, n, batch int) {
	tb.Helper()
	payload := bytes.Repeat([]byte{'x'}, benchEntry)
	data := make([][]byte, batch)
	for i := range data {
		data[i] = payload
	}
	for i := 0; i < n; i += batch {
		if _, err := db.AppendBatch(data[:min(batch, n-i)]); err != nil {
			tb.Fatal(err)
		}
	}
}

// recordBytes returns the encoded size of every record db holds.
func recordBytes(tb testing.TB, db *applog.DB) int64 {
	var total int64
	for id := range db.Heads() {
		it := db.Iter(id, 1)
		for it.Next() {
			total += int64(len(it.Record()))
		}
		if err := it.Err(); err != nil {
			tb.Fatal(err)
		}
		it.Close()
	}
	return total
}

// baselineTCP streams n bytes over a fresh 127.0.0.1 TCP connection and
// returns how long it took until the reader had them all.
func baselineTCP(tb testing.TB, n int64) time.Duration {
	ca, cb := tcpPair(tb)
	defer ca.Close()
	defer cb.Close()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		buf := make([]byte, 64<<10)
		var got int64
		for got < n {
			k, err := cb.Read(buf)
			got += int64(k)
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	buf := make([]byte, 64<<10)
	for left := n; left > 0; {
		k := int64(len(buf))
		if left < k {
			k = left
		}
		if _, err := ca.Write(buf[:k]); err != nil {
			tb.Fatal(err)
		}
		left -= k
	}
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// baselineInsert copies every log of src into a new empty database by
// Insert alone, in runs of about batchBytes that end signed, one log after the
// other, and returns how long it took: what the store takes without any
// network or protocol.
func baselineInsert(b *testing.B, src *applog.DB) time.Duration {
	dst, err := applog.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	start := time.Now()
	var arena []byte
	var ends []int
	flush := func(id applog.ID, upTo int) {
		recs := make([][]byte, 0, upTo)
		s := 0
		for _, e := range ends[:upTo] {
			recs = append(recs, arena[s:e])
			s = e
		}
		if _, err := dst.Insert(id, recs); err != nil {
			b.Fatal(err)
		}
		rest := copy(arena, arena[s:])
		arena = arena[:rest]
		k := copy(ends, ends[upTo:])
		ends = ends[:k]
		for i := range ends {
			ends[i] -= s
		}
	}
	for id := range src.Heads() {
		it := src.Iter(id, 1)
		signedN := 0
		for it.Next() {
			arena = append(arena, it.Record()...)
			ends = append(ends, len(arena))
			if it.Signed() {
				signedN = len(ends)
				if len(arena) >= batchBytes {
					flush(id, signedN)
					signedN = 0
				}
			}
		}
		if signedN > 0 {
			flush(id, signedN)
		}
		it.Close()
	}
	return time.Since(start)
}

// syncTo replicates src to a new empty database and returns how long until
// it held want entries in total, durably and verified.
func syncTo(b *testing.B, src *applog.DB, want map[applog.ID]uint64) time.Duration {
	dst, err := applog.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	start := time.Now()
	l := connect(b, FromDB(src), FromDB(dst), true)
	waitUntil(b, FromDB(dst), "replica", func() bool {
		for id, h := range want {
			if dst.Head(id) < h {
				return false
			}
		}
		return true
	})
	d := time.Since(start)
	l.stop(b)
	return d
}

// reportRate reports the replication rate and the two baselines: the
// plain TCP stream and the store's own Insert rate.
func reportRate(b *testing.B, entries int64, d, tcp, store time.Duration) {
	rate := float64(entries) / d.Seconds()
	b.ReportMetric(rate, "entries/s")
	b.ReportMetric(float64(entries)/tcp.Seconds(), "tcp-entries/s")
	b.ReportMetric(tcp.Seconds()/d.Seconds(), "ratio-to-tcp")
	b.ReportMetric(float64(entries)/store.Seconds(), "insert-entries/s")
	b.ReportMetric(store.Seconds()/d.Seconds(), "ratio-to-insert")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkOneLog(b *testing.B) {
	const n = 1_000_000
	src, err := applog.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	fillLog(b, src, n, 1000)
	size := recordBytes(b, src)
	want := map[applog.ID]uint64{src.ID(): n}
	b.Logf("1 log x %d entries: %d record bytes (%.0f per record)", n, size, float64(size)/n)

	b.Run("in-process", func(b *testing.B) {
		var d, base, store time.Duration
		for b.Loop() {
			d += syncTo(b, src, want)
			base += baselineTCP(b, size)
			store += baselineInsert(b, src)
		}
		reportRate(b, n*int64(b.N), d, base, store)
	})
	b.Run("two-processes", func(b *testing.B) {
		var d, base, store time.Duration
		var hwm int64
		for b.Loop() {
			dd, h := syncToChild(b, src, n)
			d += dd
			hwm = max(hwm, h)
			base += baselineTCP(b, size)
			store += baselineInsert(b, src)
		}
		reportRate(b, n*int64(b.N), d, base, store)
		b.ReportMetric(float64(hwm)/1024, "receiver-VmHWM-MiB")
	})
}

func Benchmark1000Logs(b *testing.B) {
	const logs, per = 1000, 1000
	src, err := applog.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	// The authors' databases stay until the benchmark ends: removing
	// their files before the timed part would slow every file the replica
	// creates (see baselineFiles).
	authors := b.TempDir()
	want := map[applog.ID]uint64{}
	for i := range logs {
		au, err := applog.Open(filepath.Join(authors, strconv.Itoa(i)), nil)
		if err != nil {
			b.Fatal(err)
		}
		fillLog(b, au, per, per)
		recs, _ := dbRecords(b, au, au.ID(), 1, per)
		if _, err := src.Insert(au.ID(), recs); err != nil {
			b.Fatal(err)
		}
		want[au.ID()] = per
		au.Close()
	}
	size := recordBytes(b, src)
	b.ResetTimer()
	var d, base, store, files time.Duration
	for b.Loop() {
		d += syncTo(b, src, want)
		base += baselineTCP(b, size)
		store += baselineInsert(b, src)
		files += baselineFiles(b, logs)
	}
	reportRate(b, logs*per*int64(b.N), d, base, store)
	b.ReportMetric(float64(logs*per*b.N)/files.Seconds(), "files-entries/s")
	b.ReportMetric(files.Seconds()/d.Seconds(), "ratio-to-files")
}

// baselineFiles creates the files that n new logs take (a directory, and
// in it a segment and an index file with their 16-byte headers), on every
// CPU at once, and returns how long it took. Nothing is synced. A replica
// must make these for every new log, and their cost varies more than
// anything else here. To allocate an inode, ext4 without a journal
// passes over each free inode of the block group that was freed in the
// last one to five minutes, reading its deletion time (recently_deleted
// in fs/ext4/ialloc.c). After a run's clean-up has removed its ~20,000
// files, each new file costs milliseconds instead of microseconds until
// they age out. For figures, leave five minutes between runs.
func baselineFiles(b *testing.B, n int) time.Duration {
	dir := b.TempDir()
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var hdr [16]byte
			for i := range next {
				d := filepath.Join(dir, strconv.Itoa(i))
				if err := os.Mkdir(d, 0o755); err != nil {
					b.Error(err)
					continue
				}
				for _, name := range []string{"seg", "idx"} {
					if err := os.WriteFile(filepath.Join(d, name), hdr[:], 0o644); err != nil {
						b.Error(err)
					}
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return time.Since(start)
}

// BenchmarkLive measures entries from append on one peer to stored on the
// other, over an established connection, one at a time: liveSamples per op.
func BenchmarkLive(b *testing.B) {
	const liveSamples = 1000
	a, err := applog.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	c, err := applog.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	connect(b, FromDB(a), FromDB(c), true)
	payload := bytes.Repeat([]byte{'x'}, benchEntry)
	var total, afterDurable, appendOnly []time.Duration
	for b.Loop() {
		for range liveSamples {
			t0 := time.Now()
			seq, err := a.Append(payload)
			if err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			for {
				ch := c.Changed()
				if c.Head(a.ID()) >= seq {
					break
				}
				<-ch
			}
			t2 := time.Now()
			total = append(total, t2.Sub(t0))
			afterDurable = append(afterDurable, t2.Sub(t1))
			appendOnly = append(appendOnly, t1.Sub(t0))
		}
	}
	pct := func(ds []time.Duration, p float64) float64 {
		slices.Sort(ds)
		return float64(ds[int(float64(len(ds)-1)*p)].Microseconds())
	}
	b.ReportMetric(pct(total, 0.5), "p50-append-to-stored-µs")
	b.ReportMetric(pct(total, 0.99), "p99-append-to-stored-µs")
	b.ReportMetric(pct(afterDurable, 0.5), "p50-durable-to-stored-µs")
	b.ReportMetric(pct(appendOnly, 0.5), "p50-local-append-µs")
}

// syncToChild replicates src to an empty database in a child process (this
// test binary re-executed as TestReceiverChild) and returns how long until
// the child held n entries, and the child's peak RSS in KiB (VmHWM).
func syncToChild(b *testing.B, src *applog.DB, n uint64) (time.Duration, int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReceiverChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(),
		"REPLICATE_CHILD_ADDR="+ln.Addr().String(),
		"REPLICATE_CHILD_DIR="+b.TempDir(),
		"REPLICATE_CHILD_LOG="+string(src.ID()),
		"REPLICATE_CHILD_HEAD="+strconv.FormatUint(n, 10))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	conn, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, conn, FromDB(src), nil) }()
	<-errc // ends when the child, done, closes the connection
	d := time.Since(start)
	cancel()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("child: %v\n%s", err, out.String())
	}
	var hwm int64
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "child-VmHWM-kB "); ok {
			hwm, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if hwm == 0 {
		b.Fatalf("child did not report VmHWM:\n%s", out.String())
	}
	return d, hwm
}

// TestReceiverChild is the receiving process of BenchmarkOneLog's
// two-process run; it does nothing unless started by it.
func TestReceiverChild(t *testing.T) {
	addr := os.Getenv("REPLICATE_CHILD_ADDR")
	if addr == "" {
		t.Skip("only run as BenchmarkOneLog's child")
	}
	want, _ := strconv.ParseUint(os.Getenv("REPLICATE_CHILD_HEAD"), 10, 64)
	id := applog.ID(os.Getenv("REPLICATE_CHILD_LOG"))
	db, err := applog.Open(os.Getenv("REPLICATE_CHILD_DIR"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, conn, FromDB(db), nil) }()
	deadline := time.After(5 * time.Minute)
	for {
		ch := db.Changed()
		if db.Head(id) >= want {
			break
		}
		select {
		case <-ch:
		case err := <-errc:
			t.Fatalf("Serve ended early: %v", err)
		case <-deadline:
			t.Fatalf("timeout: head %d, want %d", db.Head(id), want)
		}
	}
	cancel()
	<-errc
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Printf("child-VmHWM-kB %s\n", strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	io.WriteString(os.Stdout, "child done\n")
}
