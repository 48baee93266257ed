// Package applog is scuttle's log store: a database of signed,
// hash-chained, append-only logs, one per author, replicated between
// peers (scuttlebutt). It replaces the leveldb-backed scuttleup of the
// workshop's exercise 10.
//
// # Model
//
// A database holds its owner's ed25519 key pair and any number of logs.
// A log is identified by its author's public key (an [ID]); entries are
// numbered 1, 2, 3… without gaps. The own log is written with Append and
// AppendBatch; other logs only grow by Insert of records received from a
// peer, which are verified before anything is stored. Every record
// carries the hash of the record before it (SHA-256), so the head
// record's hash commits to the whole log, and the author signs chain
// heads: the last record of every durable batch is signed, and at least
// every MaxSignedRun records and MaxRunBytes bytes. The head of every log
// is therefore always a signed record, and a reader authenticates a run
// of records with one signature check at its end plus the hash chain, as
// hypercore does. Signing costs ~30 µs and verifying ~70 µs, so signing
// every record would cost more than the fsync it rides with.
//
// Appends are durable on return: concurrent callers are grouped into one
// write and one fdatasync per log (group commit; see submit in
// commit.go: the first waiting caller leads the round queued behind it
// and hands the lead on); a round issues the fdatasyncs of all the logs
// it touched at once, so the file system commits them together. Two
// rounds overlap: the next one gathers, encodes, signs and writes while
// the one before syncs, and rounds publish in order. Insert checks
// records (CRC, hash, signature) in its caller's goroutine before
// queueing, on all CPUs for a long run (check.go); Check and InsertRuns
// split it, so that a replica checks the next records while the ones
// before sync. Within a round the writer encodes into one
// buffer while a goroutine writes the previous one, and a full segment
// is sealed (fsynced) in the background while the next one is encoded;
// nothing is written to a new segment before the previous one is
// sealed. The write buffers are lent to the logs a round touches and
// taken back when it ends, into a pool that keeps at most 8 MiB
// (bufpool.go): an idle log holds no write buffer, so a replica's RAM
// does not grow by a buffer for each log it receives.
// Readers never lock: they load a log's published head and
// segment list atomically and read files with pread (sealed indexes
// through a read-only memory map). One process writes a database at a
// time (an flock(2) on DIR/LOCK); any number of read-only processes may
// read it meanwhile, and always see a consistent prefix.
//
// # Files
//
//	DIR/
//	  key                     ed25519 private key (64 bytes: seed ‖ public), mode 0600
//	  key.pub                 the own ID, text, newline-terminated
//	  LOCK                    flock(2)ed by the writer; holds the writer's pid in decimal
//	  logs                    log ordinal table (which log is number 0, 1, 2…)
//	  feed                    the change feed (store-wide order of durable batches)
//	  state                   checkpoint written by Close (hints for the next Open)
//	  <ID>/                   one directory per log, named by its 52-character ID
//	    00000000000000000001.seg   segment: records from seq 1
//	    00000000000000000001.idx   its index
//	    00000000000000004097.seg   next segment: records from seq 4097
//	    00000000000000004097.idx
//
// Segment and index files are named by the seq of their first record in
// 20 decimal digits, so they sort by name. A log rolls to a new segment
// when its tail segment reaches Options.SegmentSize (default 4 MiB), and
// only right after a signed record: every segment ends signed. All
// integers are little endian.
//
// # Segment files
//
// A 16-byte header, then records back to back:
//
//	0        8          16
//	+--------+----------+----------------- - -
//	| magic  | base seq | record | record | …
//	+--------+----------+----------------- - -
//	magic = "SCTLSEG" 0x01, base seq u64 = the seq in the file name
//
// A record frame:
//
//	 0      4      8     9       17      25          57         57+n    57+n+64
//	 +------+------+-----+-------+-------+-----------+----------+-------+
//	 | len  | crc  |flags| seq   | time  | prev hash | payload  | sig   |
//	 +------+------+-----+-------+-------+-----------+----------+-------+
//	   u32    u32    u8    u64     i64     32 bytes     n bytes   64 bytes, iff flags&1
//
//	len    bytes after the crc field: 49 + n (+ 64 if signed); at most
//	       49 + MaxEntrySize + 64. Checked before anything is allocated.
//	crc    CRC-32C (Castagnoli) of the len field and everything after crc.
//	flags  bit 0: signed. Other bits must be zero.
//	seq    1, 2, 3… within the log.
//	time   the author's timestamp, Unix nanoseconds.
//	prev   hash of record seq-1; 32 zero bytes for seq 1.
//	sig    ed25519 signature by the log's key over
//	           "scuttle/applog/v1 chain head" 0x00 ‖ public key (32) ‖ seq (u64) ‖ hash
//	       where hash is this record's hash. The domain prefix keeps the
//	       signature from meaning anything else; the key binds it to the log.
//
// A record's hash is SHA-256 of bytes 9 … 57+n of its frame: seq, time,
// prev and payload (not the flags or signature, so whether a record is
// signed does not change the chain). The frame, exactly as stored, is
// what Iter.Record returns and what Insert takes on a peer: it is
// self-delimiting and carries everything needed to check it.
//
// # Index files
//
// A 16-byte header (magic "SCTLIDX" 0x01, base seq u64), then one u64
// per record of the segment: entry i (at byte 16+8*i) is the offset in
// the segment file of the record with seq base+i. Finding seq N costs one
// pread of the index and one of the segment. The index is derived data:
// the segment is the truth, and the writer's Open rebuilds the tail
// segment's index from the segment when they disagree.
//
// # Log ordinal table (logs)
//
// A 16-byte header (magic "SCTLLOG" 0x01, zeros), then one 36-byte record
// per log, in the order the logs were first stored: public key (32) ‖
// CRC-32C of the key (u32). A log's ordinal is its position.
//
// # New logs
//
// A log is new when Insert stores its first records. Its files are made
// in this order (newlog.go):
//
//  1. Before the commit round, in the inserting caller's goroutine
//     (prepareLog): create DIR/<ID>/ and its first segment and index
//     with their headers, never truncating an existing file. Nothing is
//     synced; file creation is slow on some file systems, and concurrent
//     inserters make theirs in parallel.
//  2. In the round (addLog): append the log's record to the table and
//     adopt the files (as a writer Open would: an existing segment is
//     recovered, so an orphan left by a crash is adopted and its records
//     checked against the inserted ones); write the records.
//  3. Then (syncAll): fdatasync the table together with the round's
//     segments, all at once; then fsync DIR and each new log's
//     directory, all at once.
//  4. Only then are the heads published, the callers acknowledged and
//     the feed records naming the new ordinals written.
//
// So every log the feed names, and every log holding an acknowledged
// record, is in the durable table with durable files; the logs new in
// one round share one sync. A crash before step 3 completes may leave a
// table entry without files (the writer's Open creates them, the log is
// empty), files without a table entry (an orphan: ignored, and adopted
// when the log is inserted again) or a torn table record (cut at Open).
// None of these was acknowledged. The own log is added at the first Open
// the same way, synced before Open returns.
//
// # Feed
//
// The feed file orders the database's durable batches: a 16-byte header
// (magic "SCTLFED" 0x01, zeros), then 16-byte records
//
//	+---------+-----------+---------+
//	| ordinal | head      | crc     |
//	+---------+-----------+---------+
//	  u32       u64         u32 = CRC-32C of the first 12 bytes
//
// each saying "log ordinal grew to head". After every group commit the
// writer publishes the new heads, then appends one feed record per log
// that grew (no fsync: the logs are the truth and Open repairs the feed).
// A feed reader keeps the highest seq it returned per log and returns
// last+1 … min(head, the log's actual head) for each record, so the feed
// is a stable change feed: new entries only ever add at its end. The
// reader's state is one counter per log, independent of the feed's
// length.
//
// # State (checkpoint)
//
//	+--------+---------+----------+-------------------------------+-----+
//	| magic  | n logs  | feed len | n × (tail base, tail seg size,| crc |
//	|        |         |          |  tail idx size, head,         |     |
//	|        |         |          |  feed head)                   |     |
//	+--------+---------+----------+-------------------------------+-----+
//	 "SCTLSTA" 0x01, u32, u64, n × 5 × u64, CRC-32C of all before
//
// Close fdatasyncs, all at once, the feed and each tail segment and index
// written since its last sync (a round already synced the segments it
// wrote; untouched logs cost nothing) and then writes the state file in
// place (no temp file and no fsync: it describes only data already
// synced, so a lost write leaves an older state that is still true, and
// a torn one fails its length or CRC check and is ignored). If the state
// would not change, it is not written. It is only a hint:
//   - a log whose tail files still have exactly the recorded sizes was not
//     written since (files only grow past a recorded size, and a cut never
//     goes below it), so Open trusts the recorded head and reads just the
//     head record for its hash: opening a clean database reads no records
//     beyond one per log, whatever their number;
//   - the recorded tail segment size is a durable floor: a bad record found
//     below it is corruption, not a torn tail;
//   - the feed was durable up to the recorded feed length with the recorded
//     per-log feed heads, so Open scans the feed only after that point.
//
// A running writer also rewrites the state file each time the feed has
// grown by 1 MiB (~65,000 commits): it fsyncs the feed and records the
// new feed length and feed heads, keeping the per-log tail entries found
// at Open (still true floors). So after a crash Open scans at most that
// much feed. A missing or damaged state file makes Open fall back to
// scanning each log's tail segment (bounded by the segment size) and
// the whole feed.
//
// # Recovery (writer Open)
//
//  1. Take the lock; load or create the key pair (written by temp file,
//     fsync, rename, directory fsync).
//  2. Read the log table; cut a torn last entry.
//  3. For each log (recoverTail in log.go): if the tail files match the
//     checkpoint, read the head record and stop. Otherwise scan the tail
//     segment frame by frame and keep the records up to the last signed
//     one: every acknowledged batch ended with a signed record and was
//     fsynced, so what follows was never acknowledged. Truncate the
//     segment there, rewrite the index entries that differ from the
//     scanned offsets and truncate the index; fsync what changed. A tail
//     segment left empty means the head is the last record of the
//     previous segment. A bad record below the checkpoint's durable floor
//     is not cut: the log is marked corrupt (reads fail at it, writes to
//     it are refused, Verify reports it). Open never fails on a torn tail.
//  4. Repair the feed (openFeed in feed.go): scan from the checkpoint's
//     feed length, cut a torn record, and append (ordinal, head) for every
//     log whose head is beyond the last head the feed names for it.
//
// Only the tail segment can be torn: a segment is sealed (index and
// segment fdatasynced, next segment created, directory fsynced) before
// the log moves on. A bad record in a sealed segment is reported as a
// *CorruptError (log, seq, file, offset) by reads and Verify, never
// skipped and never cut. The own log never re-uses a seq that was
// acknowledged, since acknowledged records were fsynced.
//
// # Readers
//
// In the writer's process, readers stop at the published head, which
// moves only after the fdatasync. A read-only process establishes each
// log's head itself: the checkpoint's, if the tail still matches it, else
// the last signed record whose CRC and seq check out in the tail
// segment, scanning forward from what it saw last, and following rolls to
// the next segment. Since the writer writes index entries before the
// frames they point at, a reader that sees a signed record also finds its
// index entries. It returns nothing past that head, so it never shows a
// record that a writer's recovery could cut.
//
// # Disk assumptions
//
// fdatasync makes the data written before it, and the file size, durable;
// directory fsync makes creates and renames durable; rename is atomic.
// Writes that were not followed by a completed fdatasync may be lost,
// reordered or torn at any byte on power loss; CRCs and the signed-tail
// rule find where the durable data ends. A failed write or fdatasync
// stops the writer (every later write returns the error) until reopened,
// since the kernel may have dropped the unsynced pages.
//
// Each OS keeps these promises its own way (internal/osfile says how):
// fdatasync is F_FULLFSYNC on macOS, whose fsync leaves data in the
// drive's cache, and FlushFileBuffers on Windows; Windows has no
// directory fsync, so renames there are write-through (MoveFileEx) and
// the writer lock is LockFileEx instead of flock(2).
package applog
