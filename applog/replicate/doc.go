// Package replicate replicates applog databases between two peers over one
// established connection: scuttlebutt, every log either side holds (third
// parties' included), both ways, then live.
//
// # Model
//
// Serve runs one connection. Each side first sends its heads (log id →
// highest durable seq), then, for every log it holds further than the
// peer, the records the peer lacks, in seq order per log and without gaps.
// Then it stays live: whenever the store grows (an append, or an insert
// from any connection), each connection sends what its peer lacks.
//
// A session tracks, per log, the highest seq its peer is known to hold:
// the head the peer advertised on this connection, raised by every record
// sent to it and every record received from it. Of the logs the store
// does not hold when the heads come, it keeps the heads of at most 1024
// (the first advertised): a peer that names 65,535 made-up logs costs a
// session no more than one that names a few (TestMadeUpHeadsMemory), and
// a log left out is at worst sent back to a peer that got it from a third
// one, which skips it. A record received from a
// peer is therefore never sent back to it. Nothing is remembered across
// connections: the heads a peer advertises are believed, even when lower
// than before (a peer restored from a backup, or that lost its disk, gets
// what it lacks again, its own log included; cf. ssb-ebt issue #59).
//
// The sessions given one Tree (a chat's, at any version) share the
// store's heads, read once per change of the store for all of them,
// which number the logs the store holds; each session keeps only its
// exceptions: a bit per log its peer lacks entirely, and the exact head
// of the logs its peer holds other than the store does, at most 1024 of
// them from the peer's word (maxExceptions). A session starts, once the
// peer's hello is read, with its peer lacking every log, and applies
// each head or note as it comes: it never holds a copy of the peer's
// heads. When the store's head of a log grows, each session without an
// exception for it gets one (the head before: what its peer held; a
// lack if it held nothing), which goes once the peer was sent the rest;
// so a peer that holds what the store holds costs its session nothing
// per log, however many the store holds (TestConnectionMemory), and one
// that holds none of them a bit per log (TestConnectionMemoryStalled).
// Past 1024 exact heads, a peer that says it holds more than the store
// is taken to hold the store's head, and one that is behind to lack the
// log: lower, so that the peer may at worst be sent records it holds,
// and skip them (at Version 4 it may take such a run for a duplicate
// and prune this side for the log until its next graft: bandwidth and
// delay, never a loss). What a session sent or received is kept
// exactly: while it keeps 1024, a log its peer lacks is sent to its
// head in one turn instead of in turns of 256 KiB (TestViewExceptions).
//
// At Version 3 and below, peers do not tell each other what they
// received from third parties, so where three peers are also connected
// directly, a record may reach one of them over two connections at about
// the same time; the receiver skips the second copy. That costs
// bandwidth, never correctness: in a full mesh of N peers each record
// crosses every link, N−1 copies per delivery. Version 4 removes that
// cost (Broadcast trees, below).
//
// # Broadcast trees (Version 4)
//
// A side given a Tree (Options.Tree, one per store, shared by all its
// sessions as a chat does) says Version 4; the other sessions say 3. On
// a connection where both say 4, the session joins the Tree, which owns
// one ebt.Machine (package ebt: its model, parameters and bounds) guarded
// by one mutex, and ticks it every NoteInterval (100ms) from one
// goroutine that runs while any session is joined. Per log, this side
// then asks one neighbour to push it eagerly (its source) and the others
// only to note it, (log, seq) in a notes frame (the notes to one peer
// wait up to a second for each other and for a records frame to it:
// ebt.Params.NoteDelay), or to be quiet; a
// duplicate record prunes its sender to lazy; a log a neighbour noted
// further than held is grafted from it at the next tick if no neighbour
// pushes it, else after SwitchTime (500ms) without progress. The rules
// mapped onto sessions:
//
//   - The heads are notes frames (the machine's Connect), sent once the
//     peer's hello is read, before the heads end. Connect owes them to
//     the session rather than returning them (a bit per log held), and
//     the session's sender takes them maxQueuedNotes (3,200, four
//     frames) at a time, writing each batch before it takes the next,
//     until none is owed; then the heads end.
//   - Records of a log are sent only while the peer's last note of it was
//     eager (and the machine pushed to it since), from what the peer
//     holds as far as the session knows (its notes, records either way,
//     never lowered): records are still read from the store, never
//     queued, and never sent back to the peer they came from.
//   - Runs this side stores tell the machine (Received, with the run's
//     first seq, then its last; with the first one not held, if another
//     session stored the run's first records meanwhile: the peer brought
//     the rest, TestTreeReceivedRun); a records frame that brings nothing
//     new is a duplicate it hears of (and prunes). The store's own log
//     (a Store with an ID method, as applog.DB's) is the machine's Own:
//     its tree is rooted at this side, which never asks a peer to push
//     it. A session's Options.PeerLog, the log its peer authors, is the
//     machine's Author of that log on the session's link: the peer is
//     asked to note it, where it is not its source; with
//     Options.PeerLogSource (a peer the user named), its AuthorSource:
//     the peer is the log's source. What the store gets
//     otherwise (the own appends, a Version 3 session's inserts) the
//     Tree tells the machine (Append) when the store changes; a log the
//     store no longer offers (blocked) or keeps forked is forgotten
//     (Forget) then, or within a second: neither noted nor pushed
//     (TestTreeBlocked, TestTreeFork).
//   - A graft of a log the store does not hold is checked against the
//     session's Quota first: refused, the log is forgotten and the graft
//     not sent; admitted, its records are not counted twice
//     (TestTreeQuota: a stranger noting 50 made-up logs brings in its
//     share of 8, 42 refused).
//   - A peer at Version 3 or below never reaches the machine: its
//     session pushes every log it lacks, as before (TestTreeV3Peer).
//
// In a full mesh of 3 and of 8 peers over net.Pipe, once two rounds of
// lines formed the trees, each peer receives each entry once: 1.00
// records per delivery, against N−1 at Version 3 (TestTreeRoom). A
// source that stalls delays the next entry by about SwitchTime
// (TestTreeStalledSource: 60 to 70ms with a SwitchTime of 50ms), one
// that leaves is replaced at once (TestTreeSourceLeaves).
//
// Bounds per session beside Version 3's: the notes queued for the peer,
// at most one per log (a later note of a log replaces the earlier) and
// maxQueuedNotes (3,200) but grafts of logs the store does not hold (at
// most ebt.Params.MaxUnheld, the logs not held the machine tracks for
// the peer); past it, and while any is owed, the machine owes the peer
// the note (ebt's Machine.Owe, a bit per log held; its heads and a
// Resend's answer are owed from the start), and the sender takes the
// owed notes, each as it stands then, once it wrote those queued, so
// that a log is queued or owed, never both, and every note goes
// (TestConnectionMemoryStalled, "eager unread": the heads;
// TestConnectionMemoryNotesBurst: every log's head risen at once, 182
// kB a session at 10,000 logs and 206 kB at 60,000, against 462 kB
// and 2.3 MB before); the logs the peer is eager for, a bit per log
// the store holds (and, by id, those pushed to it that the store's
// heads did not hold when last read: stored since, each moved to its
// bit at the next read); the logs the Quota granted it; and the Encoder's
// and Decoder's numbering, a window of at most ebt.DefaultMaxRefs (1024)
// logs each way, past which a note names its log by id; and the ebt
// machine's state of the logs on the session's link whose state differs
// from the idle one (package ebt, Memory: a byte per log held, whatever
// the peer asks; none once no log held has state on the link, as for a
// peer that holds what this side holds and has no role in any log). Per
// Tree: the machine
// (package ebt, Memory), the head it was told of each log held, and the
// store's heads the sessions share.
//
// Receiving: records are accumulated per log until a record the sender
// marks signed, then handed to Store.Insert, which verifies seq, hash chain
// and signature and stores durably. A Store that is a Checker (as
// *applog.DB is) is given them in two steps, Check and InsertRuns, so
// that the next batch is verified while the one before is synced. A run longer than applog.MaxSignedRun
// records or applog.MaxRunBytes bytes without a signed record, a run of
// one log interrupted by records of another, a seq gap, a record Insert
// rejects, or any malformed frame ends the session: the connection is
// closed, the reason logged and returned. Records stored before stay;
// nothing unverified is stored.
//
// # Forks
//
// A log whose author signed two histories (applog's Forks) is contained,
// not fought over. When the store's Insert finds a fork, the run is
// skipped, the log frozen in the store, and the session goes on: the
// other logs keep flowing both ways on the same connection. A Store that
// is a Forker (as *applog.DB is) sends every fork proof it holds to each
// peer that speaks Version 2, once per connection and never back to the
// peer it came from; a receiver checks it (applog.CheckForkProof) and
// marks the log forked too, so a proof crosses the network in one hop
// per link. A proof that does not check is a malformed frame: the
// connection is closed. Records of a forked log are neither sent nor
// stored; those received are skipped without a gap check. The same holds
// for every log a Refuser store refuses outright (blocked, new logs past
// a limit, peers' logs below a free-space floor): an Insert error that
// applog.IsRefused matches ends nothing. On the sending side, a log that
// the store deletes while it is read (an iterator error matching
// applog.ErrBlocked: a block applied by the running writer) ends nothing
// either: the sender sends what it read up to the last signed record,
// and Heads no longer offers the log. Only if the peer already holds
// part of an unsigned run of it, which cannot be finished now, does the
// session end.
//
// # Memory and flow control
//
// The sender keeps no queue: it reads what to send from the store (an
// iterator from the peer's known head), so a slow peer is simply served
// from disk later, and each connection sends at its own pace from its own
// goroutine. Writes carry a deadline (Options.WriteTimeout): a peer that
// stops reading is dropped, never waited for while others starve. The
// sender sends about 256 KiB of one log, up to a signed record, before it
// turns to the next, so one long log does not hold back the rest; frames
// are buffered and flushed when nothing more is ready to send, not per
// record.
//
// The receiver holds at most one unsigned run (bounded as above), one
// frame, and three batches of about 1 MiB of verified-to-be runs: one
// being stored, one being checked, one filling. When all are full it stops
// reading, and TCP stops the peer. The runs of different logs in one batch
// are checked concurrently (at most 8) and stored in one group commit.
// Buffers larger than a session keeps between uses (a frame above 128
// KiB, a run or a batch above 256 KiB) are dropped once used.
// Files have their own bounds, in the Files section below.
//
// # New logs and quotas
//
// A Store such as *applog.DB bounds the logs it takes (Options.MaxLogs);
// Options.Quota shares that bound out among peers. A session with a
// Quota takes the records of a new log (one the store neither holds nor
// was handed on this connection, and that Quota.Wanted does not want)
// only while the peer's source, named by Options.Source, is within its
// share: Quota.PerSource new logs, at the rate of Quota.Burst and
// Quota.Every, and all sources together Quota.Total. The records of a
// new log past it are skipped as those of a refused log, and the session
// goes on. The peers the caller's user named draw on no share: the
// caller gives their sessions no Quota, or tells the Quota which sources
// they are (Quota.Exempt, asked at each new log: TestQuotaExempt), and
// their logs draw on what the strangers' Total leaves.
//
// # Threat model
//
// A peer nobody named, with a key of its own (a stranger: anyone who
// can connect, or anyone in a private network), speaking this protocol
// as it likes:
//
//   - Cannot have records stored that their author did not sign, nor
//     break a log's chain, nor make a session send a record back to the
//     peer it came from; a malformed frame ends its session only
//     (TestReject, TestDBReject, TestLiveNoEcho).
//   - Cannot make a session's memory grow with what it names or sends:
//     a session holds the peer's heads of the logs its store holds, of
//     the watched log and of at most 1024 others (TestMadeUpHeadsMemory:
//     65,535 made-up heads, 12.8 MB per peer before the window, about
//     350 kB now); the fork proofs of the logs its store keeps forked,
//     and of no other (TestMadeUpForksMemory: 8,000 valid proofs of
//     made-up logs, about 650 kB kept before, nothing now); the logs
//     with runs on their way to the store (TestInserterForgetsStored);
//     and buffers of constant size, dropped when larger once used
//     (TestLargeRunReleased: a 4 MB run left 8.6 MB with its session
//     before, 230 kB now). Serve releases all of it when the connection
//     ends, and leaves no goroutine (TestMadeUpHeadsMemory, and the leak
//     check of these tests). Memory per connection, with a Tree (as a
//     chat gives its sessions): a session whose peer holds what the store
//     holds, or says it holds more of every log, holds about 280 and 400
//     kB, whether the store holds 10,000 or 60,000 logs (before: 2.1 MB
//     at 10,000 and 10.7 MB at 60,000, about 175 bytes a log held, the
//     copy of the store's heads of each pass included); one whose peer held
//     nothing holds about 220 kB once it sent it every log
//     (TestConnectionMemory, 8 sessions over net.Pipe, live heap after a
//     collection; once they ended, under 16 kB each is left). A session
//     whose peer has sent its heads and reads nothing, so that nothing
//     is sent to it, holds about 210 kB if the peer advertised nothing
//     and 390 kB if it is behind on every log (seq 1 of 2-entry logs),
//     at 10,000 as at 60,000 logs: a bit per log it lacks, and at most
//     1024 exact heads (before: 640 kB and 3.5 MB, 1.3 and 7.5 MB,
//     about 60 and 120 bytes per log; TestConnectionMemoryStalled, 4
//     sessions; once the peers read, each is sent every log). What it
//     can still cost: at Version 4, the ebt machine's state of the logs
//     on its link, a byte per log held (package ebt, Memory), with a
//     bit for each log the peer is eager for: a peer eager for every log
//     that reads nothing past the heads costs its session 630 to 650
//     kB at 10,000 logs and 695 to 711 kB at 60,000, about 1.3 bytes a
//     log (before: 1.3 MB and 5.4 to 6.3 MB, 83 to 100 bytes a log, with
//     a map entry per log on the link; 3.0 and 17.5 to 18.5 MB before
//     that; TestConnectionMemoryStalled, "eager"); one that reads
//     nothing at all, not even the heads, 465 kB and 545 kB, about 1.6
//     bytes a log: its heads are owed, a bit per log, and at most
//     maxQueuedNotes of them are held at a time (before, all queued:
//     1.27 MB and 6.2 MB, about 100 bytes a log;
//     TestConnectionMemoryStalled, "eager unread"; once it reads, it is
//     noted every log at its head and sent every log); a session with no role in any log
//     holds at most 1 MiB (measured: about 475 kB) whether
//     the store holds 10,000 or 60,000 logs, about 100 bytes per log
//     held before (TestConnectionMemoryTree, ebt's TestIdleMemory);
//     without a Tree, an entry of about 100
//     bytes per log the store holds, which the store pays about 3 KB for
//     itself (applog's Limits and blocking). And while it sends, up to
//     one frame, one unsigned run of applog.MaxRunBytes and three batches
//     of about 1 MiB plus a run: a constant, times the connections a
//     Swarm admits (topology's MaxConns). A chat with 100 made-up peers
//     connected, each advertising 65,535 heads, measured 9.7 MB of
//     resident memory before they came and 95 to 100 MB with them, of
//     which 40 to 45 MB live heap (about 0.4 MB per peer); at the first
//     collection after they left its live heap was 0 MB (chat's
//     TestMadeUpPeers, run as its comment says).
//   - Cannot fill its store's log limit alone, if the caller gives it a
//     Quota (TestQuotaFlood: a stranger serving 50 made-up logs stops at
//     its share of 8, and a second peer's logs still get in; before, the
//     stranger took every place left). What it can still cost: its share
//     of new logs per key it makes up, at the quota's rate, up to the
//     Total of all strangers within a run; each such log is stored (see
//     applog's Limits and blocking for what one costs).
//   - Cannot have a file stored with bytes other than its author's:
//     every block is checked against the manifest, and the manifest
//     against the id, before a byte is written; a peer that sends a bad
//     block or a manifest that is not the id's is dropped for the file,
//     not disconnected, and the file completes from others
//     (TestFetchBadBlock, TestFetchBadManifest). What it can still
//     cost: the blocks it had in flight (PerPeer, 1 MiB by default)
//     once per file.
//   - Cannot stall a fetch by lying "not here" or by not answering: the
//     block is asked of another peer (TestFetchPartialPeers), and a peer
//     that leaves requests unanswered for two minutes is disconnected
//     (TestFetchStalledPeer). A peer that says none to everything costs
//     one round trip per block it is asked for, and again after each
//     retry (1 s doubling to a minute).
//   - Cannot make a session buffer requests: more than 8 gets
//     outstanding closes the connection (TestRequestFlood); data or none
//     frames not asked for are a protocol violation (TestUnaskedData).
//   - Cannot get a file this side does not serve: Options.Blobs decides
//     (the chat serves only files whose entries it holds, of authors it
//     has not blocked); a get of anything else is answered none, with
//     nothing read from the store but the manifest Blobs refuses
//     (TestServeNotHere). What it can make a serving session do: read
//     and hash one block per get, at the rate it reads the answers.
//   - At Version 4, cannot hold back an entry by lying in its notes
//     (noting seqs it does not hold): it is grafted once per SwitchTime
//     and yields nothing while the other sources keep pushing
//     (TestTreeLyingNotes); nor by never pushing while eager: the
//     watchers' notes make this side graft another after SwitchTime
//     (TestTreeStalledSource). A notes frame that is malformed, names a
//     log id that is not valid, or comes in a session below Version 4,
//     and a heads frame at Version 4, close the connection
//     (TestTreeMalformedNotes, FuzzServeTree). Notes of made-up logs
//     cost at most ebt's MaxUnheld (1024) tracked logs per session,
//     and the notes' numbering (ebt's Decoder) keeps at most its window
//     of 1024 ids: a peer noting 65,535 made-up logs makes its session
//     hold about 1.0 MB until it leaves (9.9 MB before the window),
//     against 350 kB for as many heads at Version 3
//     (TestMadeUpNotesMemory), times the connections a Swarm admits.
//   - Can make a session verify what it sends: records (one signature
//     per signed run) and fork proofs (two signatures each, of logs the
//     store may not hold, which are then forgotten), at the rate its
//     bandwidth allows.
//
// # Wire format
//
// A connection carries frames in both directions:
//
//	frame   = length type payload
//	length  = uvarint: bytes of type and payload, 1 … MaxFrameSize
//	type    = 1 byte (numbers below are append-only: never renumbered or reused)
//
// A length above MaxFrameSize (1 MiB + 64 KiB: one record of the largest
// entry fits) is rejected before reading the frame, and the connection
// closed. Unknown frame types are malformed. Uvarints are those of
// encoding/binary (LEB128, at most 10 bytes); an id is a uvarint length
// (1 … MaxIDLen) followed by the log id's text (applog.ID, 52 characters).
//
//	type 1 hello      version (uvarint); later versions may append fields
//	type 2 heads      { id, head (uvarint, >= 1) } …
//	type 3 heads end  empty
//	type 4 records    id, first seq (uvarint, >= 1), { rec } … (at least one)
//	       rec        = uvarint (length << 1 | signed), record (length >= 1 bytes)
//	type 5 fork       a fork proof as applog documents it (at most
//	                  applog.MaxProofSize bytes; 264 plus the bridge records:
//	                  none or one for chat entries); Version 2 only
//
// Each side sends, in order: one hello; zero or more heads frames (at most
// MaxLogs logs in all, beyond the logs the receiver holds); one heads end; then records frames for the rest of
// the connection. The records of a records frame are consecutive seqs of
// one log, starting at first seq; a record is exactly what
// applog.Iter.Record returns (self-delimiting, with seq, time, previous
// hash, payload and signature), and its signed bit says whether it carries
// the author's signature (Insert checks it). A sender starts a log's
// records at the seq after what the receiver holds as far as it knows, and
// switches from one log to another only after a signed record. A receiver
// skips records it already holds; a records frame whose first seq is past
// what it holds (plus what it has received of that log but not yet
// stored) is a gap.
//
// Fork frames may come at any point after the heads end; in a session
// at version 1 a fork frame is malformed, and none is sent.
//
//	type 9 notes      package ebt's notes payload: { ref, note } …, none
//	                  for a Resend (ebt's Wire mapping); Version 4 only
//
// At Version 4 the heads are sent as notes frames (at most 800 notes
// each) between the hello and the heads end, and a heads frame is a
// protocol error; notes frames may come at any point after the hello.
// Records frames of a log follow only the receiver's eager note of it.
// In a session below Version 4 a notes frame is malformed, and none is
// sent.
//
//	type 10 membership  an opaque payload of at most MaxMembershipSize
//	                    (4 KiB) bytes, the caller's (Options.Membership:
//	                    the chat's topology/overlay messages); Version 5 only
//
// Membership frames may come at any point after the hello, each handed
// to Membership.In; one in a session below Version 5, one longer than
// MaxMembershipSize, or one In refuses is malformed and closes the
// connection (TestMembershipMalformed, FuzzServeMember). None is sent to a peer below
// Version 5, which replicates as before (TestMembershipV4Peer). The
// session holds no queue of them: the caller's Out channel is read
// when the sender is free, each payload written and flushed at once
// (TestMembership).
//
// Version: both sides send the version they speak; the session runs at
// the lower of the two. This package speaks Version 5 with a Tree and
// Membership (4 plus the membership frame), Version 4 with a Tree only
// (3 plus the notes frame; 3 is 2 plus the file frames; 2 is 1 plus the
// fork frame), Version 3 without one, and refuses a peer whose hello
// says 0. With a Tree, a side sends its heads only once it has read the
// peer's hello (both send the hello at once).
//
// # Wire format of files (Version 3)
//
// The file frames may come at any point after the heads end, in both
// directions; in a session below version 3 each of them is malformed,
// and none is sent: a peer of version 2 is never asked for a file and
// never served one (TestFetchV2Peer). Each starts with the part it is
// about:
//
//	part      = file id (32 bytes: the SHA-256 of the manifest, see
//	            package blob), kind (1 byte), index (uvarint)
//	kind      0: part index of the manifest's encoding, the bytes from
//	             index×256 KiB, at most 256 KiB of them
//	          1: block index of the file (256 KiB, the last one less)
//	type 6 get   part: a request
//	type 7 data  part, [kind 0: the manifest's length (uvarint, at most
//	             28 + 32×65,536)], the part's bytes (1 … 256 KiB; a
//	             manifest part exactly those of the manifest it covers)
//	type 8 none  part, reason (1 byte; 0: the file is not served here,
//	             1: it is, but not this part, as of a partial file):
//	             "not here", a reply
//
// A data frame holds at most one block and its header (256 KiB plus at
// most 57 bytes), within MaxFrameSize. A manifest does not fit one
// frame when the file is large (32 bytes a block: a 16 GiB file's is 2
// MiB), so it is served in parts of 256 KiB, asked one after the other;
// the receiver checks the whole against the id (TestBlockFrameFits,
// TestDecodeFileFrames, TestFetchLargeManifest).
//
// Every get is answered by exactly one data or none frame, in the order
// asked. A peer may have at most 8 gets outstanding (sent and not yet
// answered) on a connection: one more waiting for its answer to begin
// is a protocol violation that closes the connection (TestRequestFlood).
// The get whose answer is being written does not count, as the peer may
// read the answer and send its next get before the write returns. A get of a file this side
// does not serve, of a part past the file's end or out of any file's
// range, or of a block a partial file lacks is answered none, never
// with an error (TestServeNotHere). A data or none frame that answers
// no outstanding get is a protocol violation (TestUnaskedData).
//
// # Files
//
// A chat shares files as package blob stores them: content-addressed,
// in blocks of 256 KiB, each checked against its hash. Each session
// serves what Options.Blobs serves, and one Fetcher (Options.Fetcher),
// shared by all the sessions of a chat, fetches the files it is asked
// for (Fetcher.Get) from every connected peer that speaks Version 3.
//
// Serving: the session's receiver queues each get (at most 8); its
// sender answers them one at a time, reading a block into one buffer
// (Blobs.ReadBlock checks it against its hash), and keeps the manifest
// of the file served last. The sender answers one get between two logs'
// turns of records (about 256 KiB each), so that neither files nor
// records starve the other (TestFilesAndRecordsInterleave).
//
// Fetching, per file: if the store holds part of it, the partial file is
// re-hashed (Store.Have) and only the blocks missing are asked for
// (TestFetchResume); otherwise its manifest is asked of one peer, part
// by part, checked against the id (Manifest.Check) and by the caller
// (FetcherOptions.Check: against what an entry said of the file), and
// the store makes room for the file (Store.Begin, whose quota or
// free-space refusal ends the fetch, reported to FetcherOptions.Done:
// TestFetchQuota; FetcherOptions.Begun hears of it: TestFetchCheck). Then the
// missing blocks are asked of every peer at once, at most
// FetcherOptions.PerPeer in flight from each (4 by default: 1 MiB), the
// faster peers getting more as their answers come (TestFetchTwoPeers).
// Each block received is written by Store.WriteBlock, which checks it.
// A peer whose block or manifest does not check is dropped for that
// file, not disconnected, and its blocks are asked of others
// (TestFetchBadBlock, TestFetchBadManifest). A none for a block marks
// it missing at that peer and it is asked of another
// (TestFetchPartialPeers: two peers holding a half each); a none for
// the whole file leaves that peer out of the file. A peer that leaves
// gives its blocks in flight back to be asked of others, and one that
// leaves its requests unanswered for two minutes is disconnected
// (TestFetchStalledPeer). A file that no peer
// can be asked for waits for a peer to join, or for a timer (1 s,
// doubling to a minute while nothing comes) after which the peers that
// said none are asked again (TestFetchNobodyHasIt, TestFetchRetry):
// nothing spins. At most 4 files are fetched at once (their manifests
// held, or being re-hashed from the store), the others wait in the order
// of Get; a file whose manifest no peer has yet takes no place and holds
// no memory but its id, so files nobody has do not hold back those a
// peer has (TestFetchManyNobodyHas). Forget ends a fetch (its author
// was blocked, say): nothing more of it is asked for, and the answers
// in flight are dropped (TestFetchForget).
//
// Bounds: a serving session holds one block buffer, one manifest and at
// most 8 queued gets; a fetching one, one frame (a block) being read
// and written to the store, and PerPeer requests (at most 8). The
// Fetcher holds, per file fetched (at most 4), its manifest (32 bytes a
// block, at most 2 MiB; being fetched, twice that), a bitmap of the
// blocks held and one of those in flight, and per peer one bitmap of the
// blocks it said none to; per file waiting, its id and what it knows of
// each peer (a few words). Nothing grows with a file's size beyond these: the bytes go
// from the connection to the disk a block at a time (TestFetchMemory:
// the live heap of both sides of a 32 MiB fetch, in one process, grew
// by 755 kB at most).
//
// A Fetcher does not look for partial files by itself: the caller asks
// for each file it wants (Get), after a restart too, and the fetch
// resumes from what the store holds.
package replicate
