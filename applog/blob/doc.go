// Package blob is the store of the files shared in scuttle's chat: a
// file is content-addressed, as Secure Scuttlebutt's blobs are, and
// moved in verified blocks that resume from what is on disk, as
// Syncthing's are. A log holds only a small entry naming the file (see
// Entry); the bytes live in the database's blobs/ directory.
//
// # Model
//
// A file is cut into blocks of BlockSize (256 KiB) bytes, the last one
// holding the rest (1 to BlockSize bytes; an empty file has no block).
// Its manifest is its size and the SHA-256 of each block; its content id
// ([ID]) is the SHA-256 of the manifest's encoding. So the id commits to
// every byte, a manifest fetched from anyone is checked against the id by
// one hash (Manifest.Check), and then each block is checked against its
// own hash before it is written (Store.WriteBlock): a bad block costs
// that block from that peer, never the file.
//
// The block size was measured: hashing and storing 64 MiB (copy through
// SHA-256 into a file, then fdatasync; BenchmarkBlockSize, go test
// -bench BlockSize -benchtime 10x -count N) gave medians of 300, 338 and
// 299 MB/s for 128 KiB, 256 KiB and 1 MiB blocks in one run of 3, and
// 423, 384 and 403 MB/s in a run of 5 (2 shared CPUs): the order changes
// between runs, and the spread within a size is as large as between
// sizes, since SHA-256 of every byte costs the same whatever the cut.
// Speed does not decide, so the size is chosen for the rest: 256 KiB
// bounds what a kill -9 or a bad peer costs and what a frame in flight
// holds (one block plus its header) at a quarter of 1 MiB, while
// keeping half the manifest of 128 KiB blocks: 32 bytes per block, 1/8192
// of the file (128 KiB for 1 GiB), and files up to 16 GiB within
// MaxBlocks. Syncthing allows 128 KiB to 16 MiB.
//
// # Format
//
// A manifest, and so the bytes an id hashes, all integers little endian:
//
//	0                     16       24          28
//	+---------------------+--------+-----------+--------+--------+- - -
//	| "scuttle blob v1\n" |  size  | blocksize | hash 0 | hash 1 | …
//	+---------------------+--------+-----------+--------+--------+- - -
//	  16 bytes (ASCII)      u64      u32         32 bytes each, one per block
//
//	id = SHA-256(manifest)
//
// The 16-byte prefix separates the domain: no other hash scuttle makes
// starts with it. A sealed file's manifest (see "Sealed files") starts
// "scuttle blob s1\n" instead, and is otherwise the same over its
// ciphertext: whether a file is sealed is part of its id, so the same
// bytes stored plain and sealed have two ids (TestSealedRoundTrip). blocksize is 262144 in version 1, and ParseManifest
// refuses any other; size is at most MaxSize (16 GiB, MaxBlocks blocks),
// and exactly ceil(size/blocksize) hashes follow. An id prints as 52
// characters of lower-case base32 without padding, like a log's id.
// testdata/vectors.txt lists the ids of six files made by a fixed
// generator (TestVectors), around the block boundaries.
//
// # Store
//
//	DIR/blobs/                 mode 0700
//	  ID                       a complete file, mode 0600
//	  ID.part                  a partial one, at its full size (sparse), mode 0600
//	  ID.man                   the manifest of either, mode 0600
//	  ID.src                   the logs whose entries name it, mode 0600 (see "Sources")
//	  ID.key                   a sealed file's key, 32 bytes, mode 0600 (see "Sealed files")
//	  tmp-*                    Add's copy under way; removed after an hour
//	  outbox/TIME-RAND.entry   a file entry queued for the own log (Queue, Drain)
//
// Add copies a local file in a block at a time, hashing as it goes, into
// a temporary file, syncs it, writes the manifest, and renames it to its
// id. Begin starts a file to be fetched: it writes the manifest and
// creates ID.part. WriteBlock verifies a block against the manifest and
// writes it at its offset in ID.part, without syncing; the last block
// syncs the file and renames it ID. Nothing on disk records which
// blocks are written: a file just begun is known to hold none
// (TestBeginNoRehash), and after a crash or a restart the first use of a
// partial file re-hashes its blocks against the manifest (as Syncthing's reuseBlocks
// does), so the blocks found are exactly those whose bytes reached the
// disk whole. A kill -9 loses nothing the OS had accepted; a power loss
// loses the blocks not yet synced, and a torn block is re-fetched
// (TestResume). Memory does not grow with a file's size beyond its
// manifest and a bitmap (32 bytes and 1 bit a block): copying and
// re-hashing use one block buffer (TestAddMemory); at most 32 partial
// files' states are kept, the others re-hashed when next used.
//
// Every file is opened without following a symbolic link at its name
// (internal/osfile, as applog's own files), and blobs/ itself must not be
// one (TestSymlinks); new files are made by O_EXCL or renamed into
// place; ID.src and ID.key are replaced whole (temporary file, sync,
// rename). Other processes may Add, AddSealed, SetKey, Open, Have and
// List while a chat runs on the database; only the database's writer
// fetches (Begin, WriteBlock) and changes sources (AddSource, Purge,
// RemoveBy). Since a running chat holds the own log, scuttle send
// queues the file's entry in outbox/ (Queue), and whoever writes the own
// log appends it (Drain): at least once, in queueing order (TestOutbox).
//
// Blocks of one file may be written from several goroutines at once;
// the file is finished (synced, renamed) once, by whichever writes last
// (TestWriteBlockConcurrent), and a partial file found whole after a
// crash between the last write and the rename is finished on first use
// (TestResumeAllWritten).
//
// # Sources
//
// A peer serves only files whose entries it holds and whose author it
// has not blocked, and blocking a log deletes its files. So the store
// records, per file, which logs' entries name it: ID.src, the line
// "scuttle blob sources v1" and then one log id per line, sorted,
// unique, each line ended by a newline, at most MaxSources (16) of them
// (872 bytes), so a file's record stays small however many logs name
// it; a 17th is not recorded (ErrTooManySources) and the file is kept
// for the 16 (TestSources, TestParseSources, FuzzParseSources). The
// writer calls AddSource once it holds something of the file (after
// Add, AddSealed or Begin) for the own log (scuttle send, through the
// outbox) and for each log whose entry names it; a sources file found
// damaged is started again, as the record is derived from the logs.
//
// Serves(id, held) is the serving rule: the manifest is here and some
// recorded source is held, where the caller's held says the database
// holds that log and does not block it (TestPurge). A file with no
// source recorded (added before sources were, or whose writer stopped
// between Begin and AddSource) is not served.
//
// Purge(blocked) applies the block list: it deletes every file, complete
// or partial, with its manifest, sources and key, whose recorded sources
// are all blocked, and forgets the blocked sources of the others; a file
// named by two logs survives the block of one (TestPurge). A file with
// no source recorded is kept. RemoveBy(author) is Purge of one log.
// Purge reads the directory 256 names at a time, skips a sources file it
// cannot read, keeping its file, and reports it (TestPurgeDamaged).
// scuttle block calls it when no chat runs; a running chat's outbox
// loop (package main) calls it whenever the block list changes, within
// two seconds of scuttle block or /block.
//
// # Sealed files
//
// A file shared in a private room or with a person is sealed: its
// blocks are relayed and stored by every peer, like any file's, so it is
// encrypted before it enters the store (AddSealed), and only those who
// can open its entry can read it. AddSealed makes a fresh random 32-byte
// key (crypto/rand) and seals the file with AES-256-GCM in chunks of
// BlockSize-16 bytes of plaintext, so that each chunk's ciphertext and
// tag is exactly one block (the last one shorter) and the store's
// cutting, hashing, fetching and resuming apply unchanged:
//
//	block i  = AES-256-GCM(key, nonce = i as 96 bits big-endian,
//	                       chunk i, additional data = "scuttle blob s1\n" ‖ last)
//
// where last is one byte, 1 for the last block and 0 for the others. An
// empty file is one block of 16 bytes (its tag). A key seals one file,
// so no nonce repeats under a key; the nonce orders the blocks, and last
// makes a file cut at a block boundary fail (the STREAM construction).
// The manifest and the id are over the ciphertext, with the sealed
// prefix; the ciphertext is at most MaxSize, the plaintext MaxSealedSize
// (65,536 × 16 bytes less). The quota and the floor count the
// ciphertext (TestSealedRefusals). Sealing streams as Add does, with one
// more block buffer (TestSealedMemory). AES-GCM is one more pass over
// every byte beside SHA-256: with a 64 MiB file, AddSealed ran at 0.79× the speed of
// Add and CopySealed at 0.49× that of Copy (medians of 3, 212 against
// 270 MB/s and 222 against 450 MB/s, 2 shared CPUs; go test -run X
// -bench 'BenchmarkAdd$' -benchtime 5x -count 3).
//
// The key travels in the file's entry ("key", see "Log entry"), which
// the chat seals (applog/seal) for the room or the persons; the store
// keeps it as ID.key, written by AddSealed and by SetKey, which the chat
// calls when it opens the sealed entry of a file the store holds.
// scuttle get opens the file with it (CopySealed), and without it exits
// 1 saying the file is sealed and its key is not here; OpenSealed gives
// a reader of the content, for whoever shows it (the web interface). A
// block that does not open stops both before any byte of it is given
// out. A receiver checks
// the manifest against the entry (Entry.Matches: sealed alike, and the
// content's size, Manifest.PlainSize) before Begin.
//
// # For the fetcher
//
// The network part (frames, several peers) is applog/replicate's
// Fetcher, which uses the store as follows. A receiver asks a peer for
// the manifest of an id and keeps it only if Manifest.Check passes;
// Begin checks the quota and the floor against its size; Have's bitmap
// says which blocks to ask for, of whom; each block received goes to
// WriteBlock, whose ErrBadBlock means "drop this peer for this file and
// ask another". A server answers with Manifest and ReadBlock, which serves only whole
// blocks that pass their hash, from complete files or the blocks a
// partial one has (TestReadBlock). A frame need hold no more than one
// block and its header.
//
// # Limits
//
// Add and Begin refuse, before writing anything, a file that would take
// the store past Options.MaxBytes (ErrQuota; partial files count at their
// full size), or leave the file system with less free space than
// applog.FreeSpaceFloor, the floor applog keeps for peers' logs
// (ErrLowSpace; TestRefusals). Each error says the figures.
//
// # Log entry
//
// A shared file is one entry in its author's log, JSON like a chat line
// but with "kind" set:
//
//	{"kind":"file","name":"slides.pdf","size":2100000,"media":"application/pdf","id":"…52 chars…"}
//
// name is the base name at the author's, media the media type
// (MediaType: by extension, else by the first 512 bytes), size the
// content's bytes. A sealed file's entry ends with its key, 52
// characters of base32 like an id, and belongs inside a sealed payload:
//
//	{"kind":"file","name":"plans.txt","size":650000,"media":"text/plain; charset=utf-8","id":"…","key":"…52 chars…"}
//
// ParseEntry refuses a key that is not 32 bytes in that text, or zero,
// and a sealed size past MaxSealedSize (TestSealedEntry, FuzzParseEntry). A receiver
// prints it as one line (Entry.Line):
//
//	alice> [file] slides.pdf (2.1 MB) ID
//
// with the id in full, as scuttle get takes it.
//
// # Threat model
//
// Everything in an entry, and every manifest and block, comes from a
// peer who may lie.
//
//   - A peer sending bad blocks: each block is checked (length and
//     SHA-256) against the manifest before a byte is written, and the
//     manifest against the id; a bad block fails with ErrBadBlock naming
//     the block and both hashes, and the partial file is unchanged
//     (TestWriteBlockBad). The fetcher (applog/replicate) drops that
//     peer for the file and asks another.
//   - A huge claimed size: a manifest of more than MaxSize is refused by
//     ParseManifest before anything is allocated, and its length must be
//     exactly one hash per block (TestManifestRoundTrip,
//     FuzzParseManifest); an entry's size is bounded alike, and the
//     entry itself to MaxEntryLen bytes (TestParseEntryRefuses,
//     FuzzParseEntry). A size within bounds is still refused by the
//     quota and the free-space floor before any space is taken
//     (TestRefusals).
//   - A name with escapes (a terminal control sequence, a path): a name
//     is never used as a path (scuttle get writes to standard output or
//     to the file the user names), and Line passes the author and the
//     name through the escaping function its caller gives, which is
//     chat.Escape: applog may not import the chat, so the caller
//     escapes.
//   - A local user who can write to the database directory: blobs/ is
//     0700 and its files 0600, ID.src and ID.key too (TestSources,
//     TestSealedRoundTrip), and no symbolic link is followed
//     (TestSymlinks, TestSidecarSymlinks); applog's own checks of the
//     directory apply.
//   - A network member, or a relay, who holds or fetches every block of
//     a sealed file but cannot open its entry: it holds ciphertext only,
//     and learns the file's size to within 16 bytes a block, when it was
//     shared and by whom (the entry's log), not one byte of its content;
//     the store of neither the sender nor the relay holds any plaintext
//     (TestSealedNotForOthers). A changed, reordered, cut or extended
//     block does not open, and no byte of it is written out
//     (TestSealedTampered); the id, over the ciphertext, already makes
//     every peer refuse such a block (TestWriteBlockBad).
//   - Many logs naming one file (to keep it served, or to grow its
//     record): its record holds at most MaxSources logs (TestSources).
//     Blocking a log deletes the files it alone named, and stops it from
//     keeping a file served (TestPurge; TestBlockRemovesFiles in package
//     main for scuttle block and the chat's loop).
//   - Whoever can read a sealed file's entry can read the file, for as
//     long as they hold its blocks: removing someone from a room does
//     not take back what they were given.
//
// A file's bytes are as public as its entry: a file shared in the public
// room is readable by any member of the network; one shared sealed, by
// those who can open its entry.
package blob
