package chat

import (
	"crypto/sha256"
	"errors"
	"strings"
	"sync"

	"scuttle/applog"
	"scuttle/applog/blob"
	"scuttle/applog/seal"
)

// Private messages and private rooms: entries of a log sealed with
// package seal (see applog/seal's "Use"). The chat publishes the user's
// encryption key, notes every log's key as the entries go by, opens the
// sealed entries it can and shows them as lines of their own form
// ("alice → bob> TEXT", "#ROOM alice> TEXT"), and shows nothing of those
// it cannot: most sealed entries of a network are others', and a relay
// forwards them without a trace on its screen. Key entries are never
// shown. The commands that seal are in rooms.go.

const (
	// maxKeyLogs bounds the logs whose encryption keys the chat notes.
	maxKeyLogs = 1 << 16
	// maxRoomKeys bounds the room keys (epochs of all rooms) the chat
	// learns: anyone who can seal to the user can send keys.
	maxRoomKeys = 1024
	// maxPending bounds the room lines kept to open once their room's
	// key arrives (see pend): the latest of those that did not open.
	maxPending = 256
)

// sealing is the chat's private state: the user's keys, every log's
// published key, the rooms whose keys it was given, where typed lines
// go, and the room lines waiting for a key.
type sealing struct {
	network []byte // seal.NetworkID of the network key
	dir     *seal.Directory
	rooms   *seal.Rooms

	// mu is taken after the screen's lock (setStatus reads where), so
	// nothing that shows a line may run while it is held.
	mu      sync.Mutex
	kr      *seal.Keyring   // nil: private messages are off
	ids     []seal.Identity // kr's keys and the rooms' keys, for Open
	idRooms int             // rooms.Len() when ids was made; -1: to make
	room    *[16]byte       // the room typed lines go to; nil: the public one
	left    map[[16]byte]bool
	pending []applog.Entry // room lines that did not open, Data nil; at most maxPending
	next    int            // where the next pending entry goes once it is full
	// learned is the own room key messages a command learned when it
	// made them (see giveKey), by hash: learning them again when they
	// are read back would undo what a later command learned (Rooms
	// takes the last key message it is given as the members' list).
	learned map[[32]byte]bool
}

func newSealing(kr *seal.Keyring, networkKey []byte) *sealing {
	return &sealing{
		network: seal.NetworkID(networkKey),
		dir:     seal.NewDirectory(maxKeyLogs),
		rooms:   seal.NewRooms(maxRoomKeys),
		kr:      kr,
		idRooms: -1,
		left:    map[[16]byte]bool{},
		learned: map[[32]byte]bool{},
	}
}

// context returns the seal.Context of an entry of log author.
func (s *sealing) context(author applog.ID) seal.Context {
	return seal.Context{Author: author, Network: s.network}
}

// identities returns the keys to open with: the user's, newest first,
// then every room key held.
func (s *sealing) identities() []seal.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kr == nil {
		return nil
	}
	if n := s.rooms.Len(); n != s.idRooms {
		s.ids = nil // a new array: a caller may still hold the old one
		for _, k := range s.kr.Keys() {
			s.ids = append(s.ids, k)
		}
		s.ids = append(s.ids, s.rooms.Identities()...)
		s.idRooms = n
	}
	return s.ids
}

// current returns the user's key to seal with, nil if there is none.
func (s *sealing) current() *seal.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kr == nil {
		return nil
	}
	return s.kr.Current()
}

// pend keeps e, a room line that opened with no key held, to be opened
// when a new room key is learned (its key may come after it, in another
// log); beyond maxPending the oldest is forgotten.
func (s *sealing) pend(e applog.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Data = nil
	if len(s.pending) < maxPending {
		s.pending = append(s.pending, e)
		return
	}
	s.pending[s.next] = e
	s.next = (s.next + 1) % maxPending
}

// takePending returns the pending room lines, oldest first, and forgets
// them.
func (s *sealing) takePending() []applog.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append(s.pending[s.next:len(s.pending):len(s.pending)], s.pending[:s.next]...)
	s.pending, s.next = nil, 0
	return out
}

// unpublished reports whether the chat has keys and the newest is not
// published yet (a new keyring, or a crash before its key entry).
func (s *sealing) unpublished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kr != nil && (s.kr.Current() == nil || s.kr.Published() == 0)
}

// publishKey makes sure the user's encryption key is published (seal
// Keyring.Publish), and says so the first time. It runs before the first
// line is sent, once the own log holds what peers hold of it.
func (c *Chat) publishKey() error {
	s := c.sealing
	s.mu.Lock()
	_, appended, err := s.kr.Publish(c.cfg.DB)
	s.mu.Unlock() // before info: setStatus holds the screen's lock and takes s.mu
	if err != nil {
		return err
	}
	if appended {
		c.info("published your encryption key: from now on others can send you private messages (/msg) and rooms (/invite)")
	}
	return nil
}

