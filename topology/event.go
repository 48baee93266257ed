package topology

import (
	"crypto/ed25519"
	"fmt"
	"net"
)

// A Peer is the remote side of a connection as the handshake established
// it. Only Key is proven; Name and Addr are what the peer said, and mean
// something only as far as Key is trusted (see Swarm.Authorize).
type Peer struct {
	// Key is the ed25519 public key the peer's TLS certificate holds and
	// the TLS handshake proved it has the private key of. It is the
	// peer's identity (for the chat, its log ID): two connections with
	// the same Key are the same peer. Never taken from the peer's words.
	Key ed25519.PublicKey
	// Name is the chat name the peer claims in its Hello.
	Name string
	// Addr is the address the peer says it listens on, as it sees it
	// (for example "[::]:55204"); informative, never dialled by this
	// package.
	Addr string
}

// KeyString returns p.Key as text: base32, lower case, no padding, the
// same text as the chat's log ID (applog.ID).
func (p Peer) KeyString() string { return keyString(p.Key) }

// ConnInfo is how a connection came about, as Swarm.Authorize sees it.
type ConnInfo struct {
	// Remote is the remote end of the TCP connection.
	Remote net.Addr
	// Dialed is true if this side dialled the connection.
	Dialed bool
	// Target is the Swarm.Peers entry (NAME or HOST:PORT) the connection
	// was dialled for; "" if it was accepted.
	Target string
}

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
	// Unreachable: the NAME peer Event.Target resolved to Event.Addr, but
	// no scuttle answers there (Event.Err says what failed: the TCP dial,
	// or a TLS handshake that proved no key), so its dial loop redials it
	// more slowly, up to a minute apart. Sent once per target and Run;
	// Peer is zero. A forged or stale mDNS record leads here.
	Unreachable
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
	case Unreachable:
		return "unreachable"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// An Event reports a change the chat may print. See Swarm.Events for the
// order in which events arrive.
type Event struct {
	Kind EventKind
	// Peer is the remote, its Key proven; zero for Listening.
	Peer Peer
	// Addr is the own listen address for Listening, the address dialled
	// for Unreachable, and the remote end of the connection otherwise.
	Addr net.Addr
	// Dialed is true if this side dialled the connection.
	Dialed bool
	// Target is the Swarm.Peers entry the connection was dialled for
	// (for Unreachable, the one that was not reached); "" if it was
	// accepted.
	Target string
	// Err is what failed for Unreachable, and the reason of a
	// Disconnected event: ErrReplaced, ErrClosed or
	// the cause of the Run context when the swarm ended the connection,
	// otherwise the Handler's error (nil if it returned nil).
	Err error
}

// String formats e as one line for a user, e.g.
// "connected to bob (key hj3s6niu) at 127.0.0.1:4000", the key shortened
// to the 8 characters of applog.ID.Short.
func (e Event) String() string {
	switch e.Kind {
	case Listening:
		return fmt.Sprintf("listening on %v", e.Addr)
	case Connected:
		return fmt.Sprintf("connected to %s (key %s) at %v", e.Peer.Name, shortKey(e.Peer.Key), e.Addr)
	case Disconnected:
		if e.Err == nil {
			return fmt.Sprintf("disconnected from %s (key %s) at %v", e.Peer.Name, shortKey(e.Peer.Key), e.Addr)
		}
		return fmt.Sprintf("disconnected from %s (key %s) at %v: %v", e.Peer.Name, shortKey(e.Peer.Key), e.Addr, e.Err)
	case Unreachable:
		return fmt.Sprintf("unreachable: no scuttle answers at %v, where peer %s resolved", e.Addr, e.Target)
	}
	return e.Kind.String()
}

// shortKey is the first 8 characters of a key's text, as applog.ID.Short.
func shortKey(k ed25519.PublicKey) string {
	s := keyString(k)
	return s[:min(8, len(s))]
}
