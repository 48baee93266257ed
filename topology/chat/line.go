package chat

import (
	"time"

	"scuttle/applog"
)

// The front ends' model: what the chat shows, in a form each front end
// renders its own way. The pipe prints Line.String, today's line format;
// the terminal adds a time and a colour; the web page shows the fields as
// text nodes. A front end is a Screen.

// A Line is one line the chat shows. Every string field is escaped
// already (Escape): a front end prints it as it is, and never as markup.
type Line struct {
	Kind LineKind
	// Time is when the line was written, as its author's entry says, or
	// when an info line was made.
	Time time.Time
	// From is the name a message is shown under, with "~SHORT" when the
	// name is not bound to Log; empty for an info line.
	From string
	Log  applog.ID // the author's log; empty for an info line
	Own  bool      // a message of this chat's own log
	// Room is where a message was said: empty for the network's public
	// room, "#NAME" for a line of a private room (the name its creator
	// gave it).
	Room string
	// To is the recipients of a private message (/msg), their names
	// ", "-separated; empty for any other line. A line with To or Room
	// is sealed: only its recipients, or the room's members, read it.
	To   string
	Text string
	// Image is the content id of the file a "[file]" line shows, or a
	// fetch's completion line tells of, when it is an image (PNG, JPEG,
	// GIF or WebP by its entry's media type) that the store holds
	// complete: the web page shows it under the line (Chat.Image). Empty
	// for any other line.
	Image string
}

// A LineKind tells what a Line is.
type LineKind uint8

const (
	Message LineKind = iota // an entry of a log: a chat message or a plain entry
	Info                    // a change of the chat's state, or a command's answer
)

// String returns l as the pipe prints it, without a newline:
// "FROM> TEXT" for a message, "FROM → TO> TEXT" for a private message,
// "ROOM FROM> TEXT" for a line of a private room, "info> TEXT" for an
// info line.
func (l Line) String() string {
	return string(l.appendPipe(nil))
}

// appendPipe appends l as String returns it.
func (l Line) appendPipe(b []byte) []byte {
	switch {
	case l.Kind == Info:
		b = append(b, "info"...)
	case l.Room != "":
		b = append(b, l.Room...)
		b = append(b, ' ')
		b = append(b, l.From...)
	default:
		b = append(b, l.From...)
	}
	if l.To != "" && l.Kind != Info {
		b = append(b, " → "...)
		b = append(b, l.To...)
	}
	b = append(b, "> "...)
	return append(b, l.Text...)
}

// Status is what a front end shows beside the input: who the user is,
// where typed lines go, which network the chat is on and how many peers
// are connected.
type Status struct {
	Me      string // the own name, escaped
	Room    string // where typed lines go: empty for the public room
	Private bool   // a private network (--network), not the public default
	Peers   int    // peers connected now
}

// Presence is one peer as /who shows it: connected now, or seen this
// run and when.
type Presence struct {
	Name      string    // escaped, as Line.From
	Log       applog.ID // the peer's log
	Connected bool      // connected now
	Since     time.Time // connected since, or last seen
}

// A Screen is a front end of the chat. Show is called for each line in
// the order the chat makes them, and SetStatus when the status changes;
// both must return quickly (a slow screen drops or queues what it must,
// within a bound of its own). Config.Screen nil means the pipe: each
// line's String and a newline, on Config.Out.
type Screen interface {
	Show(Line)
	SetStatus(Status)
}

// A NameBinding is one name the chat knows and the log it is bound to,
// as the web page's list of names shows it.
type NameBinding struct {
	Name string    // escaped
	Log  applog.ID // the log the name is bound to
	How  string    // "trusted", "named", "direct" or "claimed" (names.How's String)
	Own  bool      // the own log
}
