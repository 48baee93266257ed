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
// starts with it. blocksize is 262144 in version 1, and ParseManifest
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
// place. Other processes may Add, Open, Have and List while a chat runs
// on the database; only the database's writer fetches (Begin,
// WriteBlock). Since a running chat holds the own log, scuttle send
// queues the file's entry in outbox/ (Queue), and whoever writes the own
// log appends it (Drain): at least once, in queueing order (TestOutbox).
//
// Blocks of one file may be written from several goroutines at once;
// the file is finished (synced, renamed) once, by whichever writes last
// (TestWriteBlockConcurrent), and a partial file found whole after a
// crash between the last write and the rename is finished on first use
// (TestResumeAllWritten).
//
// # For the fetcher
//
// The network part (frames, several peers) is applog/replicate's
// Fetcher, which uses the store as follows. A receiver asks a peer for
// the manifest of an id and keeps it only if Manifest.Check passes; Begin checks the quota and
// the floor against its size; Have's bitmap says which blocks to ask
// for, of whom; each block received goes to WriteBlock, whose
// ErrBadBlock means "drop this peer for this file and ask another". A
// server answers with Manifest and ReadBlock, which serves only whole
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
// (MediaType: by extension, else by the first 512 bytes). A receiver
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
//     0700 and its files 0600, and no symbolic link is followed
//     (TestSymlinks); applog's own checks of the directory apply.
//
// A file's bytes are as public as its entry: a file shared in the public
// room is readable by any member of the network; sealing files for
// private rooms comes with them.
package blob
