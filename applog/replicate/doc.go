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
// Peers do not tell each other what they received from third parties, so
// where three peers are also connected directly, a record may reach one of
// them over two connections at about the same time; the receiver skips the
// second copy. That costs bandwidth, never correctness.
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
// goes on. The caller gives no Quota to the sessions of the peers its
// user named: their logs draw on what the strangers' Total leaves.
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
//     check of these tests). What it can still cost: one entry of about 100
//     bytes per log the store holds, which the store pays about 3 KB for
//     itself (applog's Limits and blocking), and while it sends, up to
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
// MaxLogs logs in all); one heads end; then records frames for the rest of
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
// Version: both sides send the version they speak; the session runs at
// the lower of the two. This package speaks Version 2 (1 plus the fork
// frame) and refuses a peer whose hello says 0.
package replicate
