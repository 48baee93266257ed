package testkit

import (
	"fmt"
	"testing"
	"time"
)

// TestEvents: events run in the order of their times, and of their
// scheduling at equal times, those scheduled while running included;
// RunUntil stops at its end and leaves later events for the next run.
func TestEvents(t *testing.T) {
	var e Events
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, fmt.Sprint(name, "@", e.Now())) }
	}
	e.After(2*time.Second, at("b"))
	e.After(time.Second, func() {
		at("a")()
		e.After(time.Second, at("c")) // at 2s, after b
	})
	e.After(2*time.Second, at("d"))
	e.After(5*time.Second, at("late"))
	e.RunUntil(3 * time.Second)
	if want := "[a@1s b@2s d@2s c@2s]"; fmt.Sprint(got) != want || e.Now() != 3*time.Second {
		t.Fatalf("ran %v, now %v; want %s, now 3s", got, e.Now(), want)
	}
	e.RunUntil(10 * time.Second)
	if want := "late@5s"; got[len(got)-1] != want {
		t.Errorf("then ran %q, want %q", got[len(got)-1], want)
	}
}
