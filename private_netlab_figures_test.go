//go:build linux

package main

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestChatPrivateFigures measures, on the three netlab hosts of the private
// tests, the time from a line typed at alice to its printing at bob: a
// private line (/msg bob), against a public line in the same run, the
// two kinds alternating so that both meet the same conditions. It is a
// measurement, not a check, so it runs only when asked:
//
//	SCUTTLE_FIGURES=1 go test -run TestChatPrivateFigures -v .
func TestChatPrivateFigures(t *testing.T) {
	if os.Getenv("SCUTTLE_FIGURES") == "" {
		t.Skip("a measurement: set SCUTTLE_FIGURES=1 to run it")
	}
	const n = 21 // of each kind; odd, so that p50 is a line's own time
	l := newPrivateLab(t)
	a, b := l.procs[0], l.procs[1]
	l.everyoneSays()
	var public, private []time.Duration
	for i := range 2 * n {
		typed, printed := fmt.Sprint("public ", i), fmt.Sprint("alice> public ", i)
		if i%2 == 1 {
			typed, printed = fmt.Sprint("/msg bob private ", i), fmt.Sprint("alice → bob> private ", i)
		}
		start := time.Now()
		a.say(typed)
		b.expect(printed)
		d := time.Since(start)
		a.expect(printed)
		if i%2 == 1 {
			private = append(private, d)
		} else {
			public = append(public, d)
		}
	}
	l.stopAll()
	report(t, "typed at alice to printed at bob, public line", public)
	report(t, "typed at alice to printed at bob, private line (/msg bob)", private)
	t.Logf("private/public p50: %.2f×", float64(p50(private))/float64(p50(public)))
}
