package testkit

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a testing.TB that keeps what Errorf reports instead of
// failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// parked blocks until release is closed; its name marks its goroutine in
// a stack dump.
func parked(release <-chan struct{}) { <-release }

// goPark starts a parked goroutine and returns the function that
// releases it and waits for it to end.
func goPark() (release func()) {
	ch := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { parked(ch) })
	return func() { close(ch); wg.Wait() }
}

func TestLeaks(t *testing.T) {
	CheckLeaks(t) // the test leaves nothing behind itself

	t.Run("a goroutine still running is reported with its stack", func(t *testing.T) {
		r := &recorder{TB: t}
		l := checkLeaks(r, 50*time.Millisecond)
		release := goPark()
		defer release()
		l.Verify()
		if len(r.errs) != 1 || !strings.Contains(r.errs[0], "1 goroutines started during the test") || !strings.Contains(r.errs[0], "testkit.parked(") {
			t.Errorf("Verify reported %q, want one leak in testkit.parked", r.errs)
		}
	})
	t.Run("a goroutine that ends within the wait is not a leak", func(t *testing.T) {
		r := &recorder{TB: t}
		l := checkLeaks(r, time.Minute)
		release := goPark()
		go release() // the goroutine ends while Verify waits
		l.Verify()
		if len(r.errs) != 0 {
			t.Errorf("Verify reported %q, want nothing", r.errs)
		}
	})
	t.Run("a goroutine running before the check is not a leak", func(t *testing.T) {
		release := goPark()
		defer release()
		r := &recorder{TB: t}
		l := checkLeaks(r, 50*time.Millisecond)
		l.Verify()
		if len(r.errs) != 0 {
			t.Errorf("Verify reported %q, want nothing", r.errs)
		}
	})
}

func TestIsNotOurs(t *testing.T) {
	tests := []struct {
		name  string
		stack string
		want  bool
	}{
		{"a test", "goroutine 7 [chan receive]:\ntesting.tRunner(...)\ncreated by testing.(*T).Run in goroutine 1", true},
		{"signal delivery", "goroutine 9 [syscall]:\nos/signal.signal_recv()\ncreated by os/signal.Notify.func1.1 in goroutine 8", true},
		{"one a test started", "goroutine 11 [chan receive]:\nscuttle/mdns.(*Conn).loop(...)\ncreated by scuttle/mdns.Open in goroutine 7", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isNotOurs(tt.stack); got != tt.want {
				t.Errorf("isNotOurs: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGoroutineID(t *testing.T) {
	for rec, want := range map[string]string{
		"goroutine 42 [running]:\nmain.main()":   "42",
		"goroutine 7 [chan receive, 2 minutes]:": "7",
		"something else\nmain.main()":            "something else",
	} {
		if got := goroutineID(rec); got != want {
			t.Errorf("goroutineID(%q): got %q, want %q", rec, got, want)
		}
	}
}
