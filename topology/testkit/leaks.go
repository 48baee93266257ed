package testkit

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

const (
	// leakWait bounds how long a leak check waits for goroutines to end:
	// a goroutine that a Close has told to stop may take a moment.
	leakWait = 5 * time.Second
	// leakPoll is how often the check looks again while it waits.
	leakPoll = 10 * time.Millisecond
)

// Leaks is a goroutine-leak check begun by CheckLeaks.
type Leaks struct {
	t      testing.TB
	wait   time.Duration
	before map[string]bool // the IDs of the goroutines running at the start
}

// CheckLeaks records the goroutines running now and registers a cleanup
// that fails t, listing their stacks, if goroutines started since are
// still running leakWait (5 s) after the test and its later cleanups
// have ended. Cleanups run last-registered first, so call it first in
// the test: the cleanups that close what the test opened then run
// before the check.
//
// Goroutine IDs are never reused, so a goroutine started during the test
// is told apart from one that was already there even if as many others
// ended meanwhile. The goroutines that run other tests (parallel ones,
// subtests) are not counted, but what those tests start is: the check of
// a parallel test waits, within its bound, for its neighbours' goroutines
// too.
func CheckLeaks(t testing.TB) *Leaks {
	t.Helper()
	l := checkLeaks(t, leakWait)
	t.Cleanup(l.Verify)
	return l
}

// checkLeaks is CheckLeaks with the wait bound given and no cleanup.
func checkLeaks(t testing.TB, wait time.Duration) *Leaks {
	l := &Leaks{t: t, wait: wait, before: make(map[string]bool)}
	for _, g := range goroutines() {
		l.before[g.id] = true
	}
	return l
}

// Verify fails the test, listing their stacks, if goroutines started since
// CheckLeaks are still running after the bounded wait. Tests call it
// midway, after stopping what they started; CheckLeaks's cleanup calls it
// at the end.
func (l *Leaks) Verify() {
	l.t.Helper()
	deadline := time.Now().Add(l.wait)
	for {
		left := l.started()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			l.t.Errorf("testkit: %d goroutines started during the test still running after %v:\n\n%s",
				len(left), l.wait, strings.Join(left, "\n\n"))
			return
		}
		// The runtime tells nobody when a goroutine ends: polling is the
		// only way to wait for it.
		time.Sleep(leakPoll)
	}
}

// started returns the stacks of the goroutines that were not running at
// the start, other than the caller's and those that are not the test's.
func (l *Leaks) started() []string {
	var left []string
	for i, g := range goroutines() {
		if i == 0 || l.before[g.id] || isNotOurs(g.stack) {
			continue // the first is the caller's own
		}
		left = append(left, g.stack)
	}
	return left
}

// isNotOurs reports whether a goroutine is one that is never a test's
// leak: another test's (one running in parallel, or a subtest, which the
// testing package waits for itself), or the signal-delivery goroutine
// that os/signal starts on first use and keeps for the life of the
// process. (The runtime's own goroutines are not in the dump.)
func isNotOurs(stack string) bool {
	return strings.Contains(stack, "\ncreated by testing.") ||
		strings.Contains(stack, "\ncreated by os/signal.")
}

// A goroutine is one record of a runtime.Stack dump.
type goroutine struct {
	id    string // the number in its "goroutine N [state]:" header
	stack string // the whole record, header included
}

// goroutines returns every goroutine's stack, the caller's first (as
// runtime.Stack puts it).
func goroutines() []goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf)) // cut short: the dump did not fit
	}
	var gs []goroutine
	for rec := range strings.SplitSeq(strings.TrimSpace(string(buf)), "\n\n") {
		gs = append(gs, goroutine{id: goroutineID(rec), stack: rec})
	}
	return gs
}

// goroutineID returns N of a record's "goroutine N [state]:" header, or
// the whole header if it has another form, so that such a record counts
// as new and is shown rather than hidden.
func goroutineID(rec string) string {
	header, _, _ := strings.Cut(rec, "\n")
	if f := strings.Fields(header); len(f) >= 2 && f[0] == "goroutine" {
		return f[1]
	}
	return header
}
