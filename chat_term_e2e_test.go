//go:build linux

package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"scuttle/topology"
	"scuttle/topology/chat/term"
	"scuttle/topology/testkit"
)

// ptyScreen is what a terminal on a pty's master shows: a VT fed by a
// goroutine that reads the master until it fails.
type ptyScreen struct {
	mu    sync.Mutex
	vt    *testkit.VT
	raw   []byte // every byte read, for failure messages
	wrote chan struct{}
}

func (s *ptyScreen) read(master *os.File) {
	buf := make([]byte, 4096)
	for {
		n, err := master.Read(buf)
		s.mu.Lock()
		s.vt.Write(buf[:n])
		s.raw = append(s.raw, buf[:n]...)
		s.mu.Unlock()
		select {
		case s.wrote <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// wait waits until ok says yes to the screen's lines (scrolled off and
// shown, blank rows at the bottom dropped) and its cursor row; ok runs
// under s.mu.
func (s *ptyScreen) wait(t *testing.T, what string, ok func(lines []string, cursorRow int) bool) []string {
	t.Helper()
	deadline := time.After(testkit.ChatWait)
	for {
		s.mu.Lock()
		lines, scrolled := s.vt.Lines(), len(s.vt.Lines())-len(s.vt.Rows())
		row, _ := s.vt.Cursor()
		unknown := s.vt.Unknown
		done := len(unknown) == 0 && ok(lines, row+max(scrolled, 0)) // ok may read s.raw
		s.mu.Unlock()
		if len(unknown) > 0 {
			t.Fatalf("the chat wrote escape sequences no terminal chat should: %q", unknown)
		}
		if done {
			return lines
		}
		select {
		case <-s.wrote:
		case <-deadline:
			s.mu.Lock()
			defer s.mu.Unlock()
			t.Fatalf("no %s within %v; screen:\n%s\nbytes: %q", what, testkit.ChatWait, strings.Join(lines, "\n"), s.raw)
		}
	}
}

// TestChatTerminal runs alice's chat on a pty, as a user in a terminal
// does, and bob's on pipes: a line of bob's that arrives while alice is
// half-way through hers shows above it, her half line is drawn again
// below it, her line reaches bob, and shows once on her screen, as the
// chat renders it; ^C ends her chat with the terminal as it was.
func TestChatTerminal(t *testing.T) {
	dir := t.TempDir()
	alice, bob := uniqueName("alice"), uniqueName("bob")
	addr := func(name string) string {
		return "127.0.0.1:" + strconv.Itoa(int(topology.HashToPort(name)))
	}
	b := startChat(t, exec.CommandContext, dir, bob, "--iface", "lo", bob, addr(alice))

	master, slave, err := testkit.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	defer slave.Close()
	sfd := testkit.FD(t, slave)
	if err := unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &unix.Winsize{Col: 60, Row: 12}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	cmd := testkit.Command(t.Context(), exec.CommandContext, scuttleBin, dir, []string{"TERM=xterm-256color", "NO_COLOR="},
		"chat", "--iface", "lo", alice, addr(bob))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	screen := &ptyScreen{vt: testkit.NewVT(60, 12, term.RuneWidth), wrote: make(chan struct{}, 1)}
	go screen.read(master)

	// The prompt is the status: the network, the peers, the own name.
	prompt := "[public · 1 peer] " + alice + "> "
	isPrompt := func(l, typed string) bool { return l == prompt+typed }
	hhmm := `\d\d:\d\d `
	last := func(lines []string) string {
		if len(lines) == 0 {
			return ""
		}
		return lines[len(lines)-1]
	}
	screen.wait(t, "the prompt with bob connected", func(lines []string, _ int) bool {
		return isPrompt(last(lines)+" ", "")
	})
	b.expect("info> direct connection to " + alice)

	type_ := func(s string) {
		t.Helper()
		if _, err := master.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	type_("half li")
	screen.wait(t, "the half line", func(lines []string, _ int) bool { return isPrompt(last(lines), "half li") })

	b.say("hello from bob")
	b.expect(bob + "> hello from bob")
	incoming := regexp.MustCompile("^" + hhmm + regexp.QuoteMeta(bob+"> hello from bob") + "$")
	lines := screen.wait(t, "bob's line above the half line", func(lines []string, row int) bool {
		n := len(lines)
		return n >= 2 && incoming.MatchString(lines[n-2]) && isPrompt(lines[n-1], "half li") && row == n-1
	})
	if slices.ContainsFunc(lines[:len(lines)-1], func(l string) bool { return strings.Contains(l, "half li") }) {
		t.Errorf("the half line shows twice, or broken by bob's:\n%s", strings.Join(lines, "\n"))
	}

	// A narrower terminal: the chat hears SIGWINCH and draws the line
	// for the new width, over two rows.
	screen.mu.Lock()
	screen.vt.Resize(30)
	rawBefore := len(screen.raw)
	screen.mu.Unlock()
	if err := unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &unix.Winsize{Col: 30, Row: 12}); err != nil {
		t.Fatal(err)
	}
	screen.wait(t, "the half line redrawn for 30 columns", func(lines []string, row int) bool {
		n := len(lines)
		redrawn := strings.Contains(string(screen.raw[rawBefore:]), "half li") // under screen.mu
		return redrawn && (isPrompt(lines[n-1], "half li") && row == n-1 ||
			n >= 2 && len([]rune(lines[n-2])) == 30 && isPrompt(lines[n-2]+lines[n-1], "half li") && row == n-1)
	})

	screen.mu.Lock()
	screen.vt.Resize(60)
	screen.mu.Unlock()
	if err := unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &unix.Winsize{Col: 60, Row: 12}); err != nil {
		t.Fatal(err)
	}

	type_("ne\r")
	b.expect(alice + "> half line")
	own := regexp.MustCompile("^" + hhmm + regexp.QuoteMeta(alice+"> half line") + "$")
	lines = screen.wait(t, "the own line", func(lines []string, _ int) bool {
		n := len(lines)
		return n >= 2 && own.MatchString(lines[n-2]) && isPrompt(last(lines)+" ", "")
	})
	if n := len(slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return !strings.Contains(l, "half line") })); n != 1 {
		t.Errorf("the own line shows %d times, want once:\n%s", n, strings.Join(lines, "\n"))
	}

	// A paste of two lines is sent once the user says yes.
	type_("\x1b[200~first pasted\r\nsecond pasted\x1b[201~")
	screen.wait(t, "the question", func(lines []string, _ int) bool { return last(lines) == "send 2 lines? [y/n]" })
	type_("y")
	b.expect(alice+"> first pasted", alice+"> second pasted")

	// ^Z: the terminal as it was while suspended; here, without job
	// control (the chat leads its own session), SIGTSTP stops nothing
	// and the chat goes on at once, raw again, its line drawn again.
	screen.mu.Lock()
	rawBefore = len(screen.raw)
	screen.mu.Unlock()
	type_("z\x1a")
	screen.wait(t, "the line drawn again after ^Z", func(lines []string, _ int) bool {
		return strings.Contains(string(screen.raw[rawBefore:]), "\r\x1b[J"+prompt+"z") && isPrompt(last(lines), "z")
	})
	if tio, err := unix.IoctlGetTermios(sfd, unix.TCGETS); err != nil || tio.Lflag&unix.ICANON != 0 {
		t.Errorf("after ^Z the terminal is not raw again: %+v, %v", tio, err)
	}

	type_("\x03")
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("after ^C: %v, want exit status 0", waitErr)
		}
	case <-time.After(testkit.ChatWait):
		t.Fatalf("no exit within %v of ^C", testkit.ChatWait)
	}
	after, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("terminal after the chat\n%+v\nwant as before\n%+v", after, before)
	}
	// The chat's last bytes may still be on their way from the pty's
	// master when its exit is seen: wait for them, then check them.
	screen.wait(t, "bracketed paste turned off last", func([]string, int) bool {
		return strings.HasSuffix(string(screen.raw), term.BracketedPasteOff)
	})
	screen.mu.Lock()
	raw := string(screen.raw)
	screen.mu.Unlock()
	if !strings.HasPrefix(raw, term.BracketedPasteOn) {
		t.Errorf("bracketed paste not turned on first: %q", raw)
	}
	b.expect("info> lost connection to " + alice)
	b.stop(syscall.SIGTERM)
}
