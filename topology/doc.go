// Package topology keeps a fully connected swarm of scuttle peers: one
// TCP connection between every pair, re-established when it drops.
//
// # Model
//
// A Swarm listens on one address (by default port HashToPort(own name),
// where the workshop's Node peers listen too) and runs one dial loop per
// configured peer. A peer is given either as NAME, dialled at NAME.local
// (resolved through the injected Resolver, normally multicast DNS, again
// before every dial) on port HashToPort(NAME), or as HOST:PORT, dialled
// directly for networks where multicast does not pass. Peers that dial in
// without being configured are served the same way but never redialled.
//
// Every connection starts with a handshake (below). Once it succeeds the
// connection is registered under the remote's ID, a Connected event is
// emitted and the connection is handed to the Handler; when the Handler
// returns or the swarm stops, the connection is closed and a Disconnected
// event carries the reason. A dial loop whose connection ended dials
// again; failed dials back off exponentially with jitter from ~100 ms to
// a cap of ~5 s, and a dial loop whose peer is already connected (it
// dialled in first) waits for that connection to end instead of dialling.
//
// # One connection per pair
//
// At most one connection per remote ID is registered at a time. Of the
// two sides of a pair, the one with the lower ID (byte-wise string order)
// decides for both: after the Hellos it sends a verdict on every
// connection of the pair, and the other side obeys it, so both always
// agree which connection is kept, without a race between their rules.
// When a connection completes its handshake while another to the same
// peer is up, the decider
//
//   - refuses the new one if the established one was dialled by the other
//     side (two peers dialled each other at once, or a dial loop found
//     its peer connected already: the first connection stays, and is the
//     only one ever handed to a Handler);
//   - otherwise lets the new one replace the established one: both were
//     dialled by the same side, which evidently lost the old one (it
//     restarted, or its end noticed the drop first).
//
// A replaced connection ends with the Disconnected reason ErrReplaced,
// and the new one's Handler starts only after the old one's has
// returned, so the Handlers of one peer never overlap and its events
// alternate Connected, Disconnected. Verdicts carry the decider's
// sequence number (started from its clock, so a restarted decider's are
// higher); should the verdicts of two connections arrive out of order,
// the follower keeps the higher one. A connection to oneself (remote ID
// equal to own ID) is closed and its dial loop stops.
//
// This differs from the Node module fully-connected-topology, which
// keeps the lower ID's dial: that rule replaces the connection a peer
// dialled first whenever the lower ID's redial comes second, which here,
// with both sides redialling, would be the common case.
//
// A peer that exits closes its connections, so its next connection finds
// the slot free. For one that vanished without closing (a crashed
// machine, a changed address), TCP keep-alive on the default dialer and
// listener (5 s idle, 3 probes 5 s apart) frees the slot within about
// 20 s; until then its new connections are refused by the rule above.
//
// # Handshake
//
// The dialler sends its Hello, the acceptor reads it and answers with its
// own, then the decider (the lower ID) sends its verdict. Each side reads
// with a deadline (Swarm.HandshakeTimeout, 5 s by default) and closes the
// connection on any error, logging the reason. All integers big-endian:
//
//	Hello
//	offset  size  field
//	0       1     length of the protocol name: 16
//	1       16    protocol name "scuttle-topology" (ASCII)
//	17      2     protocol version: 1
//	19      2     body length N, at most 1024
//	21      N     body:
//	                1 byte length + bytes   ID    (1-255 bytes, opaque)
//	                1 byte length + bytes   Name  (0-255 bytes, UTF-8)
//	                1 byte length + bytes   Addr  (0-255 bytes, listen address)
//	                any further bytes: ignored in version 1
//
//	Verdict
//	offset  size  field
//	0       1     code: 1 accepted, 2 refused (already connected); append-only
//	1       8     sequence number of an accepted connection (0 if refused)
//
// The name and version come first and are checked before the body is
// read, so a later version may change everything after them; a peer of
// another version is refused with a log line naming both versions (an
// acceptor still answers with its own Hello first, so that the dialler
// can log them too). Fields appended to the body within version 1 are
// skipped by older readers. A body longer than 1024 bytes is refused
// before anything is allocated for it. After the verdict the connection
// belongs to the Handler; this package sends nothing more on it.
package topology
