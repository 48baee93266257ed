//go:build unix

package applog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// oneEntryLogs makes n logs of one signed record each.
func oneEntryLogs(tb testing.TB, n int) []benchLog {
	tb.Helper()
	return makeBenchLogs(tb, n, 1, 1)
}

// insertLogs inserts logs, 500 to a round.
func insertLogs(tb testing.TB, db *DB, logs []benchLog) {
	tb.Helper()
	for i := 0; i < len(logs); i += 500 {
		var runs []*Run
		for _, l := range logs[i:min(i+500, len(logs))] {
			runs = append(runs, db.Check(l.id, l.runs[0]))
		}
		want := min(i+500, len(logs)) - i
		if n, err := db.InsertRuns(runs...); err != nil || n != want {
			tb.Fatalf("InsertRuns: %d stored, %v; want %d", n, err, want)
		}
	}
}

// openFiles counts this process's open file descriptors.
func openFiles() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

// TestManyLogsFewFiles opens a 5,000-log database in a child process
// limited to 256 open files, where a DB holding two files per log could
// not even open it: the child appends, reads every entry through the
// feed, and inserts 100 new logs, and reports the most files it had
// open. Then the parent checks everything is there.
func TestManyLogsFewFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	const n = 5000
	dir := t.TempDir()
	db := openT(t, dir, nil)
	insertLogs(t, db, oneEntryLogs(t, n))
	if _, err := db.Append([]byte("before")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		cmd := childCmd(t, "fewfiles", dir, envCount+"="+strconv.FormatBool(ro))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child (read-only %v): %v\n%s", ro, err, out)
		}
		var entries, maxOpen, logs int
		if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "entries %d logs %d open %d", &entries, &logs, &maxOpen); err != nil {
			t.Fatalf("child said %q", out)
		}
		// the writer child appends one and inserts 100 logs, and counts
		// them; the read-only one then finds them
		wantEntries, wantLogs := n+2+100, n+1+100
		if entries != wantEntries || logs != wantLogs {
			t.Errorf("child (read-only %v) read %d entries of %d logs, want %d of %d", ro, entries, logs, wantEntries, wantLogs)
		}
		// 64 idle log files, the files of the logs in the rounds under
		// way, the DB's own (lock, table, feed, state) and the test
		// binary's
		if maxOpen > maxIdleFiles+40 {
			t.Errorf("child (read-only %v) had %d files open, want at most %d", ro, maxOpen, maxIdleFiles+40)
		}
		t.Logf("read-only %v: %d entries of %d logs, at most %d files open", ro, entries, logs, maxOpen)
	}
	db = openT(t, dir, &Options{ReadOnly: true})
	heads := db.Heads()
	if len(heads) != n+101 {
		t.Fatalf("%d logs after the child, want %d", len(heads), n+101)
	}
	for id, h := range heads {
		if want := uint64(1); id == db.ID() {
			if h != 2 {
				t.Errorf("own log head %d, want 2", h)
			}
		} else if h != want {
			t.Errorf("log %s head %d, want %d", id.Short(), h, want)
		}
	}
	verifyClean(t, db)
}

// fewFilesChild is the child of TestManyLogsFewFiles.
func fewFilesChild(dir string, ro bool) {
	fail := func(err error) {
		fmt.Println(err)
		os.Exit(3)
	}
	lim := syscall.Rlimit{Cur: 256, Max: 256}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fail(err)
	}
	maxOpen := 0
	look := func() { maxOpen = max(maxOpen, openFiles()) }
	db, err := Open(dir, &Options{ReadOnly: ro})
	if err != nil {
		fail(err)
	}
	look()
	if !ro {
		if _, err := db.Append([]byte("child")); err != nil {
			fail(err)
		}
	}
	f := db.Feed()
	entries := 0
	logs := map[ID]bool{}
	for f.Next() {
		entries++
		logs[f.Entry().Log] = true
		if entries%100 == 0 {
			look()
		}
	}
	if err := f.Err(); err != nil {
		fail(err)
	}
	f.Close()
	look()
	if !ro {
		tb := childTB{fail: fail}
		insertLogs(tb, db, oneEntryLogs(tb, 100))
		entries += 100
		look()
		for id := range db.Heads() {
			logs[id] = true
		}
	}
	if err := db.Close(); err != nil {
		fail(err)
	}
	fmt.Printf("entries %d logs %d open %d\n", entries, len(logs), maxOpen)
	st, _ := os.ReadFile("/proc/self/status")
	for l := range strings.Lines(string(st)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Fprintf(os.Stderr, "peak RSS %s\n", strings.TrimSpace(v))
		}
	}
}

