package seal

import (
	"slices"
	"sync"

	"scuttle/applog"
)

// Rooms is the rooms a user holds keys for, learned from the room key
// messages it opened (Message.RoomKey): every epoch's key of each room,
// kept to read its history; the newest, to write with; and its members
// as the newest key message lists them (its author and recipients). A
// Rooms is safe for concurrent use.
type Rooms struct {
	mu   sync.Mutex
	max  int
	byID map[[16]byte]*roomState
	ids  []Identity // every epoch of every room, in the order learned
}

type roomState struct {
	epochs  map[uint32]*Room
	current *Room
	members []applog.ID
}

// RoomInfo is what Rooms knows of one room.
type RoomInfo struct {
	// Current is the newest epoch's key: the one to seal lines with and
	// to give (Invite) to a new member.
	Current *Room
	// Members are the logs the newest key message gave the key to,
	// its author first.
	Members []applog.ID
}

// NewRooms returns an empty set that holds at most maxKeys room keys
// (epochs of all rooms together; 0: no bound). Whoever can seal to a
// user can send it keys, so a reader of others' entries bounds them.
func NewRooms(maxKeys int) *Rooms {
	return &Rooms{max: maxKeys, byID: map[[16]byte]*roomState{}}
}

// Learn notes the room key that m, opened from an entry of author's
// log, gives, if it gives one. It reports whether the key is new; a key
// beyond the bound is not learned.
func (rs *Rooms) Learn(author applog.ID, m *Message) bool {
	if m == nil || m.RoomKey == nil {
		return false
	}
	r := m.RoomKey
	rs.mu.Lock()
	defer rs.mu.Unlock()
	st := rs.byID[r.ID]
	if st != nil && st.epochs[r.Epoch] != nil {
		if r.Epoch == st.current.Epoch {
			st.members = members(author, m.Recipients) // a later invitation of the same epoch
		}
		return false
	}
	if rs.max > 0 && len(rs.ids) >= rs.max {
		return false
	}
	if st == nil {
		st = &roomState{epochs: map[uint32]*Room{}}
		rs.byID[r.ID] = st
	}
	st.epochs[r.Epoch] = r
	rs.ids = append(rs.ids, r)
	if st.current == nil || r.Epoch > st.current.Epoch {
		st.current, st.members = r, members(author, m.Recipients)
	}
	return true
}

func members(author applog.ID, rcpts []applog.ID) []applog.ID {
	ms := []applog.ID{author}
	for _, r := range rcpts {
		if !slices.Contains(ms, r) {
			ms = append(ms, r)
		}
	}
	return ms
}

// Identities returns every key held, each epoch of each room, for Open.
func (rs *Rooms) Identities() []Identity {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return slices.Clone(rs.ids)
}

// Len returns the number of keys held.
func (rs *Rooms) Len() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.ids)
}

// Room returns what is known of the room id.
func (rs *Rooms) Room(id [16]byte) (RoomInfo, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	st := rs.byID[id]
	if st == nil {
		return RoomInfo{}, false
	}
	return RoomInfo{Current: st.current, Members: slices.Clone(st.members)}, true
}

// Named returns the rooms called name: usually one, but names are their
// creators' choice, so two rooms may share one.
func (rs *Rooms) Named(name string) []RoomInfo {
	var out []RoomInfo
	for _, ri := range rs.List() {
		if ri.Current.Name == name {
			out = append(out, ri)
		}
	}
	return out
}

// List returns every room, in the order their first key was learned.
func (rs *Rooms) List() []RoomInfo {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []RoomInfo
	seen := map[[16]byte]bool{}
	for _, id := range rs.ids {
		r := id.(*Room)
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		st := rs.byID[r.ID]
		out = append(out, RoomInfo{Current: st.current, Members: slices.Clone(st.members)})
	}
	return out
}
