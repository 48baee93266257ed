// Package seal makes entries of a log that only their recipients can
// read: private messages sealed to the encryption keys of a few logs'
// authors, and lines of private rooms sealed with a room's key. A sealed
// entry is an ordinary entry of its author's log (signed, hash-chained,
// stored and forwarded by every peer like any other), whose bytes are a
// payload of this package.
//
// # Model
//
// Each user has an encryption key beside the log key: an X25519 key
// pair whose public half is published as an entry of the own log (a
// key entry, KeyEntry), so it is signed by the log's key and reaches
// everyone with the log. The private halves, every generation of them,
// are kept in the database directory (Keyring, the file DIR/sealkeys,
// mode 0600). "scuttle rekey" makes a new generation (Keyring.Rekey):
// from then on others seal to it; the older ones are kept, so what was
// sealed to them still opens (TestRekeyKeepsHistory). The first key is
// made and published by Keyring.Publish, which "scuttle rekey" calls
// and the chat is to call when it starts, so that whoever chats can be
// written to; "scuttle append" never publishes one, as its entries are
// exactly the ones it is given.
//
// A private message (Seal) is sealed to its recipients and to its
// author, so the author reads their own history: a random content key
// per message, wrapped for each recipient key with HPKE (RFC 9180), and
// the text under a key derived from it. A room (Room) is a random
// 32-byte key with an ID and an epoch: its lines (SealLine) are sealed
// with it; it is given to its members by a private message carrying the
// key (Invite); removing a member rotates it (Room.Rotate, then Invite
// to the members that remain), so the removed member cannot read what is
// written after.
//
// Open opens a payload with the identities it is given (private keys,
// newest first, and room keys). A reader finds what is its own without
// trying to decrypt anything: each wrapped key carries a short tag that
// only the author and that recipient can compute, and a room line a tag
// that only the room's members can; no recipient is named in clear.
// Recognising that a payload is not for a reader costs one AES block per
// identity held and a comparison with each tag (BenchmarkNotForMe), and
// the one stanza that is theirs is the only one opened
// (TestRecognitionOpensOne).
//
// Every key is bound to the context a payload belongs to (Context): the
// log it is an entry of (its author) and the network it was written in.
// A payload copied into another log, network or room does not open
// (TestReplayRefused).
//
// # Use
//
// A program that writes and reads sealed entries (the chat):
//
//   - at start, under the database's writer lock: kr := OpenKeyring(dir)
//     and kr.Publish(db), which makes and publishes the first key if
//     there is none;
//   - for every entry it reads, of any log: Directory.Note, which keeps
//     each log's newest published key; and, for a payload (IsSealed),
//     Open with Context{Author: the entry's log, Network:
//     NetworkID(network key)} and the identities kr.Keys() and
//     Rooms.Identities(), then Rooms.Learn of what opened, which keeps
//     the room keys given to it;
//   - a private message: Seal(ctx, kr.Current(), recipients, text),
//     each recipient from Directory.Recipient (a log with no key yet
//     cannot be written to), appended to the own log;
//   - a room: NewRoom, then Invite(ctx, kr.Current(), nil, room) to give
//     the key to oneself; a new member: Invite to every member and the
//     new one, with RoomInfo.Current; a line: SealLine with
//     RoomInfo.Current; removing a member: Invite of Current.Rotate() to
//     the members that remain.
//
// Names in a room key (Room.Name) and recipients' texts are the
// author's bytes, to be escaped like any other before a terminal.
//
// # Choice of KEM
//
// X25519 alone (DHKEM(X25519, HKDF-SHA256)), not the hybrid
// ML-KEM-768 + X25519 (X-Wing, draft-ietf-hpke-pq), by measure
// (BenchmarkKEM, go test -run X -bench KEM -benchtime 300x -count 3
// ./applog/seal): a wrapped key is 80 bytes against 1,168 (14.6×), a
// published key 32 bytes against 1,216; an open costs about twice as
// much (48–50 µs against 102–113 µs on the development machine, 2 shared
// CPUs) and a wrap 1.4× (84–99 µs against 124–130 µs); the overhead of a
// private message to 10 people would grow from 1,362 bytes to 13,330. The recognition tags need a static Diffie-Hellman between the
// author's and the recipient's keys, which ML-KEM does not give, so a
// hybrid would have protected the content only, not who writes to whom.
// What this gives up: an adversary who records sealed entries today and
// has a quantum computer later reads them. The key entry names its KEM
// and the format has a version, so a later version can add a hybrid
// generation through "scuttle rekey".
//
// # Algorithms
//
// HPKE (RFC 9180) in mode_base (0x00) with the suite KEM 0x0020
// DHKEM(X25519, HKDF-SHA256), KDF 0x0001 HKDF-SHA256, AEAD 0x0002
// AES-256-GCM, one single-shot Seal per wrapped key (no additional
// data). Besides it: HKDF-SHA256 (RFC 5869), AES-256-GCM, AES-256 on
// one block, X25519, HMAC-SHA256, all from Go's standard library.
// The context starts the info of every derived key:
//
//	ctx = "scuttle seal v1 " ‖ u8 len(network) ‖ network ‖ author (32)
//
// author is the ed25519 public key of the log (the applog ID's bytes);
// network is empty for the public network, else NetworkID(key) =
// HMAC-SHA256(network key, "scuttle seal v1 network"), 32 bytes.
//
// A direct payload, to keys R1…Rn (the author's own key A among them,
// first), with a random content key ck (32 bytes) and nonce (16 bytes):
//
//	pair(A, R) = HKDF-SHA256(secret X25519(a, R), no salt,
//	                         "scuttle seal v1 pair" ‖ A ‖ R)       32 bytes
//	tag(A, R)  = AES-256-Encrypt(pair(A, R), nonce)[:8]
//	wrap(R)    = HPKE.Seal(R, info = ctx ‖ "scuttle seal v1 wrap" ‖ prefix, ck)
//	             = enc (32) ‖ ciphertext of ck (48)
//	body key   = HKDF-SHA256(secret ck, salt nonce, ctx ‖ "scuttle seal v1 body")
//	body       = AES-256-GCM(body key, nonce 0^12, plaintext, additional data = header)
//
// where prefix is the payload's bytes from the magic through A, and
// header its bytes from the magic through the last stanza. The
// recipient computes pair(A, R) as X25519(r, A) with its own private
// key r and the A that the payload carries.
//
// A room line, with the room's key K, ID (16 bytes), epoch (u32) and a
// random nonce (16 bytes):
//
//	room = ID ‖ epoch (u32, big-endian)
//	tag key  = HKDF-SHA256(secret K, no salt, "scuttle seal v1 room tag" ‖ room)
//	tag      = AES-256-Encrypt(tag key, nonce)[:8]
//	body key = HKDF-SHA256(secret K, salt nonce, ctx ‖ "scuttle seal v1 room body" ‖ room)
//	body     = AES-256-GCM(body key, nonce 0^12, plaintext, additional data = header)
//
// Every body key is used once: it is derived from a fresh random nonce
// (and, for a direct payload, a fresh content key), so the fixed AEAD
// nonce is never reused with a key.
//
// # Format
//
// All integers big-endian. A payload is at most MaxPayload bytes (an
// entry of a log). A direct payload:
//
//	off  size    field
//	0    5       magic "\x00seal"
//	5    1       version 0x01
//	6    1       kind 0x01 (direct)
//	7    16      nonce
//	23   32      A, the author's encryption public key
//	55   1       n, the number of stanzas, 1 to MaxRecipients+1
//	56   n × 88  stanzas: tag (8) ‖ enc (32) ‖ wrapped ck (48)
//	…    ≥ 16    body: AES-256-GCM ciphertext and tag
//
// Its plaintext:
//
//	content type (1): 0x01 text, 0x02 room key
//	r (1), 0 to MaxRecipients: the recipients listed
//	r × 32  the recipients' log keys (ed25519), the author not listed
//	…       content: the text, or a room key
//
// A room key (content type 0x02) is ID (16) ‖ epoch (u32) ‖ key (32) ‖
// u8 len(name) ‖ name (1 to MaxRoomName bytes).
//
// A room line:
//
//	0    5       magic "\x00seal"
//	5    1       version 0x01
//	6    1       kind 0x02 (room line)
//	7    16      nonce
//	23   8       tag
//	31   ≥ 16    body, whose plaintext is content type 0x01 ‖ text
//
// A key entry (KeyEntry), 43 bytes:
//
//	"\x00sealkey" (8) ‖ version 0x01 ‖ KEM id u16 0x0020 ‖ X25519 public key (32)
//
// The newest key entry of a log is its author's current key. The NUL
// that starts both keeps a payload from reading as a chat line (JSON)
// or as text. testdata/vectors.txt holds payloads, keys, contexts and
// the expected outcome of each (an "expect:" line), made by TestVectors,
// which also checks that the code makes exactly those bytes.
//
// # Keyring file
//
// DIR/sealkeys: "\x00sealkeys" (9) ‖ version 0x01 ‖ n u16 ‖ n ×
// (X25519 private key (32) ‖ seq u64) ‖ CRC-32C (u32) of what precedes,
// oldest first; seq is the own log's entry that published the key, 0
// while unpublished. At most MaxKeys keys. It is replaced whole (a
// temporary file made 0600 with O_EXCL, fdatasync, rename, directory
// sync), never opened through a symbolic link at its name
// (TestKeyringPlantedSymlink), kept 0600 (TestKeyringFileIsPrivate),
// and refused when damaged rather than guessed at (TestKeyringDamage).
// A new key is saved before it is published and its seq after, so a
// crash between leaves a key that the next Publish publishes
// (TestPublishAfterCrash). Only a process holding the database's writer
// lock changes it.
//
// # What an outsider learns
//
// Whoever holds a sealed entry without being its recipient (any peer of
// the network, any relay) learns: its author (the log it is in) and its
// time, as of every entry; that it is sealed, and whether it is a direct
// payload or a room line; for a direct payload, the number of stanzas
// (recipients + 1) and which of the author's published keys sealed it;
// and its size, which is the text's length plus a fixed overhead (no
// padding): 282 bytes for one recipient, 1,362 for ten, 12,162 for a
// hundred (88 per stanza plus 32 per listed recipient), 48 for a room
// line (BenchmarkSeal, BenchmarkRoomLine). Not who the recipients are:
// the tags are pseudo-random under keys only the pair knows, fresh per
// message, so two messages to the same person share nothing visible,
// and no key or ID of a recipient appears (TestNoRecipientInClear); nor
// which room a line belongs to, nor whether two lines are of one room.
//
// # Threat model
//
// A stranger on the LAN, outside a private network, sees only TLS
// between members and is refused by the membership proof (topology
// TestNetworks), so it never holds a sealed entry; in the public
// network a stranger is a member. A network member who is not a
// recipient, and a relay, which stores and forwards the sealed entry
// like any other:
//
//   - cannot read it: a non-recipient's Open fails with ErrNotForMe and
//     makes no HPKE open (TestNonRecipientCannotOpen);
//   - cannot tell who it is for (TestNoRecipientInClear), only what the
//     section above lists;
//   - cannot change it: the entry is signed by its author, so a changed
//     record is refused by every peer (applog TestInsertTamper), and any
//     change to a payload, down to one bit, is refused by Open as well
//     (TestTamperedRefused);
//   - cannot replay it as their own entry, in another network or in
//     another room: author, network and room are bound into its keys
//     (TestReplayRefused);
//   - can withhold or delay it, as any entry; can seal messages of its
//     own to anyone whose key it has;
//   - cannot make a reader spend: recognising an entry not for it costs
//     the reader under a microsecond (BenchmarkNotForMe), and "scuttle
//     read" over 1M entries, 90 % of them others' private messages,
//     takes less time than over 1M public ones (TestSealFigures).
//
// A recipient reads the message and the recipients its author listed,
// which are the author's word: the author could seal to a key it does
// not list. A recipient cannot compute the other recipients' tags.
//
// A room member can do what the room's creator can: give the key to
// anyone (Invite), or rotate it and give the new key to whom it chooses,
// as it could forward what it reads. Membership is whom the key was
// given to, as the room key messages list it (Message.Recipients), not
// a rule the format enforces.
//
// A removed room member keeps the keys of the epochs it was given, and
// reads the lines sealed with them; it receives no later key and cannot
// read a line sealed after the rotation, though its database holds the
// bytes (TestKickRotation). Lines written with the old key by a member
// who has not yet seen the rotation remain readable to it.
//
// A later holder of a stolen database, or of its keyring, reads every
// message ever sealed to any generation it holds, and every room line of
// every epoch whose key was sealed to them. There is no forward secrecy:
// rekey protects messages sealed after it, not before. Nor is there
// deniability: entries are signed.
//
// Not offered: hiding metadata (author, time, size, number of
// recipients), forward secrecy for past messages once a private key is
// stolen, post-quantum confidentiality (see "Choice of KEM"), proof that
// a published key is its publisher's (a member can publish another's
// key as its own; messages sealed to it are then readable by that key's
// owner, never by the publisher).
package seal
