package chat

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// The one path of what the chat shows: every line, a store entry or an
// info line, is made a Line and handed to show, which gives it to the
// Screen if Config has one, else writes its String and a newline on
// Config.Out (the pipe). So the pipe, the terminal and the web page see
// the same lines in the same order, and none of them another copy of the
// chat's logic.

// screen is where show puts the lines: the Screen, or the pipe. Its
// mutex makes show's steps one step for every caller, so that lines
// never interleave and every view sees them in one order.
type screen struct {
	mu     sync.Mutex
	screen Screen        // nil: the pipe
	w      *bufio.Writer // the pipe: Config.Out
	buf    []byte        // the pipe's line being written

	hist  history                  // what Lines replays
	subs  map[*subscriber]struct{} // the views streaming (Lines)
	ended bool                     // Run returned: no more views
}

func newScreen(s Screen, out io.Writer) screen {
	var w *bufio.Writer
	if s == nil {
		w = bufio.NewWriter(out)
	}
	return screen{screen: s, w: w, hist: newHistory(), subs: map[*subscriber]struct{}{}}
}

// show shows l. On the pipe it stays buffered until flush, so that a long
// history is written in large writes.
func (c *Chat) show(l Line) {
	s := &c.out
	s.mu.Lock()
	defer s.mu.Unlock()
	c.publish(l)
	if s.screen != nil {
		s.screen.Show(l)
		return
	}
	s.buf = append(l.appendPipe(s.buf[:0]), '\n')
	s.w.Write(s.buf) // an error stays in w, and flush returns it
}

// flush writes the pipe's buffered lines; a Screen has none.
func (c *Chat) flush() error {
	s := &c.out
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return nil
	}
	return s.w.Flush()
}

// info shows line, which must be escaped, as an info line, at once.
func (c *Chat) info(line string) {
	c.show(Line{Kind: Info, Time: c.now(), Text: line})
	c.flush()
}

// setStatus tells the Screen, if any, the chat's status. The status is
// read under the screen's lock, so that the Screen is told the changes
// in the order they were made.
func (c *Chat) setStatus() {
	s := &c.out
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.screen != nil {
		s.screen.SetStatus(c.Status())
	}
}

// Info shows line, which must be escaped already (Escape), as an info
// line: a front end's own news, such as the web interface's address.
func (c *Chat) Info(line string) { c.info(line) }

// now is the chat's clock: the time of info lines and of presence.
func (c *Chat) now() time.Time {
	if c.clock != nil {
		return c.clock()
	}
	return time.Now()
}
