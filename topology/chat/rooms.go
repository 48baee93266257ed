package chat

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"scuttle/applog"
	"scuttle/applog/seal"
)

// The commands that seal: /msg, a private message to one log; /join,
// /invite, /kick, /leave and /rooms, the private rooms. Each seals with
// package seal (see its "Use") and hands the entry to the sending of
// lines (queue), which appends it as it appends typed lines. Each answers
// in one info line; an error sends nothing.

// where returns the newest key of the room typed lines go to, and
// whether they go to one (else to the public room).
func (s *sealing) where() (*seal.Room, bool) {
	s.mu.Lock()
	id := s.room
	s.mu.Unlock()
	if id == nil {
		return nil, false
	}
	info, ok := s.rooms.Room(*id)
	return info.Current, ok
}

// goTo makes typed lines go to the room id, or to the public room if id
// is nil; a room gone to is no longer left.
func (s *sealing) goTo(id *[16]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.room = id
	if id != nil {
		delete(s.left, *id)
	}
}

// queue hands entry to the sending of lines, which appends it after the
// command: a command runs on the sending's goroutine (see take).
func (c *Chat) queue(entry []byte) { c.outbox = append(c.outbox, entry) }

// sealOn reports whether the chat has the user's keys, and tells cmd's
// user in an info line when it has not.
func (c *Chat) sealOn(cmd string) bool {
	if c.sealing.current() == nil {
		c.info(cmd + ": private messages are off in this chat: it has no encryption key")
		return false
	}
	return true
}

// logNamed returns the log NAME is bound to (as lookup believes it), or
// that NAME is, if it is a log ID; false, told in an info line of cmd,
// if none.
func (c *Chat) logNamed(cmd, name string) (applog.ID, bool) {
	if id, err := applog.ParseID(name); err == nil {
		return id, true
	}
	b, ok := c.lookup(name)
	if !ok {
		c.info(fmt.Sprintf("%s: no log is bound to %s; /names lists the names", cmd, Escape(name)))
		return "", false
	}
	return b.ID, true
}

// recipient returns the recipient whose log NAME is bound to, with the
// newest encryption key its log published; false, told in an info line
// of cmd, if there is none.
func (c *Chat) recipient(cmd, name string) (seal.Recipient, bool) {
	id, ok := c.logNamed(cmd, name)
	if !ok {
		return seal.Recipient{}, false
	}
	r, ok := c.sealing.dir.Recipient(id)
	if !ok {
		c.info(Escape(name) + " has published no encryption key yet; it comes with their log")
	}
	return r, ok
}

// recipients returns the recipients of ids, but for the own log (the
// author is always sealed to) and the logs without a key.
func (c *Chat) recipients(ids []applog.ID) []seal.Recipient {
	var rs []seal.Recipient
	for _, id := range ids {
		if id == c.cfg.DB.ID() {
			continue
		}
		if r, ok := c.sealing.dir.Recipient(id); ok {
			rs = append(rs, r)
		}
	}
	return rs
}

// roomLine returns text sealed as a line of room, nil if it cannot be.
func (c *Chat) roomLine(room *seal.Room, text string) []byte {
	p, err := seal.SealLine(c.sealing.context(c.cfg.DB.ID()), room, []byte(text))
	if err != nil {
		c.info("not sent: " + Escape(err.Error()))
		return nil
	}
	return p
}

// giveKey seals room's key to rs and to the user, learns it as the room's
// newest key message, and queues it.
func (c *Chat) giveKey(cmd string, room *seal.Room, rs []seal.Recipient) bool {
	s := c.sealing
	me := c.cfg.DB.ID()
	p, err := seal.Invite(s.context(me), s.current(), rs, room)
	if err != nil {
		c.info(cmd + ": " + Escape(err.Error()))
		return false
	}
	m := &seal.Message{Kind: seal.Direct, RoomKey: room}
	for _, r := range rs {
		m.Recipients = append(m.Recipients, r.Log)
	}
	s.rooms.Learn(me, m)
	s.made(p)
	c.queue(p)
	return true
}

func (c *Chat) cmdMsg(args []string) {
	if !c.sealOn("/msg") {
		return
	}
	r, ok := c.recipient("/msg", args[0])
	if !ok {
		return
	}
	s := c.sealing
	p, err := seal.Seal(s.context(c.cfg.DB.ID()), s.current(), []seal.Recipient{r}, []byte(args[1]))
	if err != nil {
		c.info("/msg: " + Escape(err.Error()))
		return
	}
	c.queue(p)
}

// roomInfo returns the room typed lines go to; false, told in an info
// line of cmd, if they go to the public room.
func (c *Chat) roomInfo(cmd string) (seal.RoomInfo, bool) {
	if room, ok := c.sealing.where(); ok {
		if info, ok := c.sealing.rooms.Room(room.ID); ok {
			return info, true
		}
	}
	c.info(cmd + ": your lines go to the public room; /join #ROOM first")
	return seal.RoomInfo{}, false
}

