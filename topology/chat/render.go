package chat

import (
	"context"
	"errors"

	"scuttle/applog"
	"scuttle/applog/blob"
	"scuttle/topology"
)

// The rendering: what each store entry and each change of the chat's
// state shows as, a Line. A store entry is a message "NAME> message"
// (entryLine), a change of the chat's state an info line "info> what
// happened" (Chat.info). Every string a peer controls passes through
// Escape on its way here; show (screen.go) puts the lines on the screen.

// print shows the whole stored history and then every entry stored later,
// until ctx ends.
func (c *Chat) print(ctx context.Context) error {
	f := c.cfg.DB.Feed()
	defer f.Close()
	own := c.cfg.DB.ID()
	var buf []byte
	for {
		// show locks the screen line by line, so that a long history
		// does not hold back the swarm's events (Events must return
		// quickly).
		for f.Next() {
			l, ok, b := c.lineOf(buf, f.Entry())
			buf = b
			if ok {
				l.Own = l.Log == own
				c.show(l)
			}
		}
		if err := errors.Join(f.Err(), c.flush()); err != nil {
			return err
		}
		if err := f.Wait(ctx); err != nil {
			return err
		}
	}
}

// event shows the connection changes of the swarm.
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
	id := applog.IDOf(e.Peer.Key)
	name := c.peerName(e.Peer.Name, id)
	if name == "" {
		name = e.Addr.String()
	}
	if c.member != nil && !c.named(id) {
		// The membership shows the peers of its active set (memberShow),
		// not every connection a message or two takes.
		c.cfg.Log.Debug("connection", "event", e.Kind.String(), "peer", name, "err", e.Err)
		return
	}
	c.info(what + " " + Escape(name))
	if c.presence.note(e.Kind, id, Escape(name), c.now()) {
		c.setStatus()
	}
	if e.Err != nil {
		c.cfg.Log.Debug("connection ended", "peer", name, "err", e.Err)
	}
}

// memberShow shows that the membership's active set gained (up) or
// lost the peer id, which claims the chat name claimed, as event shows
// a connection's start and end without it.
func (c *Chat) memberShow(id applog.ID, claimed string, up bool) {
	kind, what := topology.Connected, "direct connection to"
	if !up {
		kind, what = topology.Disconnected, "lost connection to"
	}
	name := c.peerName(claimed, id)
	c.info(what + " " + Escape(name))
	if c.presence.note(kind, id, Escape(name), c.now()) {
		c.setStatus()
	}
}

// entryLine returns the line that shows e, a message: "NAME> message"
// for a chat message whose username NAME is bound to e's own log (owner
// returns the log bound to a name, "" if none), "NAME~SHORT> message"
// if it is not, with SHORT the author's short id, and "NAME> text" for
// an entry that is not a chat message, NAME the name bound to its log
// (nameOf; SHORT if none). Own is left false. It escapes into buf, which
// it returns for the next line: From and Text are one string.
func entryLine(buf []byte, e applog.Entry, owner func(name string, author applog.ID) applog.ID, nameOf func(applog.ID) string) (Line, []byte) {
	l, _, b := entryFileLine(buf, e, owner, nameOf)
	return l, b
}

// entryFileLine is entryLine, and also returns the file entry e is, if
// it is one.
func entryFileLine(buf []byte, e applog.Entry, owner func(name string, author applog.ID) applog.ID, nameOf func(applog.ID) string) (Line, *blob.Entry, []byte) {
	var file *blob.Entry
	b := buf[:0]
	var text []byte
	if m, ok := decodeMessage(e.Data); ok {
		b = AppendEscaped(b, []byte(m.Username), " ") // no name has blanks: "a → b" cannot pass for a private line
		if owner(m.Username, e.Log) != e.Log {
			b = append(b, '~')
			b = append(b, e.Log.Short()...)
		}
		text = []byte(m.Message)
	} else {
		if name := nameOf(e.Log); name != "" {
			b = AppendEscaped(b, []byte(name), "")
		} else {
			b = append(b, e.Log.Short()...)
		}
		text = e.Data
		if f, err := blob.ParseEntry(e.Data); err == nil {
			text, file = fileText(f), &f
		}
	}
	n := len(b)
	b = AppendEscaped(b, text, "")
	s := string(b)
	return Line{Kind: Message, Time: e.Time, From: s[:n], Log: e.Log, Text: s[n:]}, file, b
}

// fileText is what a file entry shows, before escaping: "[file] NAME
// (SIZE) ID", with the content id in full, as /get and scuttle get take
// it.
func fileText(f blob.Entry) []byte {
	return []byte("[file] " + f.Name + " (" + blob.FormatSize(f.Size) + ") " + f.ID.String())
}
