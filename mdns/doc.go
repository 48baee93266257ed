// Package mdns is a multicast DNS (RFC 6762) responder and resolver for
// host names under .local, with DNS-based service discovery (RFC 6763)
// on top: Register claims NAME.local for this host and answers for it;
// LookupHost finds the addresses of another host's name;
// RegisterService advertises a service instance such as
// alice._scuttle._tcp.local; Browse lists a service type's instances as
// they come and go; LookupService finds one instance's port.
//
// # Model
//
// A Conn owns one UDP socket per address family (on Windows, one per
// interface and family: see Operating systems below), bound to the
// wildcard address and port 5353 with SO_REUSEADDR and SO_REUSEPORT, so
// it shares the port with avahi-daemon, Bonjour and other scuttle
// processes. Each socket joins 224.0.0.251 or ff02::fb on every chosen
// interface (see Config) and learns from control messages the interface
// and destination of each datagram; it sends with the interface named
// on every packet, IP TTL 255 and multicast loopback on. One goroutine
// reads each socket; Close sends goodbyes, closes the sockets and waits
// for it. Stats counts each interface's datagrams (sent, own heard
// back, from this host, from others) for diagnostics.
//
// # Operating systems
//
// Linux and macOS read the interface and destination of each datagram
// from IP_PKTINFO (IPV6_PKTINFO) and name the interface of each write
// the same way. On macOS, mDNSResponder holds port 5353 with
// SO_REUSEPORT; since this Conn sets it too, both hear every multicast.
// FreeBSD and the other BSDs read IP_RECVIF and IP_RECVDSTADDR, but
// x/net drops the interface of an IPv4 write there, so the IPv4 socket
// sets IP_MULTICAST_IF before each multicast it sends, under a lock.
//
// Windows gives x/net no control messages at all. There a Conn opens one
// socket per interface and family (ifacesocks.go), sharing port 5353
// with SO_REUSEADDR (Windows' own responder and Bonjour share it the
// same way), joined to the group on its interface and sending multicast
// out of it: Windows hands a multicast datagram to the sockets that
// joined its group on the interface it arrived on, so the socket names
// the interface. What that cannot give:
//
//   - §5.5: the destination address is not known, so a query sent to
//     this host's unicast address is answered as a multicast query is
//     (by multicast, and by unicast too for a QU question) instead of by
//     unicast alone.
//   - §6.2 for unicast: a unicast datagram to port 5353 (a direct query,
//     or the reply to our QU question) reaches just one of the sockets
//     sharing the port, whichever its interface. From an IPv6
//     link-local address, its zone names the interface and is used;
//     from an IPv4 address, the socket's interface is assumed, so on a
//     host with several interfaces the answer to a direct IPv4 query may
//     carry the addresses of another interface.
//
// # Wire
//
// Messages are read with dnsmessage.Parser record by record, keeping
// only questions and A, AAAA, PTR, SRV and TXT records of class IN (at
// most 64 per section, 64 strings per TXT record); a malformed record
// ends the reading of its section but not what was read before it. Messages
// over 9000 octets are dropped (§17). A query's known answers count as
// its whole list (§7.3) only when every record the header counts was
// read (TestAllAnswers). Answers are built with
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
//   - §7.3 duplicate question suppression, for the queries of Browse and
//     LookupService (dupquestion.go): when another host multicast a QM
//     question this Conn is about to ask, on the same interface and
//     family, within half the gap since this Conn last asked it (at
//     least a second), in a query without the TC bit whose known answers
//     were all read and hold no record of the question that this Conn
//     would not list itself (in its cache with half its TTL left, §7.1)
//     or does not own (its own instances, never in its cache), this Conn
//     leaves the question out there and counts it as asked: the other
//     query draws the same answers, by multicast. Browsers of a room
//     started together then send one PTR query per round, not one each
//     (TestDuplicateQuestion, TestDuplicateInstanceQuestion,
//     TestDuplicateQuestionOwn, TestDuplicateQuestionRoom: eight
//     browsers, 6 QM queries per family in 64 s instead of 48;
//     TestBrowseRoomFigures measures 32 netlab hosts).
//   - §8.1 probing (three queries 250 ms apart after a random wait of up
//     to 250 ms), §8.2 simultaneous-probe tie-break (the loser waits one
//     second and probes again; after three losses it gives up), §8.3
//     announcing (two announcements one second apart).
//   - §9 conflicts: any answer for a name being probed fails Register
//     with a *ConflictError naming the other host; there is no automatic
//     renaming, because the name is the user's identity (scuttle
//     announce exits with the error; the chat runs on without the name
//     and claims it again later, see topology/chat's Advertise). Packets this
//     Conn sent itself and hears back (multicast loopback) are recognized
//     by a hash of their bytes and a source address of this host, and
//     never count (the bytes alone are not enough: another host's query
//     is often identical to one of ours).
//   - §10 TTL cache of address records, capped at 4096 entries; §10.1
//     goodbyes (TTL 0) sent by Close and honoured by the cache (the
//     record lives one more second); §10.2 cache-flush: records of the
//     same name and family older than a second expire in one.
//   - §11 responses from a source port other than 5353 are ignored.
//   - §18.3, §18.11 messages with a non-zero OPCODE or RCODE are ignored.
//
// # RFC 6762: not implemented, and why
//
//   - §6.1 negative responses (NSEC) for the type a host lacks: a host
//     without IPv6 addresses simply does not answer AAAA questions, and
//     the querier's retries are cheap.
//   - §7.2 multipacket known-answer lists (TC bit): a query's own known
//     answers are honoured; continuation packets are not awaited.
//   - §7.4 duplicate answer suppression: each DNS-SD record and host
//     name here has one responder, the host that owns it, so no other
//     responder multicasts the same record; and in a running room the
//     browsers' known answers leave nothing to answer.
//   - §7.3 for LookupHost and probes: a lookup's questions are seldom
//     asked by several hosts at once, and probes must go (§8.1).
//   - §9 after a name is established, an answer from another host with
//     other addresses is logged and answered with our own records; the
//     name is not given up nor probed again. One response that names
//     several of our names or instances is judged per name: each
//     established one is defended once, each probing one fails its
//     Register (TestSeveralConflicts).
//   - §11 source address check (on-link) and §15 multiple responders
//     probing for the same name on one host beyond the tie-break: the
//     socket does not report the received TTL portably.
//   - §17 packets larger than the interface MTU are not split.
//   - §21 security (DNSSEC): the chat signs its own data.
//
// # RFC 6763 (DNS-SD): implemented
//
//   - §4.1 a service instance is Instance.Type.local, Instance one label
//     of up to 63 octets (spaces and UTF-8 allowed; no dots, which
//     dnsmessage cannot carry inside a label), Type "_name._tcp" or
//     "_name._udp" with a name of 1 to 15 letters, digits and hyphens
//     (§7).
//   - §4.1, §5, §6 RegisterService answers for a PTR from the type to the
//     instance, an SRV (priority and weight 0) naming a host registered
//     on the same Conn and the port, and a TXT record (one empty string
//     when there are no strings, §6.1; at most 1300 octets, §6.2).
//   - §9 service type enumeration: a PTR from
//     _services._dns-sd._udp.local to each type registered.
//   - §12 additional records: an answer with the type's PTR carries the
//     SRV, the TXT and the host's addresses; one with the SRV, the
//     addresses.
//   - RFC 6762 rules applied to them: TTL 4500 for PTR and TXT, 120 for
//     SRV (§10); PTR records are shared, never with the cache-flush bit,
//     and their multicast answers wait a random 20–120 ms (§6); SRV and
//     TXT are unique, with the cache-flush bit, answered at once; the
//     instance name is probed for with the SRV and TXT in the authority
//     section (§8.1), tie-broken over those (§8.2), announced twice
//     (§8.3), defended once established (§9, as for host names: logged
//     and answered with our records), and said goodbye to by Close,
//     before the host name (§10.1); known answers with half their TTL
//     left are not repeated (§7.1); QU and legacy queries as for host
//     names (§5.4, §6.7).
//   - §4 browsing: Browse queries for the type's PTR records at once
//     with the QU bit, then after 1 s, 2 s, 4 s… up to an hour, with the
//     instances known for at least half their TTL as known answers
//     (RFC 6762 §5.2, §7.1), and again when a PTR record reaches 80% of
//     its TTL plus a random part of 2% (§5.2, so that the hosts that
//     cached it from one answer do not all ask at once: the first to
//     ask draws a multicast answer that refreshes the others' copies,
//     TestBrowse, TestDuplicateQuestionRoom), leaving out a question
//     another host just asked (§7.3, above); it asks for an instance's
//     SRV, TXT and address records when they are missing or reach 80%
//     (plus up to 2%) of their TTL (1 s, 2 s, 4 s… apart), and reports
//     each instance once its SRV record and an address are known, each
//     change, and its leaving (goodbye plus one second, or expiry).
//     Only the records of types being browsed or looked up are cached,
//     at most 1024 per kind, and at most 64 instances from one source
//     address (ServiceEntry.Source).
//
// # RFC 6763: not implemented, and why
//
//   - §4.3 and §7.2 subtypes and the selective-instance enumeration:
//     scuttle browses one type.
//   - §8 flagship naming, §10 and §11 domain enumeration and wide-area
//     DNS-SD: .local only.
//   - Automatic renaming of a conflicting instance ("alice (2)"): the
//     instance name is the user's name, as the host name is.
//
// # Threat model: a stranger on the LAN
//
// Multicast DNS has no authentication (§21): anyone on the link can
// answer for any name, so nothing here is trusted beyond "someone on
// the LAN said so"; the chat proves identities with TLS instead.
//
//   - It can take a name: answer while a name is probed, and Register
//     fails with a *ConflictError. scuttle announce exits with it
//     (TestMDNSConflict); the chat does not, it runs without the name
//     and tries again (TestChatNameTaken, TestAdvertiseTaken,
//     TestAdvertiseTakenForever in topology/chat).
//   - It can point a name at any address and port. The chat redials a
//     name that resolves to no scuttle ever more slowly, up to a minute
//     apart, and says so once (TestNoScuttleBackoff in topology,
//     TestUnitChatNoScuttle in topology/chat); it cannot make the chat
//     trust a key (topology proves keys).
//   - It can flood a browse with made-up instances. It fills at most 64
//     places of the cache per source address (TestSvcCachePerSource) and
//     8 unproven places of chat --discover's 256 per source address; a
//     made-up instance where no scuttle, or another key than its id=,
//     answers loses its place (TestDiscoverFlood in topology/chat). A
//     stranger that sends from many addresses still costs the chat
//     one dial per made-up instance in turn, 8 per address at a time.
//   - It can make a browser leave out its queries (§7.3) by asking the
//     same questions just before, with no known answer this host lacks.
//     That costs nothing a stranger cannot do already: its query draws
//     every answer ours would, multicast to this host too, and a
//     stranger can as well answer with forged records or take a name.
//     Suppression only postpones: a question is left out on an
//     interface and family only while this Conn sent it there less than
//     maxBrowseInterval (an hour) before, so it goes at least at the
//     first due time an hour after it last went, and on the interfaces
//     and families the stranger does not use as usual
//     (TestDuplicateQuestionBound). Flooding questions fills at most
//     the 1024 places that remember them (TestDupQuestionsBounded),
//     which only turns the optimization off for new questions.
//   - It cannot grow this package's memory past its caps: 4096 address
//     records, 1024 of each kind of service record, 1024 questions
//     remembered for §7.3, 9000-octet packets (FuzzHandlePacket).
package mdns