// checkRoomName reports whether name may name a new room: 1 to
// seal.MaxRoomName bytes, which Escape keeps, without "#" or ">".
func checkRoomName(name string) bool {
	return name != "" && len(name) <= seal.MaxRoomName && Escape(name) == name && !strings.ContainsAny(name, "#>")
}

func (c *Chat) cmdJoin(args []string) {
	s := c.sealing
	if len(args) == 0 {
		s.goTo(nil)
		c.info("your lines go to the public room")
		c.setStatus()
		return
	}
	if !c.sealOn("/join") {
		return
	}
	name := strings.TrimPrefix(args[0], "#")
	if rooms := s.rooms.Named(name); len(rooms) > 0 {
		// Names are their creators' choice: of two rooms of one name,
		// the first whose key came.
		info := rooms[0]
		s.goTo(&info.Current.ID)
		c.info(fmt.Sprintf("your lines go to %s: %s", roomName(info.Current), c.logNames(info.Members)))
		c.setStatus()
		return
	}
	if !checkRoomName(name) {
		c.info(fmt.Sprintf("/join: a room's name is 1 to %d printable characters, without blanks, # or >", seal.MaxRoomName))
		return
	}
	room, err := seal.NewRoom(name)
	if err != nil {
		c.info("/join: " + Escape(err.Error()))
		return
	}
	if !c.giveKey("/join", room, nil) {
		return
	}
	s.goTo(&room.ID)
	c.info("made " + roomName(room) + ": your lines go to it, sealed; /invite NAME gives NAME its key")
	c.setStatus()
}

func (c *Chat) cmdInvite(args []string) {
	if !c.sealOn("/invite") {
		return
	}
	info, ok := c.roomInfo("/invite")
	if !ok {
		return
	}
	r, ok := c.recipient("/invite", args[0])
	if !ok {
		return
	}
	if slices.Contains(info.Members, r.Log) {
		c.info(fmt.Sprintf("/invite: %s is in %s already", Escape(args[0]), roomName(info.Current)))
		return
	}
	ids := append(info.Members, r.Log)
	if !c.giveKey("/invite", info.Current, c.recipients(ids)) {
		return
	}
	c.info(fmt.Sprintf("gave the key of %s to %s: members now %s", roomName(info.Current), Escape(args[0]), c.logNames(c.members(info.Current.ID))))
}

func (c *Chat) cmdKick(args []string) {
	if !c.sealOn("/kick") {
		return
	}
	info, ok := c.roomInfo("/kick")
	if !ok {
		return
	}
	id, ok := c.logNamed("/kick", args[0])
	if !ok {
		return
	}
	switch {
	case id == c.cfg.DB.ID():
		c.info("/kick: you cannot kick yourself; /leave leaves")
		return
	case !slices.Contains(info.Members, id):
		c.info(fmt.Sprintf("/kick: %s is not in %s", Escape(args[0]), roomName(info.Current)))
		return
	}
	rest := slices.DeleteFunc(slices.Clone(info.Members), func(m applog.ID) bool { return m == id })
	next := info.Current.Rotate()
	if !c.giveKey("/kick", next, c.recipients(rest)) {
		return
	}
	c.info(fmt.Sprintf("%s has a new key, given to %s: %s reads nothing written from now on", roomName(next), c.logNames(c.members(next.ID)), Escape(args[0])))
}

// members returns the members of room id, as its newest key message
// lists them.
func (c *Chat) members(id [16]byte) []applog.ID {
	info, _ := c.sealing.rooms.Room(id)
	return info.Members
}

func (c *Chat) cmdLeave([]string) {
	s := c.sealing
	room, ok := s.where()
	if !ok {
		c.info("/leave: your lines go to the public room already")
		return
	}
	s.mu.Lock()
	s.left[room.ID] = true
	s.room = nil
	s.mu.Unlock()
	c.info("left " + roomName(room) + ": its lines are not shown for the rest of this run, and yours go to the public room; you hold its key until a member /kicks you")
	c.setStatus()
}

func (c *Chat) cmdRooms([]string) {
	s := c.sealing
	here, _ := s.where()
	s.mu.Lock()
	left := maps.Clone(s.left)
	s.mu.Unlock()
	n := 0
	for _, info := range s.rooms.List() {
		if left[info.Current.ID] {
			continue
		}
		if n == maxListed {
			c.info("and more: /join #ROOM goes to one")
			return
		}
		n++
		line := roomName(info.Current) + ": " + c.logNames(info.Members)
		if here != nil && here.ID == info.Current.ID {
			line += " (your lines go here)"
		}
		c.info(line)
	}
	if n == 0 {
		c.info("you are in no private room; /join #ROOM makes one")
	}
}
