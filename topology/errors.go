package topology

import "errors"

// ErrReplaced is the reason of a Disconnected event whose connection was
// closed because another connection to the same peer key won (see "One
// connection per pair" in the package documentation). A Connected event
// for the winner follows.
var ErrReplaced = errors.New("topology: replaced by another connection to the same peer")

// ErrClosed is returned by Run after Close, and is the reason of the
// Disconnected events of connections that Close ended.
var ErrClosed = errors.New("topology: swarm closed")

// Handshake failures; they are logged, never surfaced as events.
var (
	errProtocol    = errors.New("topology: not the scuttle topology protocol")
	errVersion     = errors.New("topology: protocol version mismatch")
	errMalformed   = errors.New("topology: malformed handshake")
	errCertificate = errors.New("topology: bad peer certificate")
	errNetwork     = errors.New("topology: not in this network")
	errSelf        = errors.New("topology: connection to self")
	// errDuplicate: another connection to the same peer is up and wins.
	errDuplicate = errors.New("topology: already connected to this peer")
	// errUnauthorized: Swarm.Authorize refused the peer; wraps its error.
	errUnauthorized = errors.New("topology: refused by Authorize")
	// errFull: Swarm.MaxConns peers are connected, and this one was not
	// named in Swarm.Peers.
	errFull = errors.New("topology: too many peers connected")
	// errRefusedByPeer: the peer's Authorize, or its MaxConns, refused
	// this side.
	errRefusedByPeer = errors.New("topology: the peer refused this connection")
)
