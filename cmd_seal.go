package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"scuttle/applog"
	"scuttle/applog/seal"
	"scuttle/topology/chat"
)

// rekey, and what "read --open" uses to open sealed entries
// (applog/seal): the database's keyring, the rooms whose keys were
// sealed to it, and the network that binds them.

func rekeyCmd() *command {
	return &command{
		name:    "rekey",
		summary: "make a new encryption key and publish it in the own log: private messages are sealed to it from then on, and the older keys, kept, still open what was sealed to them",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			wait := fs.Duration("wait", 5*time.Second, "how long to wait for another writer (a running chat) to release the database")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("takes no arguments")
				}
				l, err := applog.Open(*db, &applog.Options{LockWait: lockWait(*wait), Logger: st.log})
				if err != nil {
					return err
				}
				err = rekey(l, *db, st.stdout)
				return errors.Join(err, l.Close())
			}
		},
	}
}

// rekey makes and publishes a new key in the database l, whose
// directory is dir, and prints it with its seq and the keys now kept.
func rekey(l *applog.DB, dir string, w io.Writer) error {
	kr, err := seal.OpenKeyring(dir)
	if err != nil {
		return err
	}
	k, seq, err := kr.Rekey(l)
	if err != nil {
		return err
	}
	n := len(kr.Keys())
	_, err = fmt.Fprintf(w, "{key: '%s', seq: %d, kept: %d}\n", k.Public(), seq, n)
	return err
}

// maxOpenRooms bounds the room keys "read --open" holds: each costs one
// AES block on every room line (about 50 ns), and whoever can seal to
// this database could send any number.
const maxOpenRooms = 1024

// opener opens the sealed entries of a database with its keys: every
// generation of the own encryption key, and the room keys sealed to
// them.
type opener struct {
	network []byte // seal.Context.Network
	keys    []seal.Identity
	rooms   *seal.Rooms
	ids     []seal.Identity // keys, then every room key
	full    bool            // maxOpenRooms reached
}

// newOpener returns the opener of the database in dir, for entries of
// the network whose key is networkKey (nil: the public network).
func newOpener(dir string, networkKey []byte) (*opener, error) {
	kr, err := seal.OpenKeyring(dir)
	if err != nil {
		return nil, err
	}
	o := &opener{network: seal.NetworkID(networkKey), rooms: seal.NewRooms(maxOpenRooms)}
	for _, k := range kr.Keys() {
		o.keys = append(o.keys, k)
	}
	o.ids = o.keys
	return o, nil
}

// open opens e, or fails with an error matching seal.ErrNotForMe when
// none of the keys held is its recipient. A room key it yields is held
// from then on.
func (o *opener) open(e applog.Entry) (*seal.Message, error) {
	if len(o.ids) == 0 {
		return nil, seal.ErrNotForMe
	}
	m, err := seal.Open(e.Data, seal.Context{Author: e.Log, Network: o.network}, o.ids...)
	if err == nil && m.RoomKey != nil {
		if o.rooms.Learn(e.Log, m) {
			o.ids = append(o.keys[:len(o.keys):len(o.keys)], o.rooms.Identities()...)
		} else if o.rooms.Len() >= maxOpenRooms {
			o.full = true
		}
	}
	return m, err
}

