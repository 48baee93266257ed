package term

import (
	"bytes"
	"io"
	"os"
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"scuttle/topology/testkit"
)

// openPTY opens a pseudo-terminal for the test, closed at its end.
func openPTY(t testing.TB) (master, slave *os.File) {
	t.Helper()
	master, slave, err := testkit.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

// TestRawRestore makes a pty raw and restores it: the termios before and
// after are equal, and raw mode turns off echo, lines and signals.
func TestRawRestore(t *testing.T) {
	_, slave := openPTY(t)
	s := testkit.FD(t, slave)
	if !IsTerminal(s) {
		t.Fatal("IsTerminal(pty) = false")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(testkit.FD(t, r)) {
		t.Error("IsTerminal(pipe) = true")
	}
	if err := unix.IoctlSetWinsize(s, unix.TIOCSWINSZ, &unix.Winsize{Col: 93, Row: 27}); err != nil {
		t.Fatal(err)
	}
	if w, h, err := Size(s); w != 93 || h != 27 || err != nil {
		t.Errorf("Size = %d, %d, %v; want 93, 27", w, h, err)
	}
	before, err := unix.IoctlGetTermios(s, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	st, err := MakeRaw(s, s)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := unix.IoctlGetTermios(s, unix.TCGETS)
	if raw.Lflag&(unix.ECHO|unix.ICANON|unix.ISIG) != 0 || raw.Oflag&unix.OPOST != 0 || raw.Iflag&unix.ICRNL != 0 {
		t.Errorf("raw termios %+v keeps echo, lines, signals or output processing", raw)
	}
	for range 2 {
		if err := st.Restore(); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := unix.IoctlGetTermios(s, unix.TCGETS)
	if *after != *before {
		t.Errorf("termios after Restore\n%+v\nwant\n%+v", after, before)
	}
}

// rawPTY returns a pty whose slave is raw, and an editor on the slave
// with "abc" typed and the cursor after "a", its ReadLine running until
// the test ends. What the editor wrote so far has been read.
func rawPTY(b testing.TB) (master *os.File, e *Editor) {
	master, slave := openPTY(b)
	st, err := MakeRaw(testkit.FD(b, slave), testkit.FD(b, slave))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Restore() })
	e = New(Config{In: slave, Out: slave, Prompt: "> ", Width: 80})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := e.ReadLine(); err == ErrClosed || err == io.EOF {
				return
			}
		}
	}()
	b.Cleanup(func() {
		e.Close()
		master.Write([]byte{0}) // ends the Read
		<-done
	})
	master.Write([]byte("abc\x1b[D\x1b[D"))
	readUntil(b, master, "\r\x1b[3C")
	return master, e
}

// readUntil reads from master until what it read ends with suffix.
func readUntil(t testing.TB, master *os.File, suffix string) {
	t.Helper()
	master.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.HasSuffix(got, []byte(suffix)) {
		n, err := master.Read(buf)
		if err != nil {
			t.Fatalf("reading the pty after %q: %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
}

// reportP50 reports the median of ds as p50-ns.
func reportP50(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds()), "p50-ns")
}

// BenchmarkPTYKeystroke times two keys typed in the middle of a line,
// from their write to the pty to the end of the second redraw read back:
// the time a user waits to see a key.
func BenchmarkPTYKeystroke(b *testing.B) {
	master, _ := rawPTY(b)
	ds := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		master.Write([]byte("x\x7f"))
		readUntil(b, master, "\r\x1b[3C")
		ds = append(ds, time.Since(start))
	}
	reportP50(b, ds)
}

// BenchmarkPTYPrint times a line printed above a half-typed one, from
// Print to the redrawn input read back from the pty.
func BenchmarkPTYPrint(b *testing.B) {
	master, e := rawPTY(b)
	line := []byte("12:34 \x1b[36mbob\x1b[0m> an incoming line of some fifty characters.")
	ds := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		e.Print(line)
		readUntil(b, master, "\r\x1b[3C")
		ds = append(ds, time.Since(start))
	}
	reportP50(b, ds)
}

// BenchmarkPTYEcho is the baseline of BenchmarkPTYKeystroke: two bytes
// written to a raw pty, read on the slave and written back whole, with
// no editor, read back from the master.
func BenchmarkPTYEcho(b *testing.B) {
	master, slave := openPTY(b)
	st, err := MakeRaw(testkit.FD(b, slave), testkit.FD(b, slave))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Restore()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64)
		for {
			n, err := slave.Read(buf)
			if err != nil || n > 0 && buf[n-1] == 0 {
				return
			}
			slave.Write(buf[:n])
		}
	}()
	ds := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		master.Write([]byte("x\x7f"))
		readUntil(b, master, "x\x7f")
		ds = append(ds, time.Since(start))
	}
	reportP50(b, ds)
	master.Write([]byte{0})
	<-done
}
