// Package names is the chat's memory of who is who: bindings of a chat
// name to the log ID (the ed25519 key) that name belongs to, learned on
// first use and changed only by the user, as ssh's known_hosts binds a
// host name to a host key.
//
// # Model
//
// A [Binding] maps a name to an [applog.ID] and says how it was learned
// ([How]) and when. The kinds rank by the weight of their evidence:
//
//   - [Trusted]: set by the user ("scuttle trust NAME ID"): the user's
//     word, strongest;
//   - [Named]: an authenticated connection the chat dialled to a name
//     the user asked for on the command line: the user's word that the
//     name is the peer found there;
//   - [Direct]: an authenticated connection accepted from a peer that
//     gave that name (or dialled to a name nobody asked for): a live
//     connection;
//   - [Claimed]: a log whose chat entries carried the name as their
//     username: replicated content, weakest.
//
// A Trusted binding replaces any other (the last Trusted binding of a
// name wins). A Named or Direct binding replaces a Claimed one, never a
// Named or Trusted one, and a Direct one of another log (the first
// connection wins); a Named binding of the log a Direct one binds
// replaces it. A Claimed binding is made only for an unbound name, and
// only by a log that has no binding yet: a log claims at most one name.
// So a claim never blocks, outranks or locks out a connection.
//
// One spelling per name: names are compared by their [Skeleton], under
// which look-alikes collide: case (Unicode's, a superset of what
// multicast DNS folds, RFC 6762 §16), invisible and bidi characters
// (dropped), and letters that read alike (fullwidth and mathematical
// Latin, the Latin look-alikes of Cyrillic, Greek and Armenian, 0 and
// o, 1 i l and I; applog/names/glyph holds the tables). "bоb" (Cyrillic о),
// "B0B" and "bob\u200b" are bob: Lookup of any of them returns bob's
// binding, and Bind of one of them to another key changes nothing.
//
// A name is 1 to [MaxName] bytes of UTF-8 with no space, ASCII control
// character or DEL: what the file format below can hold. Callers apply
// their own, stricter rule (the chat's is mdns.CheckName, which also
// refuses invisible, bidi and C1 control characters).
//
// # File
//
// The store is one file of the database directory, DIR/names, that
// applog does not read (it ignores files it does not know; a database
// without the file has no bindings). Two processes write it at once —
// a running chat and a "scuttle trust" — without applog's writer lock:
// the file is append-only, every record is added with one write(2) on a
// descriptor opened O_APPEND, which the kernel places at the end of the
// file as a whole, and a reader takes the file's records in file order.
// The state is the replay of the file; a writer appends its record and
// then replays what it has not read yet, its own record included, so
// two processes that bind one name at once agree on the winner: the
// record that came first in the file.
//
// Each record is one line of text between newlines:
//
//	"\n" "n1" SP how SP name SP id SP time SP crc "\n"
//
//	how   direct | claimed | trusted | named
//	name  the name as first written (see above for what it may hold)
//	id    the 52-character applog ID
//	time  when it was learned, RFC 3339 in UTC to the second,
//	      e.g. 2026-12-01T09:10:11Z
//	crc   CRC-32C (Castagnoli) of the bytes from "n1" up to the space
//	      before crc, 8 lower-case hex digits
//
// for example
//
//	n1 direct bob 7hq2xk3a…(52 characters) 2026-12-01T09:10:11Z 0c4b3a1f
//
// The newline before each record is what makes damage local: a record
// torn by a crash lacks its final newline, and the next record's leading
// newline ends the torn line, so the next record is read whole. A line
// that is empty is skipped; a line longer than the longest record (349
// bytes), one that fails
// its CRC or does not parse is skipped and reported (Options.Logger at
// Warn, and Store.Damaged), never the lines after it. An unfinished last
// line (no newline yet) is not read until it is finished or followed by
// another record.
//
// # Bounds
//
// A hostile peer can make up names, keys and logs at will, so every kind
// of binding but the user's has a bound of its own, and a claim never
// takes the room of a connection:
//
//   - at most Options.MaxBindings Direct bindings (default
//     [DefaultMaxBindings]); beyond it a new Direct binding is neither
//     recorded nor applied on replay ([ErrFull]), and the chat lets the
//     peer in unbound;
//   - at most Options.MaxClaimed Claimed bindings (default
//     [DefaultMaxClaimed]); a new claim beyond it evicts the oldest, in
//     the file's order, so every process replaying the file agrees;
//   - at most MaxClaimed Claimed records in the file: past them a claim
//     is held in the memory of the Store that made it only (the chat
//     makes its claims anew from the history it prints at each start);
//   - Trusted and Named bindings, which only the user makes (a Named one
//     per name given on the command line), are always recorded, and
//     never count against MaxBindings: a flood of keys that connect
//     cannot leave the names the user asks for without room
//     (TestNamedRoom).
//
// A record is at most 349 bytes, so the file holds at most
// (MaxBindings + MaxClaimed) records beyond the user's, about 3.8 MB at
// the defaults, and the memory is bounded alike. A flood of 100,000
// usernames leaves one record if one log writes them all, and 1,000
// (about 100 KB) if 100,000 one-entry logs do (TestFloodFigures).
//
// # Threat model
//
// The store is trust on first use, with ssh's strengths and its
// weakness, and evidence ranks:
//
//   - A peer cannot take over a name that is bound Direct, Named or
//     Trusted: its key is not the bound one, whatever it claims, and
//     only a Trusted binding, which the user makes on this host, moves
//     the name (TestRules; the chat refuses the peer and prints the
//     "scuttle trust" line that would accept it: topology/chat
//     TestAuthorize).
//   - A look-alike of a bound name is that name (TestLookAlikes,
//     FuzzSkeleton): it finds the bound binding, so its lines print as
//     NAME~SHORT and its connection is refused.
//   - A log reached only through relays can claim a name nobody here
//     has met, but the claim never blocks the name's owner: the first
//     connection to present the name takes it (TestClaimNeverBlocksDirect;
//     topology/chat TestUnitChatRelayedClaim), and a log claims one name
//     only (TestOneClaimPerLog).
//   - A peer can still be first, for a name the user did not give: a
//     name nobody here has met goes to the first key that connects with
//     it. The real owner's lines then print as NAME~SHORT until the user
//     trusts them. Connections prove keys, not names. A name the user
//     gave on the command line is the chat's business: it binds it only
//     to the key its own dial of the name reaches (Named), so a stranger
//     that connects first, writes under it through a relay or floods it
//     with fresh keys gets nothing (topology/chat
//     TestUnitChatReservedStrangerFirst, TestUnitChatReservedRelayed,
//     TestUnitChatReservedFlood). Whoever answers for NAME.local when
//     the chat first dials it is still believed: the dial proves a key,
//     and multicast DNS says where to dial.
//   - A flood of made-up names or logs fills the claims, which are
//     evicted oldest first, and never the room of connections
//     (TestClaimFloodEvicted); a flood of made-up keys that connect
//     fills at most MaxBindings Direct bindings, after which new peers
//     are let in unbound, while the names the user asks for are still
//     bound when dialled (TestNamedRoom; topology/chat
//     TestAuthorizeNamedRoom). Neither costs disk or memory beyond the
//     bounds.
//   - The file is as trusted as the database directory: whoever can
//     write DIR/names can bind any name, as whoever can read DIR/key can
//     write as its owner. Damage to it costs the damaged records only.
//   - Other local users cannot read or redirect the file: it is made
//     0600 (TestFileIsPrivate) and never opened through a symbolic link
//     at its name (the error matches applog.ErrSymlink;
//     TestPlantedSymlink); see "Local users" in applog's doc.
//
// # Durability
//
// Direct, Named and Trusted records are fdatasync'ed before Bind returns;
// Claimed ones are not, since a crash that loses one loses nothing the
// logs cannot tell again (the chat claims the names anew from the
// entries it prints).
//
// # Reloading
//
// A Store notices records that another process appended: Lookup checks
// the file's size and modification time at most once a second ([Recheck])
// and replays what is new; Reload does so at once. A file that shrank or
// was replaced is replayed from its start.
package names