// lineOf returns the line that shows e, and whether e shows: a key
// entry never does; a sealed entry when it opens, as a private message
// or a room line; any other entry as entryLine does. Every entry's key,
// if it publishes one, is noted first.
func (c *Chat) lineOf(buf []byte, e applog.Entry) (Line, bool, []byte) {
	s := c.sealing
	s.dir.Note(e)
	switch {
	case seal.IsKeyEntry(e.Data):
		return Line{}, false, buf
	case seal.IsSealed(e.Data):
		l, ok := c.openEntry(e, s.identities())
		return l, ok, buf
	}
	l, f, buf := entryFileLine(buf, e, c.owner, c.nameOf)
	if f != nil {
		c.noteFile(&l, *f, e.Log)
	}
	return l, true, buf
}

// openEntry opens e, a sealed entry, with ids, and returns its line if
// it is a private message or a room line. A room key it gives is
// learned, and told of in an info line when another member gave it; a
// room line it could not open is kept a while, for a key that may come
// later (pend). An entry sealed to the user that does not open (changed
// or replayed) is told of in an info line; one that is not the user's
// shows nothing.
func (c *Chat) openEntry(e applog.Entry, ids []seal.Identity) (Line, bool) {
	s := c.sealing
	if len(ids) == 0 {
		return Line{}, false
	}
	m, err := seal.Open(e.Data, s.context(e.Log), ids...)
	switch {
	case errors.Is(err, seal.ErrNotForMe):
		if h, err := seal.ParseHeader(e.Data); err == nil && h.Kind == seal.RoomLine {
			s.pend(e)
		}
		return Line{}, false
	case errors.Is(err, seal.ErrTampered):
		c.info("a private entry of " + c.logName(e.Log) + " sealed to you does not open: it was changed, or copied from elsewhere; not shown")
		return Line{}, false
	case err != nil:
		c.cfg.Log.Debug("chat: sealed entry not opened", "log", e.Log, "seq", e.Seq, "err", err)
		return Line{}, false
	}
	if m.RoomKey != nil {
		if !s.learnedOwn(e.Data) {
			c.learnRoom(e.Log, m)
		}
		return Line{}, false
	}
	if m.Room != nil {
		s.mu.Lock()
		left := s.left[m.Room.ID]
		s.mu.Unlock()
		if left {
			return Line{}, false
		}
	}
	return c.privateLine(e, m), true
}

// maxLearned bounds sealing.learned: the own key messages made and not
// yet read back.
const maxLearned = 256

// made notes payload, an own room key message a command learned.
func (s *sealing) made(payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.learned) < maxLearned {
		s.learned[sha256.Sum256(payload)] = true
	}
}

// learnedOwn reports whether payload is an own key message a command
// learned already, and forgets it.
func (s *sealing) learnedOwn(payload []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := sha256.Sum256(payload)
	if !s.learned[h] {
		return false
	}
	delete(s.learned, h)
	return true
}

// learnRoom learns the room key that m, an entry of author's log, gives;
// tells of it, unless the user gave it (the command that did told); and
// opens the pending room lines with it.
func (c *Chat) learnRoom(author applog.ID, m *seal.Message) {
	s := c.sealing
	isNew := s.rooms.Learn(author, m)
	s.mu.Lock()
	left := s.left[m.RoomKey.ID]
	s.mu.Unlock()
	if author != c.cfg.DB.ID() && !left {
		if info, ok := s.rooms.Room(m.RoomKey.ID); ok && info.Current.Epoch == m.RoomKey.Epoch {
			c.info(roomName(m.RoomKey) + ": members now " + c.logNames(info.Members) + " (key from " + c.logName(author) + ")")
		}
	}
	if !isNew {
		return
	}
	for _, e := range s.takePending() {
		full, err := c.cfg.DB.Get(e.Log, e.Seq)
		if err != nil {
			continue // deleted since (blocked)
		}
		if l, ok := c.openEntry(full, []seal.Identity{m.RoomKey}); ok {
			l.Own = l.Log == c.cfg.DB.ID()
			c.show(l)
		}
	}
}

// privateLine returns the line of e, opened as m: "FROM → TO> TEXT" for
// a private message, "#ROOM FROM> TEXT" for a room line. FROM is the
// name bound to the author's log, as for a plain entry: a sealed entry
// names no one.
func (c *Chat) privateLine(e applog.Entry, m *seal.Message) Line {
	l := Line{Kind: Message, Time: e.Time, From: c.logName(e.Log), Log: e.Log}
	if f, err := blob.ParseEntry(m.Text); err == nil {
		l.Text = Escape(string(fileText(f)))
		c.noteFile(&l, f, e.Log)
	} else {
		l.Text = Escape(string(m.Text))
	}
	if m.Room != nil {
		l.Room = roomName(m.Room)
	} else {
		l.To = c.logNames(m.Recipients)
	}
	return l
}

// logName returns the name bound to the log id, escaped, or its short
// ID when none is.
func (c *Chat) logName(id applog.ID) string {
	if n := c.nameOf(id); n != "" {
		return Escape(n)
	}
	return id.Short()
}

// logNames returns the names of ids (logName), ", "-separated.
func (c *Chat) logNames(ids []applog.ID) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.logName(id))
	}
	return b.String()
}

// roomName returns r's name as lines show it: "#NAME", escaped, with
// blanks and ">" escaped too, so that a name cannot pass for an author.
func roomName(r *seal.Room) string {
	return string(AppendEscaped([]byte{'#'}, []byte(r.Name), " >"))
}
