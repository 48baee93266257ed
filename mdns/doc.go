// Package mdns is a multicast DNS (RFC 6762) responder and resolver for
// host names under .local: Register claims NAME.local for this host and
// answers for it; LookupHost finds the addresses of another host's name.
//
// # Model
//
// A Conn owns one UDP socket per address family, bound to the wildcard
// address and port 5353 with SO_REUSEADDR and SO_REUSEPORT, so it shares
// the port with avahi-daemon, Bonjour and other scuttle processes. Each
// socket joins 224.0.0.251 or ff02::fb on every chosen interface (see
// Config) and learns from control messages the interface and
// destination of each datagram; it sends with the interface named on
// every packet, IP TTL 255 and multicast loopback on. One goroutine
// reads each socket; Close sends goodbyes, closes the sockets and waits
// for it.
//
// # Wire
//
// Messages are read with dnsmessage.Parser record by record, keeping
// only questions and A/AAAA records of class IN; a malformed record ends
// the reading of its section but not what was read before it. Messages
// over 9000 octets are dropped (§17). Answers are built with
// dnsmessage.Builder, name compression on.
//
// # RFC 6762: implemented
//
//   - §5.2 continuous querying: LookupHost queries again after 1 s, 2 s,
//     4 s… (capped at a minute) until its context ends. After an answer
//     with one address family only, it waits up to 50 ms for the other
//     (Avahi answers A over IPv4 and AAAA over IPv6, separately).
//   - §5.4 QU questions: the resolver sets the QU bit on its first query;
//     the responder unicasts answers to QU questions, and multicasts too
//     when the record was not multicast for a quarter of its TTL or the
//     question is a probe; and when the querier is on this host, since a
//     unicast to the shared port 5353 reaches just one of the sockets
//     that share it (for a local querier the multicast limit below is
//     ten a second instead of one).
//   - §5.5 queries sent to a unicast address are answered by unicast.
//   - §6 answers to A, AAAA and ANY questions, case-insensitively (§16),
//     immediately (the records are unique, so no random delay), TTL 120
//     with the cache-flush bit; at most one multicast of a name's records
//     per interface and family per second, a held-back answer being sent
//     when the second is over; probes are answered at once (§8.1).
//   - §6.2 the addresses given are those of the interface the query
//     arrived on; the other family's records go in the additional
//     section.
//   - §6.7 legacy unicast: a query from a port other than 5353 gets a
//     unicast reply to its address and port, with its ID and questions,
//     TTL 10 and no cache-flush bit.
//   - §7.1 known-answer suppression for answers the querier holds with at
//     least half the TTL left.
//   - §8.1 probing (three queries 250 ms apart after a random wait of up
//     to 250 ms), §8.2 simultaneous-probe tie-break (the loser waits one
//     second and probes again; after three losses it gives up), §8.3
//     announcing (two announcements one second apart).
//   - §9 conflicts: any answer for a name being probed fails Register
//     with a *ConflictError naming the other host; there is no automatic
//     renaming, because the name is the user's identity. Packets this
//     Conn sent itself and hears back (multicast loopback) are recognized
//     by a hash of their bytes and never count.
//   - §10 TTL cache of address records, capped at 4096 entries; §10.1
//     goodbyes (TTL 0) sent by Close and honoured by the cache (the
//     record lives one more second); §10.2 cache-flush: records of the
//     same name and family older than a second expire in one.
//   - §11 responses from a source port other than 5353 are ignored.
//   - §18.3, §18.11 messages with a non-zero OPCODE or RCODE are ignored.
//
// # RFC 6762: not implemented, and why
//
//   - Service discovery (DNS-SD, RFC 6763: PTR, SRV, TXT): scuttle needs
//     only host names.
//   - §6.1 negative responses (NSEC) for the type a host lacks: a host
//     without IPv6 addresses simply does not answer AAAA questions, and
//     the querier's retries are cheap.
//   - §7.2 multipacket known-answer lists (TC bit): a query's own known
//     answers are honoured; continuation packets are not awaited.
//   - §7.3 duplicate question suppression and §7.4 duplicate answer
//     suppression: optimizations for busy networks, not correctness.
//   - §9 after a name is established, an answer from another host with
//     other addresses is logged and answered with our own records; the
//     name is not given up nor probed again.
//   - §11 source address check (on-link) and §15 multiple responders
//     probing for the same name on one host beyond the tie-break: the
//     socket does not report the received TTL portably.
//   - §17 packets larger than the interface MTU are not split.
//   - §21 security (DNSSEC): the chat signs its own data.
package mdns
