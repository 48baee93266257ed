package applog

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
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
