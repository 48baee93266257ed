package topology

import (
	"fmt"
	"net"
)

// EventKind says what an Event reports.
type EventKind int

// Event kinds. The numbers are append-only.
const (
	// Listening: the swarm accepts connections on Event.Addr. Always the
	// first event of a Run.
	Listening EventKind = iota + 1
	// Connected: a handshake with Event.Peer succeeded over a connection
	// from or to Event.Addr, and the Handler is about to get it.
	Connected
	// Disconnected: the connection of the previous Connected event for
	// Event.Peer has ended, for the reason Event.Err.
	Disconnected
)

// String returns the kind's lowercase name.
func (k EventKind) String() string {
	switch k {
	case Listening:
		return "listening"
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// An Event reports a change the chat may print. See Swarm.Events for the
// order in which events arrive.
type Event struct {
	Kind EventKind
	// Peer is the remote's handshake; zero for Listening.
	Peer Hello
	// Addr is the own listen address for Listening and the remote end of
	// the connection otherwise.
	Addr net.Addr
	// Dialed is true if this side dialled the connection.
	Dialed bool
	// Err is the reason of a Disconnected event: ErrReplaced, ErrClosed or
	// the cause of the Run context when the swarm ended the connection,
	// otherwise the Handler's error (nil if it returned nil).
	Err error
}

// String formats e as one line for a user, e.g.
// "connected to bob (id 3fa…) at 127.0.0.1:4000".
func (e Event) String() string {
	switch e.Kind {
	case Listening:
		return fmt.Sprintf("listening on %v", e.Addr)
	case Connected:
		return fmt.Sprintf("connected to %s (id %s) at %v", e.Peer.Name, e.Peer.ID, e.Addr)
	case Disconnected:
		if e.Err == nil {
			return fmt.Sprintf("disconnected from %s (id %s) at %v", e.Peer.Name, e.Peer.ID, e.Addr)
		}
		return fmt.Sprintf("disconnected from %s (id %s) at %v: %v", e.Peer.Name, e.Peer.ID, e.Addr, e.Err)
	}
	return e.Kind.String()
}
