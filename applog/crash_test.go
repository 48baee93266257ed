package applog

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash and multi-writer tests re-run the test binary as a child
// process selected by these environment variables.
const (
	envChild = "APPLOG_TEST_CHILD" // "crash" or "writer"
	envDir   = "APPLOG_TEST_DIR"
	envCount = "APPLOG_TEST_COUNT"
)

// TestChild is the child process of TestCrash and TestWriterProcesses;
// it does nothing in a normal run.
func TestChild(t *testing.T) {
	switch os.Getenv(envChild) {
	case "crash":
		crashChild(os.Getenv(envDir))
	case "open":
		openChild(os.Getenv(envDir), os.Getenv(envCount) == "true")
	case "fewfiles":
		fewFilesChild(os.Getenv(envDir), os.Getenv(envCount) == "true")
	case "inserts":
		insertsChild(os.Getenv(envDir))
	case "writer":
		n, _ := strconv.Atoi(os.Getenv(envCount))
		writerChild(os.Getenv(envDir), n)
	default:
		t.Skip("only run as a child process")
	}
}

// crashChild appends forever from 4 goroutines (single appends and
// batches) and prints each seq once its append has returned.
func crashChild(dir string) {
	db, err := Open(dir, &Options{SegmentSize: 16 << 10, LockWait: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for {
				n := 1
				if g%2 == 1 {
					n = 1 + r.IntN(40)
				}
				batch := make([][]byte, n)
				for i := range batch {
					batch[i] = make([]byte, r.IntN(300))
					for j := range batch[i] {
						batch[i][j] = byte('a' + j%26)
					}
				}
				first, err := db.AppendBatch(batch)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(4)
				}
				var sb strings.Builder
				for i := range n {
					fmt.Fprintf(&sb, "%d %d\n", first+uint64(i), len(batch[i]))
				}
				mu.Lock()
				os.Stdout.WriteString(sb.String())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func writerChild(dir string, n int) {
	db, err := Open(dir, &Options{LockWait: 60 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	for i := range n {
		seq, err := db.Append(fmt.Appendf(nil, "pid %d entry %d", os.Getpid(), i))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		fmt.Println(seq)
	}
	if err := db.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(5)
	}
}

func childCmd(t *testing.T, kind, dir string, extra ...string) *exec.Cmd {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChild+"="+kind, envDir+"="+dir)
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

// childCmdPlain is childCmd without a test's context (for benchmarks).
func childCmdPlain(kind, dir string, extra ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1", "-test.bench=^$")
	cmd.Env = append(os.Environ(), envChild+"="+kind, envDir+"="+dir)
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

// killChild starts cmd, SIGKILLs it after d and returns the lines it
// printed; it fails the test (naming round) if the child ended another
// way.
func killChild(t *testing.T, cmd *exec.Cmd, d time.Duration, round int) []string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan []string, 1)
	go func() {
		var ls []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ls = append(ls, sc.Text())
		}
		lines <- ls
	}()
	time.Sleep(d) // the kill's random moment: nothing to wait for
	cmd.Process.Signal(syscall.SIGKILL)
	ls := <-lines
	werr := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("round %d: child ended with %v, want SIGKILL; stderr: %s", round, werr, stderr.String())
	}
	return ls
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary")
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	printed := map[uint64]int{} // seq -> payload length
	const rounds = 24
	for round := range rounds {
		// kill at a random moment: sometimes during Open and recovery
		ls := killChild(t, childCmd(t, "crash", dir), time.Duration(r.IntN(150))*time.Millisecond, round)
		for _, l := range ls {
			var seq uint64
			var n int
			if _, err := fmt.Sscanf(l, "%d %d", &seq, &n); err != nil {
				continue // a line cut by the kill
			}
			if old, ok := printed[seq]; ok && old != n {
				t.Fatalf("round %d: seq %d acknowledged twice (lengths %d, %d)", round, seq, old, n)
			}
			printed[seq] = n
		}
		// a reader before any writer's recovery sees exactly the
		// durable entries: every acknowledged one, and what the
		// writer's recovery keeps (checked below)
		roCount := uint64(0)
		ro, err := Open(dir, &Options{ReadOnly: true, SegmentSize: 16 << 10})
		if err == nil {
			f := ro.Feed()
			for f.Next() {
				roCount++
				if e := f.Entry(); e.Seq != roCount {
					t.Fatalf("round %d: read-only feed entry %d has seq %d", round, roCount, e.Seq)
				}
			}
			if err := f.Err(); err != nil {
				t.Fatalf("round %d: read-only feed: %v", round, err)
			}
			f.Close()
			ro.Close()
			for s := range printed {
				if s > roCount {
					t.Fatalf("round %d: read-only feed shows %d entries, acknowledged seq %d missing", round, roCount, s)
				}
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("round %d: read-only open: %v", round, err)
		}
		db, err := Open(dir, &Options{SegmentSize: 16 << 10})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		id := db.ID()
		head := db.Head(id)
		if roCount != head && !(roCount == 0 && round == 0) {
			t.Fatalf("round %d: read-only feed showed %d entries, the writer's recovery kept %d", round, roCount, head)
		}
		it := db.Iter(id, 1)
		var seq uint64
		for it.Next() {
			seq++
			e := it.Entry()
			if e.Seq != seq {
				t.Fatalf("round %d: read seq %d, want %d", round, e.Seq, seq)
			}
			if n, ok := printed[seq]; ok && n != len(e.Data) {
				t.Fatalf("round %d: seq %d has %d bytes, acknowledged with %d", round, seq, len(e.Data), n)
			}
		}
		if it.Err() != nil || seq != head {
			t.Fatalf("round %d: read %d entries of %d: %v", round, seq, head, it.Err())
		}
		it.Close()
		for s := range printed {
			if s > head {
				t.Fatalf("round %d: acknowledged seq %d lost (head %d)", round, s, head)
			}
		}
		verifyClean(t, db)
		next, err := db.Append([]byte("parent"))
		if err != nil || next != head+1 {
			t.Fatalf("round %d: append after crash: got %d, %v; want %d", round, next, err, head+1)
		}
		printed[next] = len("parent")
		f := db.Feed()
		var fn uint64
		for f.Next() {
			fn++
		}
		if f.Err() != nil || fn != next {
			t.Fatalf("round %d: feed has %d entries, want %d: %v", round, fn, next, f.Err())
		}
		f.Close()
		// half the rounds leave a clean checkpoint, half a crash
		if round%2 == 0 {
			err = db.Close()
		} else {
			db.abandon()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(printed) < rounds {
		t.Fatalf("only %d appends acknowledged in %d rounds", len(printed), rounds)
	}
	t.Logf("%d rounds, %d seqs acknowledged", rounds, len(printed))
}

func TestWriterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	const procs, each = 8, 25
	outs := make([]string, procs)
	var wg sync.WaitGroup
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := childCmd(t, "writer", dir, envCount+"="+strconv.Itoa(each))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("writer %d: %v: %s", p, err, stderr.String())
			}
			outs[p] = string(out)
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, o := range outs {
		for f := range strings.FieldsSeq(o) {
			s, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				continue // the child's test framework output
			}
			if seen[s] {
				t.Fatalf("seq %d given twice", s)
			}
			seen[s] = true
		}
	}
	db := openT(t, dir, &Options{ReadOnly: true})
	if h := db.Head(db.ID()); h != procs*each || len(seen) != procs*each {
		t.Fatalf("head %d, %d seqs printed; want %d", h, len(seen), procs*each)
	}
	for s := uint64(1); s <= procs*each; s++ {
		if !seen[s] {
			t.Fatalf("seq %d missing", s)
		}
	}
	verifyClean(t, db)
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	openT(t, dir, nil)
	start := time.Now()
	_, err := Open(dir, &Options{LockWait: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second writer: got %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("second writer gave up after %v, before LockWait", d)
	}
	if _, err := Open(dir, &Options{LockWait: -1}); !errors.Is(err, ErrLocked) {
		t.Fatalf("LockWait<0: got %v, want ErrLocked", err)
	}
	ro, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("reader beside a writer: %v", err)
	}
	if _, err := ro.Append([]byte("x")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Append on read-only: got %v, want ErrReadOnly", err)
	}
	ro.Close()
}