// learnRooms reads every entry of l once for the room keys sealed to
// the keys held, so that the lines of a room open even when they were
// stored before the key that opens them.
func (o *opener) learnRooms(ctx context.Context, l *applog.DB) error {
	if len(o.keys) == 0 {
		return nil
	}
	f := l.Feed()
	defer f.Close()
	for f.Next() {
		e := f.Entry()
		if !seal.IsSealed(e.Data) {
			continue
		}
		if h, err := seal.ParseHeader(e.Data); err != nil || h.Kind != seal.Direct {
			continue
		}
		o.open(e) // what does not open is printed sealed later
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return f.Err()
}

// sealedView is what "scuttle read" shows of an entry of applog/seal's:
// a key entry, a sealed payload, opened or not. The zero value is an
// ordinary entry.
type sealedView struct {
	key    string        // a key entry: the key it publishes
	sealed bool          // a well-formed sealed payload
	msg    *seal.Message // the payload opened, with --open
}

// view returns what p shows of e. Bytes that start as a key entry or a
// payload but are not well formed are an ordinary entry, shown as such.
func (p *entryPrinter) view(e applog.Entry) sealedView {
	switch {
	case seal.IsKeyEntry(e.Data):
		if k, err := seal.ParseKeyEntry(e.Data); err == nil {
			return sealedView{key: k.String()}
		}
	case seal.IsSealed(e.Data):
		if _, err := seal.ParseHeader(e.Data); err != nil {
			return sealedView{}
		}
		v := sealedView{sealed: true}
		if p.open != nil {
			v.msg, _ = p.open.open(e) // what does not open prints sealed
		}
		return v
	}
	return sealedView{}
}

// appendSealedFields appends what a line of "scuttle read --open" says
// of an opened payload before its text:
//
//	, to: ['ID', …]                          a private message
//	, room: 'NAME'                           a room line
//	, to: ['ID', …], invite: 'NAME', epoch: N  a room's key, given
func appendSealedFields(b []byte, m *seal.Message) []byte {
	if m.Kind == seal.RoomLine {
		b = append(b, ", room: "...)
		return appendQuoted(b, []byte(m.Room.Name))
	}
	b = append(b, ", to: ["...)
	for i, r := range m.Recipients {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '\'')
		b = append(b, r...)
		b = append(b, '\'')
	}
	b = append(b, ']')
	if m.RoomKey != nil {
		b = append(b, ", invite: "...)
		b = appendQuoted(b, []byte(m.RoomKey.Name))
		b = append(b, ", epoch: "...)
		b = strconv.AppendUint(b, uint64(m.RoomKey.Epoch), 10)
	}
	return b
}

// sealedJSON is the shape of "scuttle read --json" for a key entry
// (key) and a sealed payload (sealed: true, and once opened its entry,
// and to, room or invite and epoch).
type sealedJSON struct {
	Peer   applog.ID   `json:"peer"`
	Seq    uint64      `json:"seq"`
	Key    string      `json:"key,omitempty"`
	Sealed bool        `json:"sealed,omitempty"`
	To     []applog.ID `json:"to,omitzero"`
	Room   string      `json:"room,omitempty"`
	Invite string      `json:"invite,omitempty"`
	Epoch  *uint32     `json:"epoch,omitempty"`
	Entry  *string     `json:"entry,omitempty"`
	Time   string      `json:"time"`
	Data   string      `json:"data,omitempty"`
}

func appendSealedJSON(b []byte, e applog.Entry, sv sealedView) []byte {
	v := sealedJSON{Peer: e.Log, Seq: e.Seq, Key: sv.key, Sealed: sv.sealed, Time: e.Time.UTC().Format(time.RFC3339Nano)}
	if m := sv.msg; m != nil {
		switch {
		case m.Kind == seal.RoomLine:
			v.Room = m.Room.Name
		case m.RoomKey != nil:
			v.To, v.Invite, v.Epoch = nonNil(m.Recipients), m.RoomKey.Name, &m.RoomKey.Epoch
		default:
			v.To = nonNil(m.Recipients)
		}
		if m.RoomKey == nil {
			text := string(m.Text)
			v.Entry = &text
			if !utf8.Valid(m.Text) {
				v.Data = base64.StdEncoding.EncodeToString(m.Text)
			}
		}
	}
	b, err := chat.AppendJSONValue(b, v) // a room's name and the text are a peer's
	if err != nil {                      // cannot happen: every field marshals
		panic(err)
	}
	return append(b, '\n')
}

func nonNil(ids []applog.ID) []applog.ID {
	if ids == nil {
		return []applog.ID{}
	}
	return ids
}