// childTB is the testing.TB of a child process: a failure prints and
// exits.
type childTB struct {
	testing.TB
	fail func(error)
}

func (childTB) Helper()             {}
func (c childTB) Fatal(args ...any) { c.fail(errors.New(fmt.Sprint(args...))) }
func (c childTB) Fatalf(format string, args ...any) {
	c.fail(fmt.Errorf(format, args...))
}

// BenchmarkNewLogs inserts one-entry logs into a fresh database, 500 to
// a round, and reports logs/s and the disk bytes per log.
// APPLOG_BENCH_LOGS sets how many (default 10,000); APPLOG_BENCH_KEEP
// names a directory to build the last database in and keep, for the
// CLI figures.
func BenchmarkNewLogs(b *testing.B) {
	n := 10_000
	if s := os.Getenv("APPLOG_BENCH_LOGS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	logs := oneEntryLogs(b, n)
	var dir string
	for b.Loop() {
		b.StopTimer()
		dir = b.TempDir()
		if keep := os.Getenv("APPLOG_BENCH_KEEP"); keep != "" {
			os.RemoveAll(keep)
			dir = keep
		}
		db := openT(b, dir, nil)
		b.StartTimer()
		insertLogs(b, db, logs)
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "logs/s")
	b.ReportMetric(float64(duBytes(b, dir))/float64(n), "disk-B/log")
}

// duBytes is the disk space used under dir (allocated blocks, as du).
func duBytes(tb testing.TB, dir string) int64 {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			return err
		}
		total += st.Blocks * 512
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return total
}

// TestCleanOpenIsLazy: after a clean Close, a writer's Open reads no
// log but the own one and not the table; what it loads later is right.
// reopened returns a writer reopened after a clean Close of n
// one-entry logs, and the logs.
func reopened(t *testing.T, n int) (*DB, []benchLog) {
	t.Helper()
	dir := t.TempDir()
	db := openT(t, dir, nil)
	logs := oneEntryLogs(t, n)
	insertLogs(t, db, logs)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return openT(t, dir, nil), logs
}

func TestCleanOpenIsLazy(t *testing.T) {
	db, logs := reopened(t, 200)
	if !db.st.lazy || db.tab.nLoaded.Load() != 1 || !db.tab.pending.Load() {
		t.Fatalf("clean open: lazy %v, %d logs loaded, table pending %v; want true, 1, true", db.st.lazy, db.tab.nLoaded.Load(), db.tab.pending.Load())
	}
	if _, err := db.Append([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if n := db.tab.nLoaded.Load(); n != 1 {
		t.Fatalf("append loaded %d logs, want 1", n)
	}
	if h := db.Head(logs[17].id); h != 1 {
		t.Fatalf("head of a log not loaded: %d, want 1", h)
	}
	more := oneEntryLogs(t, 3)
	insertLogs(t, db, more)
	if n := db.tab.nLoaded.Load(); n != 5 {
		t.Fatalf("%d logs loaded, want 5 (own, one looked at, 3 new)", n)
	}
	heads := db.Heads()
	if len(heads) != 204 || heads[db.ID()] != 1 || heads[more[2].id] != 1 || heads[logs[199].id] != 1 {
		t.Fatalf("heads: %d logs, own %d", len(heads), heads[db.ID()])
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openT(t, db.dir, nil)
	if got := db.Heads(); len(got) != 204 {
		t.Fatalf("after reopen: %d logs, want 204", len(got))
	}
	verifyClean(t, db)
}

// TestLazyHeadsWhileLoading: in a lazy writer, the first Heads (which
// reads every state entry at once and keeps them) runs while other
// goroutines load logs from those entries; under -race this is the test
// that the cache is shared safely, and every answer is right.
func TestLazyHeadsWhileLoading(t *testing.T) {
	db, logs := reopened(t, 200)
	if !db.st.lazy {
		t.Fatal("the reopen was not lazy")
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(logs)+1)
	wg.Go(func() {
		if n := len(db.Heads()); n != len(logs)+1 {
			errs <- fmt.Errorf("Heads: %d logs, want %d", n, len(logs)+1)
		}
	})
	for _, l := range logs {
		wg.Go(func() {
			if h := db.Head(l.id); h != 1 {
				errs <- fmt.Errorf("Head(%s) = %d, want 1", l.id.Short(), h)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
