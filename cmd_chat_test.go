package main

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"scuttle/topology"
	"scuttle/topology/testkit"
)

// chatProc is a running "scuttle chat" whose stdin stays open and whose
// output lines are collected as they come.
type chatProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at its end
	mu     sync.Mutex
	seen   []string // the lines read so far, for failure messages
	stderr strings.Builder
	done   chan struct{} // closed when the process has been waited for
	err    error         // the result of Wait, once done is closed
}

// startChat starts "scuttle chat ARGS", made by in (exec.CommandContext
// on this machine, a lab host's Command in its namespace), in dir and in
// testkit's clean environment, with a pipe on its stdin. name is the
// process's, for failure messages. t.Cleanup kills it if the test has not
// stopped it.
func startChat(t *testing.T, in testkit.CommandFunc, dir, name string, args ...string) *chatProc {
	t.Helper()
	cmd := testkit.Command(t.Context(), in, scuttleBin, dir, nil, append([]string{"chat"}, args...)...)
	p := &chatProc{t: t, name: name, cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			p.mu.Lock()
			t.Logf("%s stderr:\n%s", p.name, p.stderr.String())
			p.mu.Unlock()
		}
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// expect waits for the next lines of output to include want, in any
// order, skipping "info> " lines that are not in want, and fails if
// another line or the end comes first.
func (p *chatProc) expect(want ...string) {
	p.t.Helper()
	testkit.ExpectLines(p.t, p.name, p.lines, &p.seen, testkit.IsInfo, want)
}

// say types line into the chat.
func (p *chatProc) say(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("typing into %s: %v", p.name, err)
	}
}

// stop sends sig and waits for the process to end, and fails the test if
// it does not end cleanly.
func (p *chatProc) stop(sig syscall.Signal) {
	p.t.Helper()
	p.cmd.Process.Signal(sig)
	for range p.lines { // drain, so the reader can reach Wait
	}
	select {
	case <-p.done:
	case <-time.After(testkit.ChatWait):
		p.t.Fatalf("%s did not end within %v of %v", p.name, testkit.ChatWait, sig)
	}
	if sig != syscall.SIGKILL && p.err != nil {
		p.t.Errorf("%s after %v: %v", p.name, sig, p.err)
	}
}

// uniqueName returns base with a random suffix: the chats of parallel
// test runs on one host must not claim the same NAME.local or port.
func uniqueName(base string) string {
	return base + "-" + strings.ToLower(rand.Text()[:8])
}

// readJSON returns the entries of the database in dir, as "scuttle read
// --json" prints them, sorted: equal databases give equal results. The
// encryption keys that each chat publishes when it first starts are left
// out.
func readJSON(t *testing.T, db string) []string {
	t.Helper()
	out := mustScuttle(t, "", "", "read", "--json", "--db", db)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.Contains(l, `"key":"`) })
	slices.Sort(lines)
	return lines
}

// TestChatLoopback is the seed's exercise 11 on one host, over loopback:
// alice types hello with bob offline; bob starts later and prints it.
func TestChatLoopback(t *testing.T) {
	dir := t.TempDir()
	alice, bob := uniqueName("alice"), uniqueName("bob")
	chat := func(me, peer string) *chatProc {
		return startChat(t, exec.CommandContext, dir, me, "--iface", "lo", me, peer)
	}
	a := chat(alice, bob)
	a.say("hello")
	a.expect(alice + "> hello")

	b := chat(bob, alice)
	b.expect("info> direct connection to "+alice, alice+"> hello")
	a.expect("info> direct connection to " + bob)

	b.say("hi " + alice + ", it's bob")
	a.expect(bob + "> hi " + alice + ", it's bob")
	b.expect(bob + "> hi " + alice + ", it's bob")

	a.stop(syscall.SIGTERM)
	b.expect("info> lost connection to " + alice)
	b.stop(syscall.SIGINT)

	// Both databases hold both logs, and the messages in the seed's shape.
	da, db := readJSON(t, filepath.Join(dir, alice+".db")), readJSON(t, filepath.Join(dir, bob+".db"))
	if !slices.Equal(da, db) || len(da) != 2 {
		t.Fatalf("databases differ or hold other than 2 entries:\n%s\n%s", da, db)
	}
	var got []string
	for _, line := range da {
		var m struct{ Entry string }
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Entry)
	}
	slices.Sort(got)
	want := []string{
		fmt.Sprintf(`{"username":%q,"message":"hello"}`, alice),
		fmt.Sprintf(`{"username":%q,"message":"hi %s, it's bob"}`, bob, alice),
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("stored entries %q, want %q", got, want)
	}
}

func TestChatUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"chat"}, "scuttle chat: missing ME, the name to chat as"},
		{[]string{"chat", "a.b"}, `scuttle chat: mdns: bad name "a.b": '.' at offset 1: a name is one DNS label, with no dots, spaces, control characters or backslashes`},
		{[]string{"chat", "--port", "70000", "alice"}, "scuttle chat: --port 70000: not a TCP port"},
		{[]string{"chat", "--fetch-max", "-1", "alice"}, "scuttle chat: --fetch-max -1: not a number of bytes"},
		{[]string{"chat", "--max-blob-bytes", "-1", "alice"}, "scuttle chat: --max-blob-bytes -1: want 0 (no quota) or more"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, code := scuttle(t, dir, "", nil, tt.args...)
			if code != 2 || firstLine(stderr) != tt.msg {
				t.Errorf("exit %d, stderr %q; want 2 and first line %q", code, stderr, tt.msg)
			}
		})
	}
}

// TestChatExclusive checks the two resources a chat holds alone: its
// database (a second chat on it fails at once, naming the holder) and its
// port.
func TestChatExclusive(t *testing.T) {
	dir := t.TempDir()
	me := uniqueName("carol")
	first := startChat(t, exec.CommandContext, dir, me, "--iface", "lo", me)
	first.say("here")
	first.expect(me + "> here") // the database is open and the swarm started

	start := time.Now()
	_, stderr, code := scuttle(t, dir, "", nil, "chat", "--iface", "lo", "--port", "0", me)
	want := fmt.Sprintf("held by pid %d", first.cmd.Process.Pid)
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("second chat on %s.db: exit %d, stderr %q; want 1 and %q", me, code, stderr, want)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("second chat took %v to fail, want at once", d)
	}

	_, stderr, code = scuttle(t, dir, "", nil, "chat", "--iface", "lo", "--db", filepath.Join(dir, "other.db"), me)
	want = "address already in use"
	if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, fmt.Sprint(":", topology.HashToPort(me))) {
		t.Errorf("chat on a port in use: exit %d, stderr %q; want 1, the port and %q", code, stderr, want)
	}
	first.stop(syscall.SIGTERM)
}
