//go:build linux

package netlab

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Lines is a process in a lab host whose output, standard output and
// error together, is collected line by line with the time each line
// arrived, so a test can wait for what the process prints.
type Lines struct {
	mu    sync.Mutex
	lines []Line
	more  chan struct{} // closed and replaced on each line
	done  chan struct{} // closed when the process has exited
}

// A Line is one line a process printed and when it was read.
type Line struct {
	At   time.Time
	Text string
}

// StartLines starts prog with args in the host, in environment env (nil
// for the test's own), and collects its output. Its standard input is a
// pipe. When the test ends the pipe is closed and the process is sent
// SIGTERM, then killed if it has not exited within 5 s.
func (h *Host) StartLines(t testing.TB, env []string, prog string, args ...string) *Lines {
	t.Helper()
	cmd := h.Command(context.Background(), prog, args...)
	cmd.Env = env
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Lines{more: make(chan struct{}), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("netlab: start %s in %s: %v", prog, h.Name, err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, Line{time.Now(), sc.Text()})
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		// Drain what a line too long for the scanner leaves, so the
		// process never blocks writing.
		io.Copy(io.Discard, r)
	}()
	go func() {
		cmd.Wait()
		w.Close()
		<-scanned
		close(p.done)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Await returns the first line the process printed that contains s,
// waiting for it at most d. It fails the test if none comes in time or
// the process exits without printing one.
func (p *Lines) Await(t testing.TB, s string, d time.Duration) Line {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		l, ok, more := p.find(s)
		if ok {
			return l
		}
		select {
		case <-more:
		case <-p.done:
			// Every line is in once done is closed.
			if l, ok, _ := p.find(s); ok {
				return l
			}
			t.Fatalf("netlab: process exited before printing %q; its output:\n%s", s, p.output())
		case <-deadline.C:
			t.Fatalf("netlab: no line with %q in %v; output:\n%s", s, d, p.output())
		}
	}
}

// find returns the first line holding s, or a channel closed when the
// next line comes.
func (p *Lines) find(s string) (l Line, ok bool, more <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.Contains(l.Text, s) {
			return l, true, nil
		}
	}
	return Line{}, false, p.more
}

// output returns every line read so far.
func (p *Lines) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for i, l := range p.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.Text)
	}
	return b.String()
}
