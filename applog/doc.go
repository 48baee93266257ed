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
// and hands the lead on; round.go writes a round, logwrite.go a log's
// records, feedwrite.go the feed's); a round issues the fdatasyncs of all the logs
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
// Readers never wait for a commit round: they load a log's published
// head and segment list atomically and read files with pread (sealed
// indexes through a read-only memory map, or pread where mapping is not
// available); they take only short locks of their own (the file cache,
// the table, a read-only log's refresh). One process writes a database
// at a time (an flock(2) on DIR/LOCK); any number of read-only processes
// may read it meanwhile, and always see a consistent prefix.
//
// # Scale
//
// Nothing a DB holds open grows with the number of logs. Every segment
// and index is opened through one LRU cache (files.go) that keeps at
// most 64 idle files; a use holds a reference, so a file is never
// closed under a read, a write or a sync, and a round holds the segments
// it wrote until they are synced. A round that touches more than 32 logs
// writes and syncs the first ones early and lets go of their files
// (nothing is acknowledged before the round ends anyway). So a writer
// holds about 64 files plus those of the rounds under way, and the
// lock, table, feed and state files.
//
// Opening costs the same whatever the number of logs: a log's state is
// loaded on first use (logAt), from its entry in the state file, and a
// clean writer Open reads neither the log table nor any log but its
// own (see Recovery).
//
// Memory: at most Options.MaxLoaded logs (4096 by default, about 1 KB
// each) are loaded at once (unload.go). Beyond it a clock sweep unloads
// the least recently used idle ones until a quarter of the bound is
// free: a reader when it loads a log, a writer only in the commit
// leader between rounds (once the round before has published), after
// writing each one's state entry exactly as Close would. Such an entry
// is known exact until its log is loaded again, so that load reads the
// entry and trusts it, as after a clean Close; it is also a true durable
// floor if the process crashes. What stays per log is its 32-byte key in
// the table and its state entry on disk. An Iter that held an unloaded
// log's state reads on from the loaded one when it reaches the old
// head.
//
// # Files
//
//	DIR/
//	  key                     ed25519 private key (64 bytes: seed ‖ public), mode 0600
//	  key.pub                 the own ID, text, newline-terminated
//	  LOCK                    flock(2)ed by the writer; holds the writer's pid in decimal
//	  logs                    log ordinal table (which log is number 0, 1, 2…)
//	  feed                    the change feed (store-wide order of durable batches)
//	  state                   checkpoint: one entry per log, exact after a clean Close
//	  sealkeys                the encryption keys, mode 0600 (applog/seal's; applog never reads it)
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
// the segment is the truth; the writer rebuilds the tail segment's index
// from the segment when they disagree, and readers whose index entry
// does not lead to the record find it in the segment.
//
// # Log ordinal table (logs)
//
// A 16-byte header (magic "SCTLLOG" 0x01, zeros), then one 36-byte record
// per log, in the order the logs were first stored: public key (32) ‖
// CRC-32C of the key (u32). A log's ordinal is its position. The table
// is derived too, and the log directories are the truth: a record that
// fails its CRC is a hole, and a table with fewer records than the state
// file has entries was cut short. Only then (so an undamaged table costs
// no directory listing) are the log directories listed (findLost): each
// one named by an ID the table does not list and holding a record is a
// lost log. Holes get lost logs, first by their state entries (a unique
// log whose tail segment has the entry's base and size), then in name
// order. A writer makes the state entries of the filled holes unknown,
// syncs, then writes their records back; a crash-recovering writer also
// adds the lost logs left at new ordinals (addLost). A reader keeps all
// of it in memory, giving the lost logs left ordinals of its own past
// the end of the table until a writer appends there. A filled hole's
// state entry is never used (the match may be wrong), so its log's tail
// is scanned; and every feed then checks every log's head (repairTail),
// so a feed record naming a wrong ordinal costs order, never an entry.
// What the CRCs cannot show is a table of the right length whose good
// records were moved to other ordinals: a clean Open would then trust
// one log's state entry for another. That takes a deliberate rewrite of
// the table, and is outside what this format defends against.
// A partial last record (a torn append, never acknowledged) is cut by a
// writer. Verify reports each repair (ErrRepaired).
//
// # New logs
//
// A log is new when Insert stores its first records. Its files are made
// in this order (newlog.go, logopen.go):
//
//  1. Before the commit round, in the inserting caller's goroutine
//     (logOpener.prepare): create DIR/<ID>/ and its first segment and
//     index with their headers, never truncating an existing file.
//     Nothing is synced; file creation is slow on some file systems, and
//     concurrent inserters make theirs in parallel.
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
// that grew (no fsync: the logs are the truth, and Open or a read-only
// feed repairs the feed, see Recovery and Readers).
// A feed reader keeps the highest seq it returned per log and returns
// last+1 … min(head, the log's actual head) for each record, so the feed
// is a stable change feed: new entries only ever add at its end. The
// reader's state is one counter per log, independent of the feed's
// length.
//
// # State (checkpoint)
//
// A 40-byte header, then one 44-byte entry per log ordinal:
//
//	header  0       8       12      16      20      24         32      36
//	        +-------+-------+-------+-------+-------+----------+-------+------+
//	        | magic | flags | own   | n     | gen   | feed len | crc   | 0    |
//	        +-------+-------+-------+-------+-------+----------+-------+------+
//	          "SCTLSTA" 0x02, flags u32 (bit 0: clean), own ordinal u32,
//	          entries u32, generation u32, feed length u64,
//	          crc u32 = CRC-32C of bytes 0..32, zero u32
//	entry   tail base u64 ‖ tail segment size u64 ‖ tail index size u64
//	        (0: the index was not known synced) ‖ head u64 ‖ feed head u64
//	        ‖ crc u32 = CRC-32C of the 40 bytes before
//
// An entry is a durable floor: everything up to its head and sizes was
// synced when it was written, and logs only grow past it. Entries have
// their own CRC, so a damaged entry costs that log a scan of its tail,
// nothing more, and Close rewrites in place only the entries of logs
// that changed.
//
// Clean: Close syncs the feed and the tail indexes still open (an index
// the file cache closed unsynced gets index size 0), writes the changed
// entries, fdatasyncs them, and only then writes the header with the
// clean flag and the generation plus one. The first commit after a clean
// Open writes the header without the flag and syncs it together with the
// round's own files (markDirty), before anything is acknowledged. So a
// header that says clean describes every acknowledged record exactly:
// the entries are the logs' heads and tail sizes, and the feed has the
// recorded length and names every head. Anything past an entry was
// written by a session that crashed before its first acknowledgement,
// and a writer cuts it when it loads the log (cutToCheckpoint).
//
// While running, a writer rewrites the header (not clean, same
// generation) each time the feed has grown by 1 MiB (~65,000 commits),
// after an fdatasync of the feed, outside the commit lock; so after a
// crash Open scans at most that much feed. The state file of format 1
// is ignored: Open then recovers every log, as after a crash, and Close
// writes format 2.
//
// # Recovery (writer Open)
//
// recover.go, in this order:
//
//  1. Take the lock; load or create the key pair (written by temp file,
//     fsync, rename, directory fsync).
//  2. Read the state header. If it says clean, the table has the length
//     it records and the own log's record in it, and the feed has the
//     recorded length: load the own log (step 4) and stop. Every other
//     log is loaded, the same way, on first use; the table's keys are
//     read on the first lookup, and a damaged table is repaired then.
//  3. Otherwise read the log table, find the logs it does not list from
//     the log directories (as described above), and load every log now,
//     several at once.
//  4. Load a log (tailRecovery.recover): with a clean state, first cut
//     it back to its entry. If the tail files have the sizes of the
//     entry, read the head record and stop. Otherwise scan the tail
//     segment frame by frame and keep the records up to the last signed
//     one: every acknowledged batch ended with a signed record and was
//     fsynced, so what follows was never acknowledged. Truncate the
//     segment there, rewrite the index entries that differ from the
//     scanned offsets and truncate the index; fsync what changed. A tail
//     segment left empty means the head is the last record of the
//     previous segment. A bad record below the entry's segment size (a
//     durable floor) is not cut: the log is marked corrupt (reads fail
//     at it, writes to it are refused, Verify reports it). Open never
//     fails on a torn tail.
//  5. Repair the feed (feedWriter.recover): scan from the state's feed
//     length, cut at the first record that fails its CRC or names no log,
//     and append (ordinal, head) for every log whose head is beyond the
//     last head the feed names for it. A feed whose header is damaged is
//     renamed aside (feed.corrupt-<time>) and rebuilt from the heads.
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
// log's head itself, when it first uses the log: while the state header
// is still clean in the generation it opened with (one pread), the
// entry's head, without touching the log's files; else the entry's, if
// the tail still has its sizes, and then the last signed record whose
// CRC and seq check out in the tail segment, scanning forward from what
// it saw last and following rolls to the next segment.
//
// The index is derived data for readers too: a Get or Iter whose index
// entry does not lead to the record finds it by scanning the segment.
//
// A feed reader in the writer's process waits for the commit
// notification only, and reads the feed only up to what publish wrote in
// full. A read-only one polls the feed file's size, after 2 ms and then
// twice as long each time, up to every 100 ms. When a read-only feed
// first reaches the end of the feed file, and a writer has committed
// since the last clean Close (or the feed is shorter than that Close
// left it, or the reader found logs the table does not list, or any feed
// met a damaged record, which it skips when a good one follows), it adds
// in memory what a writer's
// feed repair would add: (ordinal, head) for every log whose head is past
// what the feed returned of it (repairTail). So a reader after a crash
// sees every durable entry, before any writer has reopened.
//
// Since the writer writes index entries before the frames they point at,
// a reader that sees a signed record also finds its index entries. It
// returns nothing past that head, so it never shows a record that a
// writer's recovery could cut.
//
// # Forks
//
// A fork of log X is two records at the same seq, both authenticated by
// X's key (a run is authenticated by the signed record that ends it and
// the hash chain up to it), with different hashes: X's author signed two
// histories (a restored backup, a database copied to a second machine).
// Insert recognises one when a run's authenticated records differ from
// the stored ones at a seq held, or its first record, at head+1, does not
// chain to the stored (signed) head. It then writes a proof to the forks
// file, marks X forked at that seq and freezes X: no further records of
// it are inserted, from any peer, and Insert of them fails with
// ErrForked; the other runs of the same InsertRuns are stored. Appends to
// the own log go on (peers holding the other branch refuse them).
//
// A fork proof names the key and the fork seq s and gives each branch as
// a signed chain head at seq ≥ s and the records from s+1 up to it (the
// bridge), all little endian:
//
//	0       8      40      48                                  48+B1    48+B1+B2
//	+-------+------+-------+-----------------------------------+--------+
//	| magic | key  | seq s | branch 1                          | branch 2 |
//	+-------+------+-------+-----------------------------------+--------+
//	magic "SCTLFRK" 0x01, key = X's public key (32), s u64 >= 1
//	branch = head seq u64 | head hash (32) | sig (64) | n u32 | n record frames
//
// where n = head seq - s and the frames are records s+1 … head seq exactly
// as stored (CRC-checked). sig is X's chain head signature over (head
// seq, head hash) as in Segment files. A branch gives the hash at s: the
// head hash if n = 0, else the previous hash of its first frame, after
// checking that the frames have consecutive seqs, chain, and that the
// last one's hash is the head hash. The proof holds if both signatures
// verify with the key and the two hashes at s differ. Nothing else is
// needed: anyone can check it with X's public key alone (CheckForkProof).
// When both branches are signed at s (each typed chat line is its own
// signed batch) a proof is 264 bytes; when one branch shows its hash at s
// only through its record s+1 (a run at head+1 that does not chain), that
// record is its bridge: 264 + 121 + its payload's bytes. The bridges are
// at most one run each (MaxSignedRun records). MaxProofSize (1 MiB) bounds a proof; a
// larger one (entries near MaxEntrySize) freezes the log for the session
// but is neither kept nor sent.
//
// The forks file DIR/forks: a 16-byte header (magic "SCTLFKS" 0x01,
// zeros), then records len u32 ‖ CRC-32C of the proof u32 ‖ proof,
// appended and fdatasynced before Insert returns the fork (the first
// fork also fsyncs DIR). Open reads it; a record that is torn, fails its
// CRC or does not check ends it (a writer cuts it there). Only the fork
// seqs stay in memory; a proof is read back when asked for (ForkProof).
//
// # Limits and blocking
//
// A writer refuses records of peers' logs so that no peer can fill it
// (limits.go): the first records of a new log once it holds
// Options.MaxLogs logs (ErrLogLimit), and records of every log but the
// own one while the file system's free space is below FreeSpaceFloor:
// 5 % of its size or 1 GiB, whichever is smaller (ErrLowSpace; read with
// statfs at most once a second, through Options.FreeSpace in tests;
// unknown, so never low, where statfs is missing). The own appends go
// on until the disk is full.
//
// The limit is for the logs nobody asked for. The own log, and every log
// that the function given to SetWanted wants (the chat's: the logs of
// the peers the user named, or bound to a name by a direct connection or
// by trust), are taken whatever MaxLogs says, and count towards it; so a
// database holds MaxLogs logs plus the wanted ones. A flood of made-up
// logs therefore never locks out a wanted one (TestWantedBeyondMaxLogs;
// over a connection, replicate's TestFloodWanted; in a chat, chat's
// TestUnitChatFloodNamedPeer). The limit refuses rather than evicts: a
// log taken is kept until the user blocks it, since which made-up log to
// drop cannot be told from which friend of a friend to drop.
//
// A replica may share the limit out among its peers (replicate's Quota,
// which the chat uses): a peer nobody named then brings in at most
// MaxLogs/32 new logs, 256 at once and then 10 a second, and all such
// peers together MaxLogs/2 within a run, so that the other half is left
// to the logs the named peers relay (replicate's TestQuotaFlood; chat's
// TestUnitChatFloodNamedPeer). One stranger's key so costs 1/32 of what
// follows (3,125 logs at the chat's default: about 39 MB of disk, 9,400
// inodes and 12 MB of memory, measured with `go test ./applog/replicate
// -run TestFloodCost -flood 10000 -floodquota -v`), and a stranger that
// makes up keys at most half of it per run; a restart starts the shares
// afresh.
//
// What a stranger that serves made-up one-entry logs can still cost a
// writer (replicate's TestFloodCost, `go test ./applog/replicate -run
// TestFloodCost -flood 10000 -v`, ext4 on 2 shared cores): per log about
// 12 KiB of disk (a directory, a segment and an index, a block each)
// and 3 inodes, and about 3 KB of resident memory (measured with 10,000
// logs: the log's key in the table, its loaded state up to MaxLoaded,
// the session's view of the peer, and what the Go heap keeps); so at
// the chat's default of 100,000 logs about 1.2 GB of disk, 300,000
// inodes and, extrapolated, up to 300 MB of memory, written at the rate
// the disk creates files (300 to 2,000 logs a second: one to five
// minutes), once: then the limit holds and the user is told. A wanted
// log is then stored within the second (81 ms measured).
//
// The block list DIR/blocked holds lines "block ID" and "unblock ID",
// appended and fsynced by Block and Unblock from any process; the last
// line of an ID wins, a line that does not parse is skipped. A DB
// re-reads it when its size changes, looking at most every 500 ms. A
// blocked log is refused (ErrBlocked), left out of Heads (neither
// advertised nor sent to peers) and of the Feed, and listed by Logs as
// blocked. A writer deletes a blocked log's data (never the own log's),
// keeping its ordinal in the table:
//
//   - While it runs, within about a second of the block: a goroutine
//     re-reads the list every 500 ms and, for each blocked log that
//     still has data, queues a request that the group-commit leader
//     handles at the start of a round (dropLog), after the round before
//     it has published, so no round writes or syncs the log meanwhile.
//     It unloads the log, makes its state entry unknown (zeros,
//     fdatasynced: no later Open trusts its old sizes), makes the file
//     cache close its files, unmaps its indexes, removes its directory
//     and fsyncs DIR. An Iter of this process in the middle of the log
//     ends with an error matching ErrBlocked (not a CorruptError), and a
//     Feed skips the rest of the log; replication sends what it read up
//     to its last signed record and goes on with the other logs. A
//     read-only process hides the log from Heads and the Feed, and reads
//     of it fail once its open files are closed. The other logs go on
//     meanwhile.
//   - At Open, before recovery, for each blocked log whose directory
//     exists (blocked while no writer ran): it deletes the directory and
//     then the state file, so that recovery reads every log from its
//     files.
//
// While it is blocked a writer does not load the log again, so no file
// of it is made; after Unblock it loads empty, its files are made again,
// and it grows from seq 1.
//
// InsertRuns skips a run it refuses (any of the above, or a fork) and
// stores the others; IsRefused tells such errors from the rest.
//
// # Local users
//
// A database is its owner's alone (vfs.go, private.go). A writer makes
// every directory 0700 and every file 0600, whatever its umask, so other
// local users read neither a private network's history nor who talks to
// whom (TestDatabaseIsPrivate). Before it opens any file there, a
// writer Open refuses with ErrUnsafeDir, as ssh refuses a loose ~/.ssh,
// a database directory that belongs to another user (root excepted) or
// that its group or others may write: they could have planted files or
// links in it. The group may write when it is the user's private group
// (the process's own, named as the user), as Debian's ssh allows for a
// umask of 002 (TestUnsafeDirRefused). A directory that others may only
// read, as databases were made before, is made 0700 by the writer's
// Open: its files keep their modes, out of reach behind it
// (TestExistingDatabaseMadePrivate). A read-only Open neither checks nor
// changes modes.
//
// No file of the store is opened through a symbolic link at its name
// (O_NOFOLLOW, in osfile.OpenFile): LOCK, the table, the feed, the
// state, the forks file, a segment or index, the block list and
// DIR/names fail with an error matching ErrSymlink that names the file,
// and a temporary file (key.tmp, key.pub.tmp) is removed and made anew
// with O_EXCL, so a link there neither receives the key nor becomes
// the key (TestPlantedSymlinks, names.TestPlantedSymlink). The file a
// link points to is never touched.
//
// What this does not cover: a user who runs as the owner, or as root,
// reads and changes everything; the directories above the database are
// not checked, so whoever may write its parent may replace it whole;
// the small files read whole (key, key.pub, the block list) are read
// through a link, which only a user who could write the directory could
// have planted. On Windows there are no Unix modes: a directory's ACL,
// inherited from where it is made (the user's profile is the user's
// alone), decides who reads it, and no check is made. There a reparse
// point (symbolic link or junction) stands for the link: files are
// opened with FILE_FLAG_OPEN_REPARSE_POINT and refused if what was
// opened is one; making a symbolic link takes a privilege there.
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
