package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"scuttle/topology/testkit"
)

// newIdleChat returns a chat that is not run, printing on io.Discard:
// what it shows comes from the test's calls of show and info.
func newIdleChat() *Chat { return New(Config{Me: "alice", Out: io.Discard}) }

// TestLinesReplay: Lines replays the last 256 messages and the last 64
// info lines, in the order they were shown, whatever came before them.
func TestLinesReplay(t *testing.T) {
	tests := []struct{ msgs, infos, every int }{
		{0, 0, 1},
		{3, 2, 2},
		{256, 64, 5},
		{1000, 10, 100},
		{10, 1000, 100},
		{700, 300, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d messages %d infos", tt.msgs, tt.infos), func(t *testing.T) {
			c := newIdleChat()
			var all []Line
			m, i := 0, 0
			for m < tt.msgs || i < tt.infos {
				var l Line
				if i < tt.infos && (m == tt.msgs || (m+i)%tt.every == 0) {
					l = Line{Kind: Info, Text: fmt.Sprint("info ", i)}
					i++
				} else {
					l = Line{From: "bob", Text: fmt.Sprint("message ", m)}
					m++
				}
				all = append(all, l)
				c.show(l)
			}
			// The model: a line is replayed if it is among the last 256
			// of its kind (64 for info lines).
			var want []Line
			ms, is := 0, 0
			for _, l := range slices.Backward(all) {
				if l.Kind == Info && is < maxInfoHistory {
					is++
					want = append(want, l)
				} else if l.Kind == Message && ms < maxHistory {
					ms++
					want = append(want, l)
				}
			}
			slices.Reverse(want)

			ctx, cancel := context.WithCancel(t.Context())
			if len(want) == 0 {
				cancel()
			}
			var got []Line
			err := c.Lines(ctx, func(l Line) error {
				got = append(got, l)
				if len(got) == len(want) {
					cancel()
				}
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Lines returned %v, want context.Canceled", err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("replayed %d lines, want %d\ngot  %v\nwant %v", len(got), len(want), got, want)
			}
		})
	}
}

// subscribe runs Lines in a goroutine with show, and returns the channel
// of its result.
func subscribe(c *Chat, ctx context.Context, show func(Line) error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- c.Lines(ctx, show) }()
	return done
}

// await returns what ch gives, failing the test past testkit.ChatWait.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testkit.ChatWait):
		t.Fatalf("no %s within %v", what, testkit.ChatWait)
		panic("unreachable")
	}
}

// TestLinesLiveAndSlow: a view gets the history, then each line as it is
// shown, in order; a view that stops taking lines is cut off with
// ErrCutOff once 256 lines are waiting for it, while the chat goes on
// showing lines and the other view gets every one; a failing show ends
// Lines with its error; the end of the chat ends the views with ErrEnded,
// after the lines shown before.
func TestLinesLiveAndSlow(t *testing.T) {
	c := newIdleChat()
	c.info("before")

	fast := make(chan Line, 1000)
	fastDone := subscribe(c, t.Context(), func(l Line) error { fast <- l; return nil })
	if l := await(t, fast, "replayed line"); l.Text != "before" {
		t.Fatalf("replayed %v, want the info line before", l)
	}

	block := make(chan struct{})
	slowFirst := make(chan Line, 1)
	slowDone := subscribe(c, t.Context(), func(l Line) error {
		select {
		case slowFirst <- l:
		default:
		}
		<-block
		return nil
	})
	await(t, slowFirst, "slow view's first line") // it is subscribed, and stuck

	failing := errors.New("page closed")
	failReady := make(chan struct{})
	failDone := subscribe(c, t.Context(), func(l Line) error {
		switch l.Text {
		case "before":
			close(failReady)
		case "fail here":
			return failing
		}
		return nil
	})
	await(t, failReady, "failing view's replay")
	c.show(Line{From: "bob", Text: "fail here"})
	if err := await(t, failDone, "the failing view's end"); err != failing {
		t.Errorf("failing view: Lines returned %v, want its show's error", err)
	}
	if l := await(t, fast, "live line"); l.Text != "fail here" {
		t.Fatalf("fast view's line: %v", l)
	}

	// The chat shows 300 lines while the slow view takes none: show must
	// not wait for it. (The lines are paced by the fast view, so that it
	// does not fall behind on a busy machine.)
	shown := make(chan struct{})
	go func() {
		defer close(shown)
		for i := range 300 {
			c.show(Line{From: "bob", Text: fmt.Sprint("live ", i)})
			select {
			case l := <-fast:
				if l.Text != fmt.Sprint("live ", i) {
					t.Errorf("fast view's line %d: %v", i, l)
					return
				}
			case <-time.After(testkit.ChatWait):
				t.Errorf("fast view: no line %d within %v", i, testkit.ChatWait)
				return
			}
		}
	}()
	await(t, shown, "end of 300 lines shown past a stuck view")
	c.out.mu.Lock()
	views := len(c.out.subs)
	c.out.mu.Unlock()
	if views != 1 {
		t.Errorf("%d views subscribed after 300 lines, want the fast one only", views)
	}
	close(block)
	if err := await(t, slowDone, "the slow view's end"); !errors.Is(err, ErrCutOff) {
		t.Errorf("slow view: Lines returned %v, want ErrCutOff", err)
	}
	c.show(Line{From: "bob", Text: "last"})
	c.endLines()
	if err := await(t, fastDone, "the fast view's end"); !errors.Is(err, ErrEnded) {
		t.Errorf("fast view at the chat's end: %v, want ErrEnded", err)
	}
	if l := await(t, fast, "last line"); l.Text != "last" {
		t.Errorf("fast view's last line: %v, want the one shown before the end", l)
	}
	if err := c.Lines(t.Context(), func(Line) error { return nil }); !errors.Is(err, ErrEnded) {
		t.Errorf("Lines after the end: %v, want ErrEnded", err)
	}
}

// TestLinesBounded: 64 views stream at once; the 65th is refused with
// ErrTooManySubscribers, and once one view ends another may start.
func TestLinesBounded(t *testing.T) {
	c := newIdleChat()
	c.info("ready")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	ready := make(chan struct{}, maxSubscribers)
	var dones []<-chan error
	ctxs := make([]context.CancelFunc, maxSubscribers)
	for i := range maxSubscribers {
		vctx, vcancel := context.WithCancel(ctx)
		ctxs[i] = vcancel
		wg.Add(1)
		dones = append(dones, subscribe(c, vctx, func(l Line) error {
			if l.Text == "ready" {
				ready <- struct{}{}
				wg.Done()
			}
			return nil
		}))
	}
	wg.Wait() // each has seen "ready": each is subscribed
	err := c.Lines(ctx, func(Line) error { return nil })
	if !errors.Is(err, ErrTooManySubscribers) {
		t.Fatalf("view 65: %v, want ErrTooManySubscribers", err)
	}
	ctxs[0]()
	if err := await(t, dones[0], "view 1's end"); !errors.Is(err, context.Canceled) {
		t.Fatalf("view 1: %v", err)
	}
	again := make(chan struct{}, 1)
	done := subscribe(c, ctx, func(l Line) error { again <- struct{}{}; return nil })
	await(t, again, "a new view's replay")
	cancel()
	if err := await(t, done, "the new view's end"); !errors.Is(err, context.Canceled) {
		t.Errorf("new view: %v", err)
	}
}
