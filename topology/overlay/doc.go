// Package overlay is the pure core of a bounded-degree membership for a
// room of chats (HyParView-like): instead of connecting to every chat it
// discovers, a peer keeps a small active set of connections, about
// log2(N) plus one for a room of N and at most 10, and a passive set of
// known peers to repair it from. Replication (applog/replicate/ebt) runs
// over the active set; the links are random, so the overlay stays
// connected when many peers leave at once, plus a few chosen for a low
// round-trip time.
//
// A Machine holds one peer's state. It does no I/O, reads no clock and
// draws its random choices from its own seeded generator: each event
// (Discovered, Name, Down, Receive, Tick) carries the time where it
// matters and appends what to send to the caller's slice. The caller
// keeps a connection open to each peer of Active, dials what a message
// is addressed to, calls Down when a connection fails, and calls Tick
// about every 250ms.
//
// # Model
//
// The active set is symmetric: a peer added on one side is added on the
// other by the reply, and one removed is told so (Disconnect).
//
//   - Size. Target is ceil(log2(N)) + Extra, at most MaxActive, where N
//     is the room's size as the caller knows it (SetRoomSize: the chats
//     DNS-SD finds) or the peers known, if more (TestTarget). Requests
//     are accepted while the set is below Target + 1 (at most MaxActive);
//     above that, only a join or a request of high priority gets a place,
//     by evicting a random member not chosen as near, and at most one per
//     EvictInterval. So no set exceeds MaxActive (TestSimQuarterLeaves:
//     200 peers, at most 10, about 9.6 connections each; 16 peers, at most 6).
//   - Named peers (Name) are active whatever the bound, are never
//     evicted, stay through a Disconnect or a Down (the caller redials
//     them), and do not count against the bound (TestNamedApart).
//   - Join. A peer with no active peer sends Join to a passive one (from
//     DNS-SD); the contact accepts it and sends ForwardJoin to each of its
//     other active peers, a random walk of ActiveWalk steps; the walk's
//     end adds the joiner (Neighbor, high priority), and its step
//     PassiveWalk adds it to its passive set.
//   - Repair. At each Tick, a set below Target asks one passive peer at a
//     time (Neighbor): the nearest known while fewer than Near links were
//     chosen as near, else one at random; high priority if the set holds
//     less than half its target. No answer within ReplyTimeout drops that
//     peer from the passive set, and the next is asked (TestRepair). A
//     peer that refused is not asked again for 8 ReplyTimeouts: a full
//     set stays full, and each request costs the caller a connection.
//     So a room started at once settles: in rooms of 16 to 64 peers
//     started within a second, no peer leaves an active set after 10s,
//     and the overlay sends under 0.2 messages per peer per second, 0.01
//     on average over 40 seeds; before the rule, a peer below its target
//     asked the same full peer four times a second, 0.9 messages per
//     peer per second at 16 peers, as long as the room lasted
//     (TestSimSettles).
//   - Shuffle. Every ShuffleInterval a peer sends itself, ShuffleActive
//     active and ShufflePassive passive peers on a random walk; its end
//     answers with as many of its passive peers, and both add what they
//     got to their passive sets (replacing random members when full).
//   - Connected. With these rules a room stays one component: when a
//     quarter of 200 peers leave at once, the links left hold the rest
//     together before any repair, and the sets refill within 10s
//     (TestSimQuarterLeaves; 30 seeds checked while writing it).
//
// # Parameters
//
//	field            default  bounds
//	MaxActive        10       2 … 10
//	Extra            1        0 … 4
//	Near             2        0 … MaxActive/2
//	MaxPassive       30       1 … 256
//	ActiveWalk       6        1 … 10
//	PassiveWalk      3        1 … ActiveWalk
//	ShuffleInterval  10s      100ms … 10m
//	ShuffleActive    3        0 … MaxActive
//	ShufflePassive   4        0 … MaxPassive
//	ReplyTimeout     2s       10ms … 1m
//	EvictInterval    1s       0 … 1m
//
// A zero field takes its default (a negative one means 0 where 0 is in
// bounds); New refuses parameters out of bounds (TestParamsValidate).
// Memory is bounded by them: MaxActive plus the named peers, MaxPassive,
// and one request on its way.
//
// # Wire format
//
// A message is one membership frame of the replication protocol
// (applog/replicate's frame 10, at Version 5), on the connection to an
// active peer or, for a peer not active (a Neighbor to a passive peer,
// a ShuffleReply to a shuffle's origin, a Join), on a connection made
// for it: the handshake as usual, the frame, closed unless the answer
// makes the peer active. AppendMsg and DecodeMsg encode one:
//
//	msg     = kind (1 byte, the Kind's number), then by kind:
//	1 join           empty
//	2 forward join   peer, ttl (1 byte, <= MaxTTL)
//	3 neighbor       flags (1 byte: 0, or 1 high priority)
//	4 neighbor reply flags (1 byte: 0, or 1 accepted)
//	5 disconnect     empty
//	6 shuffle        peer (the origin), ttl (1 byte, <= MaxTTL),
//	                 count (uvarint, <= MaxWirePeers), { peer } …
//	7 shuffle reply  count (uvarint, <= MaxWirePeers), { peer } …
//	peer    = id (uvarint length 1 … MaxIDLen (64), then the id's text:
//	          the chat's log id), address (uvarint length 0 … MaxAddrLen
//	          (64), then host:port text; empty: none known)
//
// Uvarints are minimal; a count, ttl, flag or length past its bound, an
// unknown kind, a truncated message and bytes after its end are
// malformed (TestWireMalformed, FuzzDecodeMsg), and the caller closes
// the connection. Validate keeps a shuffle within MaxWirePeers
// (ShuffleActive+ShufflePassive+1 <= 16), so a message is at most
// MaxMsgSize (2,213) bytes.
//
// An address learned from a shuffle is dialled only as one of the
// passive peers, one at a time, and the connection kept only if its
// handshake proves the id (topology's proof); DNS-SD's addresses come
// first.
//
// # Threat model
//
// A stranger (any peer that can connect), speaking this protocol as it
// likes:
//
//   - Floods joins or high-priority requests: it takes at most one place
//     in a full active set per EvictInterval, whoever it is
//     (TestEvictionRate); named peers are never evicted (TestNamedApart).
//     Each join admitted starts at most MaxActive walks of ActiveWalk
//     steps (60 messages in the room); a join from a peer already active
//     starts none (TestJoinOnce). What it can still cost: with made-up
//     ids, one place per EvictInterval at each peer it reaches, and the
//     walks of each.
//   - Forwards joins or shuffles without being active: ignored
//     (TestStrangerWalks).
//   - Sends shuffles of made-up peers: at most
//     ShuffleActive+ShufflePassive+1 taken per message (TestStrangerWalks),
//     into a passive set of at most MaxPassive; a made-up peer costs one
//     request and ReplyTimeout before it is dropped, one at a time, while
//     the active set holds what it has. DNS-SD keeps adding real peers.
//     What it can still do: keep a peer's passive set mostly made up by
//     shuffling often, which slows repair (not the active links, nor the
//     named peers).
//   - As an active peer, never forwards: ebt's notes and grafts go around
//     it (ebt's TestSimStalled); the overlay does not detect it.
package overlay
