package chat

import (
	"bufio"
	"context"
	"errors"
	"io"
	"sync"

	"scuttle/applog"
	"scuttle/topology"
)

// The rendering: every line the chat prints, as text on one sink. A
// store entry prints as "NAME> message" (appendChatLine), a change of
// the chat's state as "info> what happened" (sink.info). Every string a
// peer controls passes through Escape on its way here.

// sink is where the chat's lines go, whole lines at a time, so that the
// history, live entries and info lines never interleave within a line.
type sink struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newSink(w io.Writer) sink { return sink{w: bufio.NewWriter(w)} }

// write buffers line, which ends in "\n"; flush sends it.
func (s *sink) write(line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Write(line)
}

// flush sends the buffered lines.
func (s *sink) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Flush()
}

// info prints "info> " and line, which must be escaped, at once.
func (s *sink) info(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.WriteString("info> " + line + "\n")
	s.w.Flush()
}

// print prints the whole stored history and then every entry stored later,
// until ctx ends.
func (c *Chat) print(ctx context.Context) error {
	f := c.cfg.DB.Feed()
	defer f.Close()
	var buf []byte
	for {
		// The sink is locked line by line, so that a long history does
		// not hold back the swarm's events (Events must return quickly).
		for f.Next() {
			buf = appendChatLine(buf[:0], f.Entry(), c.owner, c.nameOf)
			c.out.write(buf)
		}
		if err := errors.Join(f.Err(), c.out.flush()); err != nil {
			return err
		}
		if err := f.Wait(ctx); err != nil {
			return err
		}
	}
}

// event prints the connection changes of the swarm.
func (c *Chat) event(e topology.Event) {
	c.toDiscovery(e)
	var what string
	switch e.Kind {
	case topology.Connected:
		what = "direct connection to"
	case topology.Disconnected:
		what = "lost connection to"
	case topology.Listening:
		c.cfg.Log.Info("listening", "addr", e.Addr)
		return
	case topology.Unreachable:
		c.unreachable(e)
		return
	default:
		return
	}
	name := c.peerName(e.Peer.Name, applog.IDOf(e.Peer.Key))
	if name == "" {
		name = e.Addr.String()
	}
	c.out.info(what + " " + Escape(name))
	if e.Err != nil {
		c.cfg.Log.Debug("connection ended", "peer", name, "err", e.Err)
	}
}

// appendChatLine appends the line that prints e: "NAME> message" for a
// chat message whose username NAME is bound to e's own log (owner
// returns the log bound to a name, "" if none), "NAME~SHORT> message"
// if it is not, with SHORT the author's short id, and "NAME> text" for
// an entry that is not a chat message, NAME the name bound to its log
// (nameOf; SHORT if none).
func appendChatLine(b []byte, e applog.Entry, owner func(name string, author applog.ID) applog.ID, nameOf func(applog.ID) string) []byte {
	if m, ok := decodeMessage(e.Data); ok {
		b = AppendEscaped(b, []byte(m.Username), "")
		if owner(m.Username, e.Log) != e.Log {
			b = append(b, '~')
			b = append(b, e.Log.Short()...)
		}
		b = append(b, "> "...)
		b = AppendEscaped(b, []byte(m.Message), "")
	} else {
		if name := nameOf(e.Log); name != "" {
			b = AppendEscaped(b, []byte(name), "")
		} else {
			b = append(b, e.Log.Short()...)
		}
		b = append(b, "> "...)
		b = AppendEscaped(b, e.Data, "")
	}
	return append(b, '\n')
}
