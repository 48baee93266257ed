// Package names is the chat's memory of who is who: bindings of a chat
// name to the log ID (the ed25519 key) that name belongs to, learned on
// first use and changed only by the user, as ssh's known_hosts binds a
// host name to a host key.
//
// # Model
//
// A [Binding] maps a name to an [applog.ID] and says how it was learned
// ([How]) and when:
//
//   - [Direct]: an authenticated connection dialled to the name, or
//     accepted from a peer that gave that name;
//   - [Claimed]: the first log whose chat entries carried the name as
//     their username;
//   - [Trusted]: set by the user ("scuttle trust NAME ID").
//
// The first binding of a name wins; a later Direct or Claimed binding of
// a bound name changes nothing. Only a Trusted binding replaces one (the
// last Trusted binding of a name wins). Names are compared as multicast
// DNS compares them (RFC 6762 §16): ASCII letters case-insensitively,
// other bytes exactly, since "Bob" and "bob" reach the same NAME.local.
//
// A name is 1 to [MaxName] bytes of UTF-8 with no space, ASCII control
// character or DEL: what the file format below can hold. Callers apply
// their own, stricter rule (the chat's is mdns.CheckName).
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
//	how   direct | claimed | trusted
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
// A hostile peer can make up names and keys at will, so the store holds
// at most Options.MaxBindings names (default [DefaultMaxBindings]);
// beyond it a Direct or Claimed binding is neither recorded nor applied
// on replay ([ErrFull]). Trusted bindings, which only the user makes, are
// always recorded. A record is at most 349 bytes, so the file and the
// memory it takes stay bounded by the bindings.
//
// # Threat model
//
// The store is trust on first use, with ssh's strengths and its
// weakness:
//
//   - A peer cannot take over a name that is bound: its key is not the
//     bound one, whatever it claims, and only a Trusted binding, which
//     the user makes on this host, moves the name (the chat refuses the
//     peer and prints the "scuttle trust" line that would accept it).
//   - A peer can be first: a name nobody here has met yet goes to the
//     first key that connects with it, or to the first log whose
//     entries reach this database carrying it, possibly relayed before
//     the real owner's. The real owner's lines then print as NAME~SHORT
//     until the user trusts them. Names are learned, not proven.
//   - A peer that makes up names and keys fills at most MaxBindings
//     names, after which no new untrusted name is bound (and the chat
//     refuses new names at connection and prints them as NAME~SHORT),
//     and costs no further disk or memory.
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
// Direct and Trusted records are fdatasync'ed before Bind returns;
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
