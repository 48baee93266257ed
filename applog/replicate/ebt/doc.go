// Package ebt is the pure core of epidemic broadcast trees for scuttle's
// logs (Secure Scuttlebutt's EBT, Plumtree's eager and lazy push): for
// each log, a peer receives new entries eagerly from one neighbour, its
// source, while the others send only notes, (log, seq), and stand by. If
// the source stalls or leaves, the notes name who holds more, and that
// neighbour is asked to push instead. Each entry then crosses each peer's
// links about once, whatever the room's size.
//
// A Machine holds one peer's state. It does no I/O and reads no clock:
// every event (Connect, Disconnect, Append, Received, ReceivedNotes,
// Tick) carries the time, and appends what to send to the caller's slice.
// The caller stores entries, reads them back to push, and carries the
// messages; it calls Tick every Params.NoteInterval. A run is a function
// of its events: the simulator in this package's tests replays rooms of
// hundreds of peers from one seed.
//
// # Model
//
// Per log, a peer knows its own head, and per neighbour: the highest seq
// the neighbour holds as far as it knows (raised by the neighbour's
// notes, by what it pushed, and by what was pushed to it; never lowered
// within a connection but past Params.MaxExact: Memory), the highest
// seq it noted to the neighbour, and
// flags: what the neighbour asked of this peer for the log (push it,
// note it, or be quiet), and what this peer asked of the neighbour (pull:
// it is a source; watch: it notes the log here; hushed: it is quiet about
// it). The rules:
//
//   - Heads. On Connect, the peer notes every log it holds, asking for
//     it eagerly if no neighbour is a source of it yet (but the log it
//     authors, Own: its tree is rooted there), lazily if it has fewer
//     than Watchers watchers, else to be quiet: a second connection
//     does not double what the first brings (TestConnectHeads). The
//     heads are owed to the neighbour, not returned: Connect returns an
//     Owed message, and TakeOwed pages the notes, as many at a time as
//     the caller has room for, each as it stands when taken (TestTakeOwed).
//   - Watchers. Besides its sources, a peer has each log noted to it by
//     Watchers neighbours (1); it hushes the others, and a neighbour that
//     notes a log unasked becomes a watcher or is hushed, once. A watcher
//     that leaves, or is grafted, is replaced at once by the nearest
//     hushed neighbour (TestWatchers). So the notes a peer receives per
//     entry are bounded by Watchers, whatever its connections: a full
//     mesh of named peers is cheap too (TestSimNamedMesh). The watchers
//     are the same few neighbours for every log: the nearest, then the
//     first by name (shorter, then lower); one preferred to a watcher
//     that connects or notes the log takes the watcher's place, and the
//     watcher is hushed (TestWatchersPreferred). So the notes to a peer
//     come from about Watchers neighbours, several logs in a batch,
//     rather than from a different few for each log. One watcher, not
//     three: at the pace people type, lines seconds apart, a batch rarely
//     holds more than one line's notes, and each batch is a packet and its
//     acknowledgement, about 170 bytes on the wire against about 390 for a
//     copy and its. With three watchers, the notes cost about one batch
//     per delivery: nearly half as much again as the copies. In rooms of
//     20 lines typed 500ms apart (room figures in the root package, whose
//     doc says why that pace; three runs back to back, NoteDelay 1s,
//     Watchers 3, 2 and 1), bytes per delivery against the 2-host room:
//     named 32 hosts 1.80x, 1.36x and 1.22x, named 64 1.55x, 1.40x and
//     1.19x, --discover 32 1.50x, 1.40x and 1.21x, --discover 64 1.39x,
//     1.24x and 1.13x. What a watcher buys is a bound on what a source
//     that stalls, or vanishes without closing its connection, delays; a
//     source or watcher that leaves is replaced at once, and an entry is
//     missed until the log's next entry or a reconnection only if its
//     source and its watcher fail together (the threat model below).
//     A neighbour that authors a log (Author: a chat's peers are their
//     logs' keys) is preferred to every other as the log's watcher, where
//     it is not its source, and a nearer neighbour does not take its
//     place. It holds each of the log's entries first, so its note reaches
//     a peer whose sources of the log are cut off from it (the source
//     vanished, and the one grafted instead was a guess in a cycle of the
//     rest) within NoteDelay, and the peer grafts it; the nearest watchers
//     may all be downstream (TestAuthorWatches). In a 16-host --discover
//     room where a quarter of the chats were killed after 10 of 20 lines,
//     2 of 4 runs had a line wait 44 s and 58 s for the overlay to open a
//     connection, with one watcher and before this rule; with it, the
//     slowest line of 4 runs took 12ms to 2.1s (room figures in the root
//     package, SCUTTLE_ROOM_SIZES=16 SCUTTLE_ROOM_MODES=discover
//     SCUTTLE_ROOM_KILL=only).
//   - AuthorSource. Over a link that lasts (replicate's
//     Options.PeerLogSource: a chat's named peers), the author is the
//     log's source instead: it is grafted when it connects, or with the
//     log's first entry for a log not held yet, the log's other sources
//     are pruned, a duplicate from it prunes the other source, not it,
//     and a lost source regrafts it first (TestAuthorSource). It holds
//     each entry first, so its neighbours get them in one hop, and the
//     notes of them come from the watchers, the nearest neighbours, the
//     same for every log and several in a batch, where Author spreads a
//     peer's notes over all its neighbours, one per log, which defeats
//     the batching: a named 32-host room cost 505 to 518 bytes per
//     delivery with Author, 474 and 453 with AuthorSource against 514 and
//     550 in runs paired back to back (the 2-host room 390; room figures
//     in the root package, SCUTTLE_ROOM_SIZES=2,32
//     SCUTTLE_ROOM_MODES=named SCUTTLE_ROOM_KILL=0). Over an overlay's
//     links, which close as the overlay moves, each closed link to an
//     author would leave its log without a source, and the graft instead
//     may be a guess in a cycle no watcher reaches: with AuthorSource on
//     every link, a line waited about 50 s in 2 of 5 runs of the 16-host
//     --discover room killing a quarter, and in the 32-host one of a full
//     run of the room figures.
//   - Push. A new entry (appended, or received from a source) is pushed
//     at once to each neighbour that asked for the log eagerly and does
//     not hold it (TestNotesBatched, TestGraftAfterSwitchTime); a graft
//     is answered with the entries the neighbour lacks (TestConnectHeads).
//   - Prune. An entry received a second time from a source asks that
//     source to go lazy for the log, unless it is the last source
//     (TestDuplicatePrunes), or the last upstream one (below): then the
//     sources that are cycles are pruned instead (TestSourceCycles). A
//     push that brought new entries is not a duplicate, even if another
//     source's copy of its first entry came while it was on its way
//     (replicate's TestTreeReceivedRun). A new entry from a source that
//     did not ask this peer to push the log prunes at once each other
//     source that did not either and is not known to hold the entry (one
//     that noted it may be ahead, its push on its way: replicate's
//     TestTreeReceivedRun) (TestNewEntryPrunes): the fastest stays, as a
//     duplicate would decide, but the other's copy is on its way or about to be, and the
//     prune often reaches it first (a note and its acknowledgement, about
//     160 bytes on the wire, against about 390 for a copy and its), and
//     the notes waiting for it go along. A source that asked this peer to
//     push the log gets the entry from it, sends no copy back, and is
//     left. A source that would have sent nothing (stalled) costs a note,
//     once. Spare sources are left from a room's forming (a guessed
//     source kept, then one grafted after a note), and cost each log's
//     next entry a copy per spare: in a 64-host --discover room of 20
//     lines, run back to back with the rule and without (two pairs),
//     the records frames were 1.03 and 1.03 per delivery against 1.10
//     and 1.15, the notes frames 0.29 and 0.24 against 0.43 and 0.54,
//     and the bytes per delivery 444 and 437 against 495 and 531 (1.28x
//     and 1.25x the 2-host room, 347 and 350; 1.43x and 1.53x); at 32
//     hosts 479 and 456 against 483 and 470 (room figures in the root
//     package, command under Cycles; SCUTTLE_ROOM_PCAP for the frames).
//     So the sources of a log form a tree rooted at its author; a room's
//     first lines form it, and later lines cost about one copy per peer (TestSimRoom: 200 peers over the overlay,
//     at most 1.3 copies per delivery, 1.00 measured).
//   - Notes. At each Tick, each log whose head rose since the last is
//     noted, one batch per neighbour, to each neighbour that is neither
//     pushed the log, nor quiet about it, nor known to hold the head
//     already, nor was noted that seq before (TestNotesBatched,
//     TestWatchers). Notes are therefore never sent for a log the
//     neighbour is at, as far as this peer knows. A note to a neighbour
//     known to hold part of the log (it said so, or was pushed it) waits
//     up to NoteDelay (2s) for the others to that neighbour, one to a
//     neighbour not known to hold any a quarter of that at most (it may
//     lack a source that pushes it, and the note is how it gets the
//     entry); the notes waiting for a neighbour go together at the first
//     due, and at once with any other message to it (a push, a graft); a
//     head it says it holds meanwhile is not noted (TestNoteDelay). At
//     chat rates a note was otherwise a packet of its own, and its
//     acknowledgement another, for each neighbour and line. (Delaying the
//     notes to a neighbour not known to hold the log by NoteDelay too made
//     the slowest entry of TestSimRoom 1.45s; 0.72s with a quarter of it,
//     0.63s without delays, with NoteDelay 1s and 3 watchers.) NoteDelay
//     is 2s, not 1s: at a line every half second, the notes of one line
//     rarely waited for another's, and with one watcher the room figures'
//     bytes per delivery were 1.29x the 2-host room for named 8 hosts,
//     1.26x for 16, 1.27x and 1.19x for --discover 8 and 16; with 2s,
//     1.14x, 1.18x, 1.15x and 1.13x (two runs back to back). The price is
//     in what a source that stalls delays: up to 2.5s, a note and
//     SwitchTime, against 1.5s.
//   - Graft. A log behind what a neighbour noted is grafted from the
//     neighbour known to hold most of it (then the nearest by SetRTT):
//     at the next tick if no neighbour is a source of it, else once it
//     has made no progress for SwitchTime (TestGraftAfterSwitchTime).
//     A note delayed (NoteDelay) adds its delay to that. When the last
//     source of a log disconnects, the next is grafted at once
//     (TestDisconnectGrafts), and not from a neighbour that asked this
//     peer to push the log, which gets it from this peer: that would
//     make a cycle of two sources that pushes nothing until a note and
//     SwitchTime later (TestDisconnectGraftsUpstream). An eager
//     neighbour that stalls thus delays a log by at most SwitchTime plus
//     a tick and a round trip per hop (TestSimStalled: a tenth of 200
//     peers never push; every entry reaches every peer, the slowest
//     within 3.3s, three times SwitchTime plus two ticks and 400ms;
//     295ms measured, 0.8s to 1.8s with three watchers and NoteDelay
//     1s, notes waiting NoteDelay included).
//   - Cycles. The sources of a log should form a tree rooted at its
//     author; a source chosen without knowing it is upstream can close a
//     cycle that no new entry reaches, and each peer in it (and below
//     it) then got the next entry by a note (NoteDelay) and a graft
//     SwitchTime later. So a source that asked this peer to push the log
//     does not count as upstream, for a log this peer was pushed (fed:
//     not its author, nor where the log enters the tree): when the last
//     source that did not leaves, when a source turns eager (a graft)
//     and no other is upstream, and when a duplicate would prune the
//     last upstream one, the peer grafts, or keeps, one that is neither;
//     a log without an upstream source grafts a neighbour that notes
//     more at the next tick, not after SwitchTime. A source chosen among
//     neighbours that hold no more than this peer (at Connect, or on
//     such a loss) may still be downstream by several hops, a longer
//     cycle: until a new entry comes it is a guess, and a note of more
//     is grafted at the next tick too, unless a source is known to hold
//     more; so is one at a peer that such a guess grafted
//     (TestSourceCycles). A cycle heals at the first entry that reaches
//     one of its peers: the copy that comes round it is a duplicate, and
//     prunes it. Chat's membership opens a connection for an overlay
//     message and closes it a second later, so such losses are common
//     while a --discover room forms (about 1,100 grafts for 780 closed
//     connections in a 64-host netlab room): there, the trees traced
//     from the chats' diagnostics (the room figures'
//     SCUTTLE_ROOM_VERBOSE) held cycles for half the logs, each making
//     the log's next line reach the farthest chat 1.6 s after it was
//     typed (a note, 1 s, then SwitchTime), p50 0.74 to 1.62 s in three
//     runs; with these rules p50 65 to 70ms, and the few lines below a
//     cycle of three or more 0.25 to 0.8 s (room figures in the root
//     package: SCUTTLE_FIGURES=1 SCUTTLE_ROOM_SIZES=2,32,64
//     SCUTTLE_ROOM_MODES=discover SCUTTLE_ROOM_KILL=0 go test -run
//     '^TestRoomFigures$' -v .). In the simulator, 32 and 64 peers whose
//     lines are written one at a time reach every peer at p50 14ms, the
//     slowest 624ms and 16ms (433ms and 390ms with three watchers and
//     NoteDelay 1s; 931ms and 1.1s before these rules, 830ms at p50
//     before the first of them; TestSimLingerReach).
//   - Sweep. Every SweepInterval a peer notes, to one neighbour at a
//     time in turn, each log whose head rose in the last round (a round
//     sweeps each neighbour once) that the neighbour asked it to be
//     quiet about and is not known to hold, as it asks of the neighbour
//     (eager, lazy or quiet: no request changes), but not a log whose
//     author is its neighbour over a lasting link (AuthorSource). A
//     neighbour behind then grafts it, after SwitchTime. So a log that
//     rose once reaches each such neighbour within two rounds, however
//     rarely lines come (TestSweep); a round takes the first 1024 logs
//     that rose, so that its lists stay small whatever the store holds
//     (TestSweepBounded). It repairs a tree whose sources
//     formed a cycle cut off from the log's author while the room
//     formed: no watcher of a peer in such a cycle gets the log, every
//     neighbour that does was asked to be quiet, and the next entry
//     came only when a connection opened (a heads exchange). In
//     --discover rooms the overlay's churn of requests, each a
//     connection, did that by chance; once the overlay settled (its
//     refusal hold), a line waited 48 to 58 s in 2 of 7 runs of the
//     16-host room killing a quarter, until the membership's next
//     shuffle, a minute. With the sweep, no line waited over 3 s in 12
//     such runs (nor in 15 with an earlier form of it, which swept only
//     the logs risen since the last sweep). It costs a batch per
//     SweepInterval per peer at most, only while lines come, and next to
//     none in a named mesh, where each log's author is every peer's
//     neighbour over a lasting link: the 16-host --discover room with
//     the sweep and the hold measured 464 to 500 bytes per delivery in
//     10 runs; without them, in the same session, 455 to 480 in 7 of 8
//     runs, and in the 8th a line waited 59 s (2,596 bytes).
//   - Resend. A peer that dropped a neighbour's notes of logs it does
//     not hold (past MaxUnheld) sends it a Resend once it holds most of
//     what it took; the neighbour notes again every log it holds that the
//     peer has not said it holds, at most once per 4 SwitchTimes
//     (TestResend). So a peer joining a room of more logs than MaxUnheld
//     gets them all, also those of authors gone (TestSimLateJoin).
//
// A gap (an entry past the head plus one) changes nothing: replicate's
// sessions end on one. The same machine runs on every connection, named
// or discovered: a full mesh of named peers costs one copy per delivery
// too (TestSimNamedMesh: 40 peers, 1.00), and about 1.1 notes (3.4
// with three watchers; about 22 at 40 peers and 114 at 200 before
// watchers were bounded, 4.5 before they were the same for every log;
// 1.1 over the overlay too; Figures below).
//
// # Figures
//
// From the simulator (SCUTTLE_FIGURES=1 go test -run TestSimFigures -v
// ./applog/replicate/ebt/; a tenth of the links 50 to 200ms, the rest 1
// to 5ms; the second round of lines, once the trees have formed; bytes
// estimated against the 2-host cost, with a line of 420 bytes, a note of
// 4 and 30 per batch of notes):
//
//	room                          copies/delivery  notes/delivery  bytes  max hops  reach p50, max  connections
//	200, overlay                  1.000            1.04            1.04x  8         154ms, 272ms    max 10, mean 9.83
//	1000, overlay                 1.000            1.05            1.03x  11        175ms, 335ms    max 10, mean 9.91
//	200, a quarter leave, 20 in   1.003            4.82            1.10x  27        156ms, 1.38s    max 10, mean 9.80
//	1000, a quarter leave, 100 in 1.005            5.01            1.08x  58        188ms, 2.25s    max 10, mean 9.86
//	200, 20 stalled               1.000            0.97            1.04x  8         136ms, 365ms    max 10, mean 9.82
//	50, named full mesh           1.000            1.10            1.04x  4         120ms, 197ms    49
//	200, named full mesh          (not measured again: its simulation, 200 peers in one process, takes over 10 minutes now)
//
// Before the Sweep and the overlay's refusal hold, the first five rows
// measured 1.06, 1.08, 4.35, 4.71 and 1.14 notes per delivery, their
// slowest entries took 579ms, 906ms, 1.47s, 1.65s and 1.09s, and the
// overlay kept 9.48 to 9.71 connections per peer: a settled overlay
// fills its sets and keeps its trees, and the sweep's notes cost the
// churned rooms up to a tenth more notes.
//
// With the earlier defaults, three watchers and NoteDelay 1s, the same
// rows measured 3.19, 3.18, 5.98, 6.23, 3.20 and 3.35 notes per
// delivery, and their slowest entries took 240ms, 646ms, 1.24s, 1.32s,
// 206ms and 193ms: one watcher and notes that wait longer cost the
// stalled and churned rooms their repair time, and leave a third of the
// notes where nothing fails. The simulator's bytes count a note as 4
// bytes and 30 per batch, as if batches rode on other packets; on a
// LAN at chat rates each batch is a packet and its acknowledgement,
// about 170 bytes (Watchers, above), which the room figures measure.
//
// Before the Cycles rules (as last measured, same seeds, with the
// earlier defaults), the first five rows' slowest entries took 669ms,
// 1.61s, 2.19s, 3.43s and 819ms, and the churn rows made 1.036 and 1.052
// copies per delivery (1.19x and 1.18x the 2-host bytes) and reached
// half the peers in 649ms and 704ms: each cycle of sources that churn
// left cost its log's next entry a note and a SwitchTime.
//
// Notes wait for each other (NoteDelay) and come from the same few
// watchers, so that several go in one batch: in the 50-mesh 2.9 notes a
// batch (2.4 with the earlier defaults), where each was its own batch
// before (1.34x the 2-host bytes then). The price is in the reach: the
// slowest entry of the 1000-room took 1.22s, and 1.79s with churn (1.34s
// in the 200-room), when notes went at once.
//
// # Memory
//
// Per log held: a head, two counters, a time, a few flags and an index
// (dense: an index freed by a log dropped is given again first), about
// 236 bytes with a 52-character id (TestMemory; 202 before the index).
//
// Per neighbour, one byte per log held, in a slice by the log's index:
// what the neighbour asked of this peer for the log (push, notes, or
// quiet), what this peer asked of it (pull, watch, hushed, or none),
// whether a note to it waits (NoteDelay), whether it was noted the
// head, and whether what it holds as far as this peer knows is 0, the
// head, or another seq. 0 is no entry: the idle state (this peer asked
// it to be quiet about the log, it asked the same, and it holds the
// head this peer holds, noted to it), or, for a log held since the last
// Tick, no state yet. A neighbour with no entry for any log held has no
// slice. The seq the byte cannot say (the neighbour holds part of the
// log, or more than this peer) is kept in a map of at most
// Params.MaxExact (1024) per neighbour; past it, it is lowered: to 0
// for a neighbour behind (it is noted, or pushed, the log from its
// first entry, and skips what it holds), to the head plus one for one
// ahead (it is still grafted). An eager neighbour's seq is kept before
// the others', which are lowered for it, so that each new entry is
// pushed to it alone (TestExactCap). Every entry still reaches every
// peer with each neighbour's map at one log (TestSimExactCap: 100 peers
// over the overlay, a quarter leaving, 10 joining: 1.004 copies and 5.60
// notes per delivery, against 1.003 and 5.56 with the default cap).
//
// So a neighbour costs at most a byte per log held and a constant,
// whatever it does. One that connects and never notes (Connect gives
// each log held an entry: it knows none of the neighbour's heads yet),
// one that asks every log eagerly, and one that notes it is behind on
// every log cost 1.03 to 1.10 bytes per log at 10,000 and at 60,000
// logs, the last about 37 KB more (its map, full): 47 KB and 103 KB
// (TestStrangerMemory). With a map entry per log not idle on the
// neighbour, as before, each cost 67 to 80 bytes per log: 4.8 MB at
// 60,000 logs. Noted every log lazily, 10 neighbours cost 1.05 bytes per
// log and neighbour (TestMemory; 66 before). A neighbour that holds what
// this peer holds and has no role in any log's tree keeps no entry once
// its first notes are in, and costs 160 to 840 bytes whether the peer
// holds 10,000 or 60,000 logs (TestIdleMemory; about 70 bytes per log
// before idle logs cost nothing, 4 MB a neighbour at 60,000 logs).
//
// Of the logs a peer does not hold, it tracks those the neighbours'
// notes name, at most Params.MaxUnheld per neighbour, each a few dozen
// bytes, forgotten when the neighbour disconnects (TestUnheldBound); a
// log held moves from there to the neighbour's byte. The logs to note
// at the next tick and those waiting for a graft are lists of logs
// tracked, each log at most once, and the notes waiting for a neighbour
// (NoteDelay) a list of indices, each log at most once, let go of once
// they go if it held more than 256 (a burst's list, 4 bytes a log,
// was kept before: replicate's TestConnectionMemoryNotesBurst). The notes owed to a neighbour (its heads at Connect, a Resend's
// answer, and those the caller could not queue: Owe) are a bit per log
// held on its link, a slice let go of once none is owed; TakeOwed takes
// them from where it last stopped, round the logs, so that none is
// taken twice for one owing and a log owed again waits for the others
// (TestTakeOwed). There is no queue: each event appends a bounded number of
// messages to the caller's slice (Connect and a Resend: one Owed
// message; Received: at most one push per neighbour, or one prune;
// ReceivedNotes: at most one push per note; Tick: at most one note per
// log tracked and neighbour). A caller that queues the notes for a
// neighbour bounds its queue by a constant with Owe (replicate's Tree:
// 3,200 a session).
//
// # Parameters
//
//	field         default  bounds
//	NoteInterval  100ms    1ms … 10s
//	SwitchTime    500ms    NoteInterval … 1m
//	MaxUnheld     1024     1 … 65536
//	MaxExact      1024     1 … 65536
//	Watchers      1        1 … 64
//	NoteDelay     2s       NoteInterval … 1m, or negative: none
//	SweepInterval 2s       NoteInterval … 1m, or negative: none
//
// A zero field takes its default; New refuses parameters out of bounds
// (TestParamsValidate).
//
// # Wire mapping
//
// The replication protocol (applog/replicate, Tree) carries the machine
// at Version 4 (Version 3
// took frame types 6 to 8 for files), with one new frame type, and its
// records frames (type 4) unchanged as the pushes:
//
//	type 9 notes   { ref, note } …   (none: a Resend)
//	       ref     = uvarint: 0, then an id (a log not numbered yet on
//	                 this direction of the connection: it takes the next
//	                 number, 1, 2, …), or n >= 1 (the log numbered n)
//	       note    = uvarint: seq << 2 | want
//	       want    = 0 lazy (note it to me), 1 eager (push it to me),
//	                 2 quiet (neither); 3 is malformed
//
// want is 1 for a log the sender wants pushed to it (a graft, or a
// source kept), 0 for lazy (a watcher, or a prune), 2 for quiet; eager
// is SSB EBT's receive flag (v3.js packs seq << 1 | !rx), and quiet its
// "do not replicate" note (-1). There is no other request frame: a prune,
// a graft or a hush is a note whose want changed, and a notes frame with
// no note is a Resend. At Version 4 the heads (type 2) are sent as a
// notes frame before the heads end; a peer sends records frames of a log only while
// the other's last note of it is eager, starting at that note's seq plus
// one. A note of a numbered log costs about 4 bytes, against about 200
// for a record. The numbers are a window: the first DefaultMaxRefs
// (1024) logs named on a direction take numbers, and every later one is
// named by its id each time (about 53 bytes), so a Decoder keeps at most
// that many ids whatever a peer names (TestNotesMalformed). A ref past
// the numbers given is a malformed frame. Encoder and Decoder are this
// payload's codec (TestNotesWire: its exact bytes); a malformed payload
// is an error wrapping ErrNotes, never a panic (TestNotesMalformed,
// FuzzDecodeNotes). A peer at Version 3 or older gets
// the full push on its connection: the caller pushes it every log it
// lacks and calls Append for what it inserts from it.
//
// # Threat model
//
// A neighbour speaking this protocol as it likes:
//
//   - Notes seqs it does not hold: it is grafted once per log after
//     SwitchTime (at the next tick if no source of the log is upstream,
//     or each is a guess: Cycles) and pushes nothing; the honest sources keep pushing, so
//     nothing is delayed while one is connected, and no more grafts go to
//     it (TestLyingNotes). This peer neither notes nor pushes that log to
//     it again on this connection.
//   - Never pushes when eager (stalls): the watchers' notes make this
//     peer graft one of them after SwitchTime (TestSimStalled). So does
//     the author of a log that is its source (AuthorSource) and never
//     pushes it: only that log waits SwitchTime, and its author is still
//     a source, of the entries it does push (TestAuthorSource).
//   - Never notes as a watcher: an entry its sources do not deliver is
//     then missed until another watcher notes it, or the next entry of
//     the log, or a reconnection's heads; it takes all of a log's
//     sources and watchers (1 + Watchers neighbours) failing together.
//   - Asks to be quiet, or asks for everything eagerly: it only changes
//     what this peer sends it (and, where it is this peer's only
//     upstream source of a log, makes it graft one other neighbour for
//     the log, which pushes only what this peer lacks: Cycles), and what
//     it costs: at most a byte per log held, whatever it asks or leaves
//     unsaid (TestStrangerMemory: connects and never notes, asks every
//     log eagerly, notes it is behind on every log), and at most
//     MaxExact seqs it holds that are neither 0 nor the head; past
//     those, each such seq is lowered, so that it is at worst pushed or
//     noted what it holds, never missing an entry (TestExactCap). A
//     neighbour that asks nothing of idle logs costs nothing for them
//     (TestIdleMemory).
//   - Notes made-up logs: at most MaxUnheld tracked for it, each a graft
//     that yields nothing (TestUnheldBound).
//   - Notes seqs lower than it holds, eagerly: it is pushed what it
//     claims to lack, as replicate's heads do today, read from the store
//     at the connection's pace; noted lazily, they cost at most
//     MaxExact seqs (TestStrangerMemory).
//   - Sends Resends: answered at most once per 4 SwitchTimes, each
//     answer at most one note per log held (about 4 bytes each on the
//     wire), owed: a bit per log held until the caller takes them.
//   - Pushes duplicates: each is pruned once (one note back); a pruned
//     neighbour's entries are still taken, never as a source.
//
// It cannot make this peer drop or alter an entry (the machine only
// counts; the store verifies and keeps), nor grow its memory past the
// bounds above.
package ebt
