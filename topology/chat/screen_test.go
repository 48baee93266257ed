package chat

import (
	"slices"
	"sync"
	"testing"
	"time"

	"scuttle/topology/testkit"
)

// recScreen is a Screen that records what it is shown, and writes each
// line's String and a newline to w, so that a unitChat's expect reads a
// screen's lines as a pipe's.
type recScreen struct {
	w *lineWriter

	mu     sync.Mutex
	lines  []Line
	status []Status
	change chan struct{} // closed and replaced at each SetStatus
}

func newRecScreen(w *lineWriter) *recScreen { return &recScreen{w: w, change: make(chan struct{})} }

func (s *recScreen) Show(l Line) {
	s.mu.Lock()
	s.lines = append(s.lines, l)
	s.mu.Unlock()
	s.w.Write([]byte(l.String() + "\n"))
}

func (s *recScreen) SetStatus(st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = append(s.status, st)
	close(s.change)
	s.change = make(chan struct{})
}

// shown returns the lines shown so far.
func (s *recScreen) shown() []Line {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines)
}

// awaitStatus waits until the last status set is want.
func (s *recScreen) awaitStatus(t *testing.T, want Status) {
	t.Helper()
	deadline := time.After(testkit.ChatWait)
	for {
		s.mu.Lock()
		var last Status
		if n := len(s.status); n > 0 {
			last = s.status[n-1]
		}
		ch := s.change
		s.mu.Unlock()
		if last == want {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("status %+v within %v, want %+v", last, testkit.ChatWait, want)
		}
	}
}

// startScreenChat is startUnitChat with a recScreen as the front end; Out
// is a writer that fails the test if written.
func startScreenChat(t *testing.T, fn *fakeNet, setup func(*Chat), me string, peers ...string) (*unitChat, *recScreen) {
	t.Helper()
	var scr *recScreen
	u := startUnitChatWith(t, fn, nil, func(c *Config) {
		scr = newRecScreen(c.Out.(*lineWriter))
		c.Out = failWriter{t}
		c.Screen = scr
	}, setup, "", me, peers...)
	return u, scr
}

// failWriter fails the test when written to.
type failWriter struct{ t *testing.T }

func (w failWriter) Write(b []byte) (int, error) {
	w.t.Errorf("written to Out with a Screen: %q", b)
	return len(b), nil
}

// TestUnitChatScreen: with a Screen, every line the chat shows goes to
// Show as a Line (its kind, author's log, own mark, entry's time and
// escaped strings), none to Out; the pipe of the other chat prints the
// same lines as today.
func TestUnitChatScreen(t *testing.T) {
	fn := newFakeNet()
	a, scr := startScreenChat(t, fn, nil, "alice", "bob")
	before := time.Now().Add(-time.Second)
	a.say("hello \x1b[31m")
	a.expect(`alice> hello \x1b[31m`)
	b := startUnitChat(t, fn, "", "bob", "alice")
	b.expect("info> direct connection to alice", `alice> hello \x1b[31m`)
	a.expect("info> direct connection to bob")
	b.say("hi alice")
	a.expect("bob> hi alice")
	b.expect("bob> hi alice")
	after := time.Now().Add(time.Second)
	a.stop(fn)
	b.stop(fn)

	got := scr.shown()
	want := []Line{
		{Kind: Message, From: "alice", Log: a.db.ID(), Own: true, Text: `hello \x1b[31m`},
		{Kind: Info, Text: "direct connection to bob"},
		{Kind: Message, From: "bob", Log: b.db.ID(), Text: "hi alice"},
	}
	// Stopping alice may show that bob was lost, or not, as the race of
	// her shutdown decides.
	if len(got) == len(want)+1 && got[len(want)].String() == "info> lost connection to bob" {
		got = got[:len(want)]
	}
	if len(got) != len(want) {
		t.Fatalf("shown %d lines %v, want %d", len(got), got, len(want))
	}
	for i, l := range got {
		if l.Time.Before(before) || l.Time.After(after) {
			t.Errorf("line %d time %v, not in [%v, %v]", i, l.Time, before, after)
		}
		l.Time = time.Time{}
		if l != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, l, want[i])
		}
	}
}
