// Package topology keeps a fully connected swarm of scuttle peers: one
// TLS connection between every pair, authenticated by the peers' ed25519
// keys, limited to the members of one network, and re-established when
// it drops.
//
// # Model
//
// A Swarm listens on one address (by default port HashToPort(own name),
// where the workshop's Node peers listen too) and runs one dial loop per
// configured peer. A peer is given either as NAME, dialled at NAME.local
// (resolved through the injected Resolver, normally multicast DNS, again
// before every dial) on port HashToPort(NAME), or on the port a
// PortResolver gives (the chat: NAME's DNS-SD SRV record; HashToPort if
// none comes within 250 ms of the addresses), or as HOST:PORT, dialled
// directly for networks where multicast does not pass. AddPeer adds a
// peer to a running Swarm and RemovePeer drops it (the chat's
// --discover). Peers that dial in without being configured are served
// the same way but never redialled.
//
// A peer is its key. Every Swarm has an ed25519 private key
// (Swarm.Key; the chat passes its log's key, so a peer's key is its log
// ID) and a network key (Swarm.NetworkKey, 32 bytes, or none for the
// public default network). Every connection starts with a handshake
// (below) that proves each side's key and its membership of the network
// before anything else is said. Then a peer is refused if Swarm.MaxConns
// peers are connected already and the user did not name it in
// Swarm.Peers, and Swarm.Authorize, if set, may refuse it (the chat
// refuses a key that is not the one bound to the name). Once the handshake succeeds the connection is registered under
// the remote's key, a Connected event is emitted and the connection is
// handed to the Handler; when the Handler returns or the swarm stops, the
// connection is closed and a Disconnected event carries the reason. A
// dial loop whose connection ended dials again; failed or refused dials
// back off exponentially with jitter from ~100 ms to a cap of ~5 s, and a
// dial loop whose peer is already connected (it dialled in first) waits
// for that connection to end instead of dialling. A NAME that resolves
// to an address where no scuttle answers (the TCP dial fails, or TLS
// fails before any key is proven: a forged or stale multicast DNS
// record) backs off further, doubling from the cap to twelve times it
// (~1 min), and is reported once by an Unreachable event
// (TestNoScuttleBackoff). Swarm.Redial ends the backoff of an entry of
// Peers at once, for a peer that has just shown up (TestRedial); the
// chat calls it, at most once per 2 s per entry, when a peer connects
// as a NAME of Peers.
//
// # One connection per pair
//
// At most one connection per remote key is registered at a time. Of the
// two sides of a pair, the one with the lower key (byte-wise order of
// the public keys) is the decider: after the Hellos the other side, the
// follower, sends it a report, and the decider answers with a verdict on
// that connection, which the follower obeys, so both always agree which
// connection is kept. Each connection has an ID that both ends know (a
// TLS exporter value). The follower's report lists the IDs of its other
// connections to the decider: the one it has registered (first), and
// those whose report it has sent but whose verdict it has not yet read. When a
// connection completes its handshake while another to the same peer is
// registered, the decider
//
//   - refuses the new one if the follower's report lists the established
//     one (the peer still holds it: it is alive at both ends), or if the
//     follower's report on the established one listed the new one (the
//     two were made at once); the established one stays and is the only
//     one ever handed to a Handler;
//   - otherwise lets the new one replace the established one: the peer no
//     longer holds that one, so it evidently lost it (it restarted, or its
//     end noticed the drop first), however long the decider's end would
//     take to notice.
//
// This is sound only because the key is proven: only the holder of a
// key can make a connection that replaces one of that key, and what it
// reports is only about its own connections. In version 1, where the ID
// was a claim, a new connection could not be let to replace a connection
// dialled by the other side, which made a peer that returned wait until
// keep-alive freed its slot (~20 s), and let anyone claiming an ID cut
// that ID off.
//
// A replaced connection ends with the Disconnected reason ErrReplaced,
// and the new one's Handler starts only after the old one's has
// returned, so the Handlers of one peer never overlap and its events
// alternate Connected, Disconnected. Verdicts carry the decider's
// sequence number (started from its clock, so a restarted decider's are
// higher); should the verdicts of two connections arrive out of order,
// the follower keeps the higher one. A connection to oneself (remote key
// equal to own key) is closed right after TLS and its dial loop stops.
//
// Two dial loops never replace each other's connection back and forth
// (ping-pong): a dial loop dials only while the peer it found there last
// is not connected, and a connection made while another is alive at both
// ends is refused by the rule above, so a redial that finds its peer
// connected leaves that connection alone (TestNoPingPong,
// TestSimultaneousDial, TestLateJoiner). Two running swarms with the same
// key (a copied key) are one peer to everyone else: each one's new
// connection replaces the other's, at the pace of the redial backoff.
// The key is a log's identity; do not run it twice.
//
// A peer that exits closes its connections, so its next connection finds
// the slot free. One that vanished without closing (a crashed machine, a
// changed address) replaces its old connection as soon as it connects
// again (TestReturningPeer); TCP keep-alive on the default dialer and
// listener (5 s idle, 3 probes 5 s apart) ends a dead connection within
// about 20 s when the peer does not come back. Once registered, a
// connection's idle time grows with the connections the swarm holds, 2 s
// each rounded up to a power of two seconds (16 s for 8, 128 s for 63):
// a swarm sends about one probe every 2 s at most, where a chat
// connected to all of a room of 64 sent about 25 a second, more bytes
// than its lines; a vanished peer is then noticed within that idle time
// plus 15 s (TestKeepAliveIdle, TestKeepAlivePaced, TestKeepAliveMesh).
//
// # Handshake
//
// All integers are big-endian. Each side sets a deadline of
// Swarm.HandshakeTimeout (5 s by default) from TCP connect or accept to
// the verdict, and closes the connection on any error, logging the
// reason. At most 64 accepted connections are in their handshake at a
// time, and at most 8 from one remote address: more from that address
// are closed at once; when all 64 are taken, a connection from an address
// that holds fewer than the busiest one closes that address's oldest
// handshake and takes its slot. Past the TLS handshake a refused
// connection is closed at the TCP level, with no TLS alert or
// close_notify (a failed TLS handshake gets crypto/tls's alert).
//
// 1. TLS. The dialler is the TLS client. TLS 1.3 only, Go's default
// cipher suites, application protocol (ALPN) "scuttle-topology/2"
// required on both sides, no session resumption (the acceptor sends no
// session ticket: nothing after its handshake flight). Both sides
// present a self-signed X.509 certificate of their ed25519 key
// (PureEd25519, key usage digital signature, extended key usages server
// and client authentication, valid 2000-01-01 to 9999-12-31, the same
// certificate for the same key); the acceptor requires one. Each side
// accepts exactly one certificate, holding an Ed25519 key and signed by
// that same key; TLS's CertificateVerify proves the peer holds the
// private key. No CA, no name, no dates are checked: the key is the
// identity, and the certificate is only its carrier. The peer's key is
// taken from that certificate and from nothing the peer says.
//
// 2. Network proofs. With E = the TLS exporter value of the connection
// (RFC 8446 §7.5; label "EXPERIMENTAL scuttle-topology network proof",
// no context, 32 bytes) and K = the network key, or for the public
// network the 32 ASCII bytes "scuttle-topology public network.":
//
//	Proof
//	offset  size  field
//	0       32    HMAC-SHA256(K, E ‖ role), role 0x01 for the dialler's
//	              proof, 0x02 for the acceptor's
//
// The dialler sends its proof; the acceptor reads it and compares it
// with the one it computes (hmac.Equal), and only if they match sends
// its own, which the dialler checks the same way. A mismatch closes the
// connection ("not in this network"). Keyed and unkeyed swarms, and
// swarms of two keys, therefore never get past this step.
//
// 3. Hellos, inside TLS. The dialler sends its Hello, the acceptor reads
// it and answers with its own:
//
//	Hello
//	offset  size  field
//	0       1     length of the protocol name: 16
//	1       16    protocol name "scuttle-topology" (ASCII)
//	17      2     protocol version: 2
//	19      2     body length N, at most 1024
//	21      N     body:
//	                1 byte length + bytes   Name  (0-255 bytes, UTF-8)
//	                1 byte length + bytes   Addr  (0-255 bytes, listen address)
//	                any further bytes: ignored in version 2
//
// Name and Addr are claims (Peer.Name, Peer.Addr). The name and version
// come first and are checked before the body is read, so a later version
// may change everything after them; a peer of another version is refused
// with a log line naming both versions (an acceptor still answers with
// its own Hello first, so that the dialler can log them too). Fields
// appended to the body within version 2 are skipped by older readers. A
// body longer than 1024 bytes is refused before anything is allocated
// for it.
//
// 4. Authorize, report, verdict. Each side calls Swarm.Authorize. Then
// the follower (the higher key) sends its report and the decider answers
// with its verdict:
//
//	Report (follower to decider)
//	offset  size  field
//	0       1     code: 4 ready, 3 refused (its Authorize or MaxConns)
//	1       1     number of IDs M, at most 16 (0 if refused)
//	2       8×M   IDs of the follower's other connections to the decider
//
//	Verdict (decider to follower)
//	offset  size  field
//	0       1     code: 1 accepted, 2 refused (another connection is
//	              kept), 3 refused (its Authorize or MaxConns)
//	1       8     sequence number of an accepted connection (0 otherwise)
//
// A connection ID is the TLS exporter value of label "EXPERIMENTAL
// scuttle-topology connection id", no context, 8 bytes. The codes of
// report and verdict are one append-only space. After the verdict the
// connection belongs to the Handler; this package sends nothing more on
// it.
//
// # Version 1 peers
//
// Version 1 spoke the Hello above (with an ID field) in plaintext. A
// version 2 acceptor reads the first byte: 0x16 starts a TLS record; 16
// starts a version 1 Hello, which it reads (bounded) and answers with a
// bare version 2 Hello header (the 21 bytes "\x10scuttle-topology\x00\x02
// \x00\x00"), so the old peer logs "peer speaks scuttle-topology version
// 2, this is version 1", then closes and logs "peer speaks
// scuttle-topology version 1 in plaintext, this is version 2 over TLS (an
// older scuttle)"; anything else is closed as not this protocol. A
// version 1 acceptor reads the dialler's first byte 0x16 as a protocol
// name length and closes; the version 2 dialler logs "TLS handshake
// failed: peer closed the connection (an older scuttle, version 1?)".
// Both within the handshake timeout (TestHandshakeRejected,
// TestOldVersionDialled).
//
// # Threat model
//
// The network is a LAN that anyone may be on: a stranger can send,
// read, drop and alter packets, and answer multicast DNS for any name.
// A member of a network is whoever holds its network key; a peer is
// whoever holds an ed25519 key. This package assumes crypto/tls, ed25519
// and HMAC-SHA256 hold, that private and network keys stay secret, and
// that a peer's key is its identity; which key is the right one for a
// name is for Authorize (the chat's name bindings) to say.
//
// A stranger on the LAN (no network key, no peer's private key)
//
//   - cannot read or alter what peers send each other: every byte after
//     TCP connect is inside TLS 1.3 (TestRelay: the bytes on the wire
//     hold neither the data nor the names of the Hellos, and an altered
//     byte ends the connection instead of reaching the Handler);
//   - cannot pass as a peer: it would need that peer's private key, and a
//     peer's certificate without it fails TLS, as does any certificate
//     that is not one self-signed Ed25519 certificate
//     (TestBadCertificates);
//   - cannot join a private network, nor the public one as a member of a
//     private one: its proof does not match, and the acceptor closes the
//     connection before any Hello, without an event on either side
//     (TestNetworkProof, TestNetworkProofDialled, TestNetworks);
//   - cannot replay a proof from another connection, nor reflect one
//     side's proof to it, nor relay proofs between two TLS sessions as a
//     man in the middle: a proof covers its connection's exporter value
//     and the sender's role (TestNetworkProof "replayed from another
//     connection" and "acceptor's role (reflected)",
//     TestNetworkProofDialled, TestManInTheMiddle "relaying proofs");
//   - learns nothing of the network from an acceptor: not a byte after
//     the TLS handshake unless its proof is right (TestNetworkProof). It
//     does learn what TLS shows to whoever connects: the acceptor's
//     certificate, hence its public key (its log ID), and that it is not
//     in the stranger's network. A dialler that a stranger lured (with a
//     forged multicast DNS answer) shows it its certificate and its
//     proof: a MAC over a value unique to that one connection, worthless
//     on any other, and no help in guessing a random 32-byte network key
//     (a key a person chose could be guessed from it offline: network
//     keys must come from a random source, as "scuttle network" makes
//     them);
//   - cannot cut a peer off by speaking for it: a connection replaces
//     another only if it proves the same key (TestKickOff); it can still
//     drop packets or flood the listener, as anyone on the path can;
//   - cannot lock peers out with idle sockets, without TLS or a key, in
//     the public network or a private one: one address holds at most 8
//     of the 64 handshake slots, each for at most the handshake timeout,
//     and when all are taken a newcomer from a lighter address closes
//     the oldest handshake of the busiest one (TestIdleSockets: a peer
//     from another address connects at once past 65 idle sockets from
//     one host, or one from each of 72 addresses; TestPendingLimit,
//     TestHandshakeRejected). What it can still cost: 64 sockets and
//     their goroutines, each for up to the handshake timeout; and with
//     more addresses than slots, sending faster than a handshake ends,
//     it can evict honest handshakes too. A peer the user named is also
//     dialled by this side, which takes no slot.
//
// A member of the public network is anyone with a key, so the limits on
// members below are what bounds a stranger's peers too:
//
//   - at most Swarm.MaxConns (128) peers are connected at once; more
//     are refused before Authorize, and told so. A peer of Swarm.Peers
//     is admitted past the bound, so made-up peers cannot keep out those
//     the user named (TestConnectionCap). What they can still cost: the
//     128 connections and what each Handler holds; the chat's
//     replication session holds a bounded amount per connection, not one
//     that grows with the logs a peer names (replicate's
//     TestMadeUpHeadsMemory), and it is freed when the peer leaves;
//     peers nobody named compete for the 128 among themselves, so a
//     flood of them can keep out an honest peer that nobody named.
//
// A member of the network (holds the network key, has its own peer key)
//
//   - connects as itself, with its own key: it can claim any name in its
//     Hello, and is then refused by Authorize if that name, or a name
//     it is a look-alike of, is bound to another key (TestImpostorRefused;
//     topology/chat TestAuthorize, TestAuthorizeLookAlikes); as a man in the
//     middle it passes only as itself, and each side's Authorize sees its
//     key, never the other side's (TestManInTheMiddle "a member");
//   - cannot end another peer's connection, nor make a dial loop stop or
//     wait: the registry, the decider and the check for oneself use
//     proven keys, and a claimed name stops no dial loop (TestKickOff;
//     TestDialSelf for the check for oneself);
//   - knows the network key, so it can tell who else is a member, and
//     whatever Authorize lets it replicate.
//
// A relay (forwards bytes between two peers, e.g. a NAT or a proxy) can
// delay or drop the connection, never read or alter it: the two peers
// run TLS and the proofs end to end, and connect through it as they
// would directly (TestRelay).
package topology
