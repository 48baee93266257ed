package chat

import (
	"context"
	"errors"
	"fmt"
)

// The views' stream of lines (Lines): every line the chat shows, the
// recent ones first (a bounded history), then each new one as it is
// shown. A view that does not keep up is cut off, never waited for: the
// chat, the pipe and the other views go on.

const (
	// maxHistory and maxInfoHistory bound the lines Lines replays: the
	// last maxHistory messages, and the last maxInfoHistory info lines
	// among them, so that a run of info lines does not push the
	// conversation out of the history.
	maxHistory     = 256
	maxInfoHistory = 64
	// maxSubscribers bounds the views streaming at once.
	maxSubscribers = 64
	// subscriberQueue is how many lines a view may fall behind before it
	// is cut off.
	subscriberQueue = 256
)

var (
	// ErrTooManySubscribers is returned by Lines when maxSubscribers
	// (64) views stream already.
	ErrTooManySubscribers = errors.New("chat: too many views streaming lines")
	// ErrCutOff is returned by Lines to a view that fell too far behind
	// the chat's lines: it missed some, and may call Lines again.
	ErrCutOff = errors.New("chat: cut off: the view fell too far behind the chat's lines")
	// ErrEnded is returned by Lines and Type once the chat's Run returned.
	ErrEnded = errors.New("chat: the chat ended")
)

// shownLine is a line of the history, with its place in the order of
// all the lines shown.
type shownLine struct {
	n uint64
	l Line
}

// ring is the last lines of one kind, oldest first from start.
type ring struct {
	lines []shownLine
	start int
	max   int
}

func (r *ring) add(s shownLine) {
	if len(r.lines) < r.max {
		r.lines = append(r.lines, s)
		return
	}
	r.lines[r.start] = s
	r.start = (r.start + 1) % r.max
}

// at returns the ith line, oldest first.
func (r *ring) at(i int) shownLine { return r.lines[(r.start+i)%len(r.lines)] }

// history is the lines Lines replays: two rings, merged in the order
// they were shown.
type history struct {
	shown uint64 // lines shown so far
	msgs  ring
	infos ring
}

func newHistory() history {
	return history{msgs: ring{max: maxHistory}, infos: ring{max: maxInfoHistory}}
}

func (h *history) add(l Line) {
	h.shown++
	if l.Kind == Info {
		h.infos.add(shownLine{h.shown, l})
	} else {
		h.msgs.add(shownLine{h.shown, l})
	}
}

// lines returns the history, in the order it was shown.
func (h *history) lines() []Line {
	out := make([]Line, 0, len(h.msgs.lines)+len(h.infos.lines))
	i, j := 0, 0
	for i < len(h.msgs.lines) || j < len(h.infos.lines) {
		if j == len(h.infos.lines) || i < len(h.msgs.lines) && h.msgs.at(i).n < h.infos.at(j).n {
			out = append(out, h.msgs.at(i).l)
			i++
		} else {
			out = append(out, h.infos.at(j).l)
			j++
		}
	}
	return out
}

// A subscriber is a view streaming lines (Lines).
type subscriber struct {
	ch  chan Line     // the lines shown since, at most subscriberQueue
	cut chan struct{} // closed when the view is cut off or the chat ends
	err error         // why cut was closed; set before
}

// publish hands l to each subscriber, and cuts off each whose queue is
// full; c.out.mu is held.
func (c *Chat) publish(l Line) {
	s := &c.out
	s.hist.add(l)
	for sub := range s.subs {
		select {
		case sub.ch <- l:
		default:
			c.unsubscribeLocked(sub, ErrCutOff)
		}
	}
}

// unsubscribeLocked stops publishing to sub, telling it err; c.out.mu
// is held.
func (c *Chat) unsubscribeLocked(sub *subscriber, err error) {
	if _, ok := c.out.subs[sub]; !ok {
		return
	}
	delete(c.out.subs, sub)
	sub.err = err
	close(sub.cut)
}

// endLines cuts off every view at the end of Run, and refuses new ones.
func (c *Chat) endLines() {
	s := &c.out
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	for sub := range s.subs {
		c.unsubscribeLocked(sub, ErrEnded)
	}
}

// Lines calls show for each line of the chat's recent history (the last
// 256 messages shown and the last 64 info lines among them), then for
// each line the chat shows from then on, in the order the chat shows
// them, until ctx ends, show fails or the chat ends. It may be called
// before Run, and by up to 64 views at once (ErrTooManySubscribers).
// show is called on Lines' goroutine: a view that falls more than 256
// lines behind the chat is cut off (ErrCutOff), and the chat never waits
// for it. It returns show's error, ErrCutOff, ErrEnded, or ctx's error.
func (c *Chat) Lines(ctx context.Context, show func(Line) error) error {
	sub := &subscriber{ch: make(chan Line, subscriberQueue), cut: make(chan struct{})}
	s := &c.out
	s.mu.Lock()
	switch {
	case s.ended:
		s.mu.Unlock()
		return ErrEnded
	case len(s.subs) >= maxSubscribers:
		s.mu.Unlock()
		return fmt.Errorf("%w: %d", ErrTooManySubscribers, maxSubscribers)
	}
	replay := s.hist.lines()
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		c.unsubscribeLocked(sub, nil)
	}()

	for _, l := range replay {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := show(l); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sub.cut:
			if sub.err == ErrEnded {
				return drain(sub.ch, show)
			}
			return sub.err
		case l := <-sub.ch:
			if err := show(l); err != nil {
				return err
			}
		}
	}
}

// drain shows the lines left in ch, at the chat's end, and returns
// ErrEnded, or show's error.
func drain(ch <-chan Line, show func(Line) error) error {
	for {
		select {
		case l := <-ch:
			if err := show(l); err != nil {
				return err
			}
		default:
			return ErrEnded
		}
	}
}
