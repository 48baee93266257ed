// Package chat is scuttle's chat: the application that runs over a
// topology.Swarm and an applog store. Every user's messages are its own
// log, every peer replicates every log it holds, and what is printed is
// the store's change feed, so history and live messages come out the
// same way.
//
// A Chat is made of what Config gives it, and closes none of it: the
// database and its names store, a listener (or an address), a resolver
// and dialer for NAME peers, optionally a discoverer, the typed lines
// (In), the sink of printed lines (Out) or a front end (Screen) and a
// logger. scuttle chat gives
// it the real database, multicast DNS and the standard streams; the tests
// give it a database in a temporary directory, a listener on 127.0.0.1, a
// resolver of their own and pipes, and run two or three chats in one
// process.
//
// # Messages (message.go)
//
// An entry means what the chat makes of its bytes. Today a chat entry is
// one typed line, stored as the seed's JSON:
//
//	{"username":"NAME","message":"TEXT"}
//
// without HTML escaping and without a trailing newline. A sealed entry
// (applog/seal: a private message, a room's key, a room line) and a key
// entry (an encryption key published) start with a NUL and are told
// apart before anything else (lineOf); any other entry (not JSON, or no
// username) is shown as its bytes. A file entry (applog/blob's Entry:
// {"kind":"file",…}) shows as "[file] NAME (SIZE) ID" (see Files).
//
// # Session (chat.go, session.go, names.go, reserved.go, notices.go)
//
// Run binds the own name to the own log, starts the swarm (its key is the
// own log's, so a peer's proven identity is its log ID; each connection
// replicates the store, all of them sharing one replicate.Tree, so that
// with peers of protocol Version 4 each line crosses the chat's links
// about once), the printing of the feed and the watch on the
// store, and appends each typed line to the own log, lines typed at once
// in one durable batch. Before an append it waits until the own log holds
// what connected peers advertised of it, so a restored backup continues
// its log instead of forking it (waitOwn). A peer's claim is believed
// only while its connection lasts, and a wait that sees none of the
// claimed entries arrive for 5 s gives up, and is then the last one of
// the run: a peer that lies about the own log's head stalls one line
// once, and none after it leaves (TestUnitChatOwnHeadLiarStays,
// TestUnitChatOwnHeadLiarLeaves).
//
// The logs of the peers the user named (a NAME or HOST:PORT of Peers,
// once a connection proved the peer's key) and of names bound to a log
// directly or by trust are wanted (wanted.go): the store takes them
// whatever --max-logs says, so that a stranger's flood of made-up logs
// never keeps a named peer's lines out. The other logs are shared out
// (replicate.NewQuota): a peer the user did not name brings in at most
// 1/32 of --max-logs new logs, 256 at once and then 10 a second, and
// all such peers together at most half of it; a named peer's
// connections draw on no quota (TestUnitChatFloodNamedPeer: a stranger
// takes its share of 2 at a limit of 64, and no more, while the 6 new
// logs a named peer relays are all taken), from the moment the chat's
// dial proves it, even on a connection the peer made before that
// (TestUnitChatNamedDialledIn). The first time the quota
// skips a peer's logs, the chat says so in one info line, once per peer
// and run: "skipping new logs relayed by NAME: past the share of a peer
// nobody named (2 of --max-logs 64); …" (the same test). A name claimed
// only in entries makes no log wanted.
//
// Names are trusted on first use (applog/names): the first key that
// connects with a name is that name's, until the user says otherwise with
// scuttle trust; a log whose messages carry an unbound name only claims
// it, and the first connection with the name takes it from the claim,
// with an info line. A NAME the user gave (an entry of Peers) is
// reserved (reserved.go): only the key the chat's own dial of NAME
// reaches is bound to it (names.Named, which a full store never
// refuses); a claim of it in entries is void, and a peer that connects
// as it waits up to 2 s for that dial (asked for at once: Swarm.Redial),
// then is judged against its key or let in unbound with one line.
// Look-alikes are one name (names.Skeleton). A peer that connects as a
// name bound to another key, or as a look-alike of one, is refused before the swarm registers it, and so is a name no
// chat can have (mdns.CheckName: invisible and bidi characters among
// them). Every refusal is told as an info line, once per (name, key) per
// run; past three keys refused as one name, they are counted in lines
// at the 10th, the 100th… A full names store lets a peer in unbound,
// and says so once. A message whose name is bound to another log prints
// as NAME~SHORT; a plain entry prints under the name bound to its log.
//
// The store's notices (a forked log, the log limit, low disk space) are
// printed once each as info lines.
//
// # Rendering and front ends (render.go, screen.go, line.go, terminal.go, escape.go, json.go)
//
// Everything the chat shows is a Line (line.go): a message, "NAME> TEXT"
// ("NAME> TEXT" for another entry of a log bound to NAME, "SHORT> TEXT"
// for one bound to none; "NAME> [file] FILENAME (SIZE) ID" for a file
// shared with scuttle send, applog/blob's entry, TestChatLineFormat),
// or an info line, "info> …", for what happened
// (a connection, a refusal, a fork, a command's answer). Every string in
// a Line is escaped already. A line is made once (entryLine, info) and
// goes through one path, show, to the front end: Config.Screen if set
// (the terminal editor, which prints AppendTerminal's "HH:MM " and the
// author's colour, TestAppendTerminal), else the pipe, Line.String and
// a newline on Out, today's format byte for byte (TestChatLineFormat,
// TestUnitChatScreen). Status changes (a peer connected or lost) go to
// Screen.SetStatus.
//
// Front ends are views over the one chat, never copies of its logic:
// Type types a line as if read from In, Lines streams what is shown,
// Who, Status, Names and Complete answer what a view shows beside the
// lines, Info shows a view's own news. Lines replays a bounded history
// (the last 256 messages and the last 64 info lines, in the order shown)
// and then every new line, to at most 64 views at once; a view that falls
// 256 lines behind is cut off (ErrCutOff) and may call Lines again, and
// the chat never waits for one (TestLinesReplay, TestLinesLiveAndSlow,
// TestLinesBounded). Presence (presence.go) comes from the swarm's
// events and is bounded to 1024 peers, the one seen the longest ago
// forgotten first (TestUnitChatWhoStatus, TestPresenceBounded).
//
// # Input and commands (input.go, commands.go)
//
// The typed lines are read from In (and given by Type), one at a time,
// each at most maxMessage bytes (so that its JSON fits an entry; a
// longer one is reported on Errs and not sent). A line that starts with
// "/" is a command, the same from a pipe, the terminal or the web page:
//
//	/help            list the commands, one line each
//	/who             who is connected now, and who was seen this run and when
//	/names           the names known: name, log id, how learned, (you)
//	/trust NAME ID   bind NAME to the log ID (as scuttle trust)
//	/block NAME      block the log bound to NAME, or the log ID (as scuttle block)
//	/msg NAME TEXT   a private message to the log NAME is bound to
//	/join [#ROOM]    make a private room or go to it; alone: the public room
//	/invite NAME     give NAME the key of the room typed lines go to
//	/kick NAME       rotate that room's key, without NAME
//	/leave           stop showing that room for this run
//	/rooms           the rooms whose key the chat holds, and their members
//	/send PATH       share a file where typed lines go (sealed in a room)
//	/get ID          fetch the file of a [file] line
//	/quit            send what was typed before, and end the chat
//
// A command answers in info lines and is never sent; "//TEXT" sends
// "/TEXT"; an unknown command, or one given other arguments than it
// takes, prints one info line and sends nothing (TestUnitChatCommands,
// FuzzCommand). /quit ends the chat as an interrupt does, where the end
// of input does not (the chat then keeps replicating): the lines before
// it are stored, none after it, and Run returns nil, so scuttle chat
// exits 0 (TestUnitChatQuit). A command runs where it is typed: the
// lines before it in a paste are appended first. The commands are one
// table (commands): a command of a later feature (private messages,
// files) is one entry of it, with its name, its arguments ("NAME
// TEXT..." takes the rest of the line), its line of /help and its
// handler. /trust and /block share their logic with scuttle trust and
// block (names.Store.Trust, applog.DB.Block, TrustedLine).
//
// # Private messages and rooms (private.go, rooms.go)
//
// Sealing is package applog/seal's, used as its "Use" says; the chat
// adds where the entries go and how they show. With Config.Keys (scuttle
// chat gives it the keyring of the database, DIR/sealkeys), the chat
// publishes the user's encryption key before its first line (once the
// own log holds what peers hold of it, as any append), and says so in
// one info line the first time (TestUnitChatPrivateMessage). Every entry
// the feed shows is noted first (seal.Directory: each log's newest key),
// so a name's key is known once its log up to the key entry has come. A
// key entry shows nothing.
//
// A sealed entry is opened with the user's keys, every generation, and
// every room key held, in the network's context (seal.NetworkID of the
// network key). It shows as
//
//	alice → bob> TEXT     a private message (Line.To: its recipients)
//	#ROOM alice> TEXT     a line of a private room (Line.Room: "#ROOM")
//
// on the author's chat and each recipient's, whichever room they have
// joined; FROM is the name bound to the author's log, as for a plain
// entry, since a sealed entry names no one, and a room's name is its
// creator's choice, escaped with its blanks and ">" so that it cannot
// pass for an author (TestPrivateLineForms). No public line takes these
// forms: no name has blanks (mdns.CheckName), so a public line whose
// claimed name has some is bound to no log, and shows as NAME~SHORT with
// its blanks escaped ("alice\ →\ bob~SHORT>", TestPrivateLineForms).
// Line.To and Line.Room tell a front end which lines are private, to
// render them its own way. A room key given by another
// member shows as "info> #ROOM: members now A, B (key from A)". A sealed
// entry that is not the user's shows nothing at all, not even a mark:
// most sealed entries of a network are others', and the screen of a relay
// should not fill with them (TestUnitChatPrivateMessage: carol's
// database holds alice's and bob's sealed entries, and carol prints
// none). One that is the user's (its tag matched) but does not open,
// changed or copied from another log or network, is told in one info
// line (TestUnitChatRoomLineBeforeKey). A room line that opens with no
// key held is kept, the last 256 of them, and shown when a room key that
// opens it comes later in the feed (the logs of a room may arrive in any
// order; TestUnitChatRoomLineBeforeKey).
//
// /msg seals to the one recipient and to the user (seal.Seal), and
// appends it with the typed lines; it refuses, in one info line and
// sending nothing, a name bound to no log and a log that has published
// no key (TestUnitChatPrivateErrors). It reaches the recipient through
// any peer that holds the author's log, also one written while the
// recipient was away (TestUnitChatPrivateOffline). /join #ROOM makes a
// room (seal.NewRoom, its key given to the user alone) or goes to the
// first room of that name whose key the chat learned; typed lines then
// go to it, sealed with its newest key, and Status.Room names it
// (TestUnitChatPrivateScreen). Across hosts, through a relay that only
// stores the entry, and to a recipient that was away: TestChatPrivateRelay
// in the root package (netlab), which also checks the relay's files and
// "scuttle read" for the words. /invite gives the room's current key to
// every member and the new one, /kick gives a new epoch's key to the
// members but one (TestUnitChatRooms: the kicked member prints nothing
// written after, though its database holds it; TestChatPrivateRoomLab
// across hosts, with "scuttle read --open" and the files of the kicked
// member's database). /leave is local: the
// room's lines are not shown for the rest of the run, and the key stays
// held; only a member's /kick takes a user out of a room. Where typed
// lines go is not kept across runs: a chat starts in the public room, and
// learns its rooms again from the history it shows. The members
// are as the room's newest key message lists them (seal.Rooms); a
// command learns the key message it makes at once, so the next command
// sees it, and does not learn it again when it is read back.
//
// What whoever holds a sealed entry without being its recipient (a
// relay, a network member, the public network's stranger) learns, and
// what a removed member, a recipient and a thief of the database can
// do, is applog/seal's "What an outsider learns" and "Threat model": the
// chat adds that such an entry shows nothing on their screen, and that
// whoever is a room member may /invite and /kick as its creator may.
// Bounds: the keys of 65,536 logs noted, 1,024 room keys held, 256 room
// lines waiting for a key.
//
// Cost, measured on the development machine (2 shared CPUs): showing an
// entry sealed to others costs the feed about 0.7 µs, against 2.5–8 µs
// for a public line and 90–100 µs for one sealed to the reader, which is
// opened (BenchmarkChatLineSealed); from typed on one chat to printed on
// the other over 127.0.0.1, p50, 1.5–2.4 ms for a /msg against 1.0–1.3 ms
// for a public line (go test -run X -bench TypedToPrinted -benchtime 300x
// -count 5 ./topology/chat); across netlab hosts through a relay, 3.4–4.6
// ms against 2.8–3.7 ms (go test -v -run TestChatPrivateRelay .).
//
// # Files (files.go, files_store.go, images.go)
//
// With Config.Blobs (scuttle chat gives it the database's store,
// DIR/blobs, with --max-blob-bytes as its quota), the chat shares files
// as applog/blob stores them and applog/replicate moves them. /send PATH
// copies the file into the store (Store.Add, which checks the quota and
// the free-space floor first), records the own log as a source of it,
// and appends one file entry, as a typed line is appended; the line is
// the one every receiver prints, "alice> [file] notes.txt (12 B) ID",
// the id in full (TestUnitChatSend: the exact line on both chats, one
// entry in the own log, the file complete in the store). In a private
// room the file is sealed as it is copied in (Store.AddSealed, a fresh
// key per file), and the entry, with the key, is sealed as a room line:
// "#r alice> [file] plans.txt (40 B) ID" on the members' chats, nothing
// on anyone else's (TestUnitChatSendPrivate). Whatever cannot be sent
// (no such file, not a regular file, the quota, the floor) is one info
// line, "/send: WHY: not sent", and nothing is appended
// (TestUnitChatSendErrors). A sealed message whose text is a file entry
// shows as a file too: its author is proven as for any sealed line.
//
// Every file entry the chat shows (the history at the start, then each
// new one) is noted (noteFile): the chat remembers it for the run (the
// last 4096), records its author as a source of the file, keeps a sealed
// file's key (Store.SetKey), and, if the file is at most Config.FetchMax
// bytes (chat --fetch-max, default 16 MiB) and not complete here, asks
// the fetcher for it (replicate.Fetcher.Get: one Fetcher shared by every
// session, Options.Fetcher). At most 256 such fetches the chat started by
// itself run at once, so that a long history of files or a flood of
// entries queues no more; a file shown past that is fetched on /get, or
// when a later run shows it (TestAutoFetchBounded). A larger file waits for /get ID, which
// takes only the id of a line the chat showed this run ("/get: no file
// ID was shown in this chat"), and says "fetching NAME (SIZE) from the
// peers that hold it" or "NAME is here: scuttle get ID". A fetch ends in
// one info line, "NAME complete: scuttle get ID" or "NAME not fetched:
// WHY" (TestUnitChatFetch: a file at fetch-max fetched by itself, the
// bytes identical; one byte more not fetched until /get). A file the
// store holds part of (a fetch of an earlier run, cut short by a crash
// or a restart) is fetched again as soon as its line shows, whatever its
// size, from the blocks on disk (TestUnitChatFetchResumes).
//
// What the sessions serve is servedBlobs (Options.Blobs): the store's
// Manifest and ReadBlock, which serve only whole blocks that pass their
// hash, for the files the chat's policy serves: named by an entry this
// database holds, of a log it has not blocked (blob.Store.Serves over
// the sources the chat records: a file's author as its entry shows, once
// the store holds something of the file, as soon as its fetch has begun
// (FetcherOptions.Begun), so that its blocks are served on as they come,
// and again when its fetch ends).
// /block deletes the files that the blocked log alone named
// (Store.RemoveBy) and stops the fetches of its files, saying how many
// were deleted in one line (TestUnitChatBlockFiles: carol's file goes,
// alice's stays, and so does one both sent). A block made by scuttle
// block is applied by the database within a second; scuttle chat's
// outbox loop then deletes the files only blocked logs named
// (Store.Purge, also at the start), and the chat stops their fetches
// when it sees the blocked logs change (noteBlocked).
//
// Images: a file line whose entry's media type is PNG, JPEG, GIF or WebP
// and that the store holds complete carries its id in Line.Image, and so
// does the info line of its fetch's completion; the web page shows it
// under the line, read through Chat.Image, which hands out only such a
// file the chat showed, with its bare media type (not the author's
// text), opened with its key if sealed, never an SVG nor any other type
// (TestUnitChatImage, TestUnitChatImageSealed; topology/chat/web's TestImage).
//
// # Service (service.go)
//
// Each chat advertises the DNS-SD service NAME._scuttle._tcp.local with
// its port and a TXT record (id, protocol version, network tag), so that
// peers dial it at its port and browsers (scuttle peers, chat --discover)
// find it. A name another host holds does not end the chat: it runs
// without it, says so once, and claims it again later (Advertise). Chat
// --discover takes what the browse finds, at most 256 at once and 8
// unproven per source address, keeping those that prove the key their
// TXT id= advertises when dialled (discover.go). A NAME that resolves
// to an address where no scuttle answers is redialled up to a minute
// apart, and said once (unreachable).
//
// # Membership (membership.go)
//
// With --discover, the chat does not dial every chat it finds: a
// member drives a topology/overlay Machine (HyParView-like: an active
// set of about log2(N)+1 peers for a room of N, at most 10, and a
// passive set of at most 30 to repair it from). The chats DNS-SD finds
// are its passive peers (the room's size is how many it found), the
// peers the user named its named peers, connected by the swarm as
// without --discover. Its messages are replicate's membership frames
// (Version 5; topology/overlay's wire format), one goroutine ticks it
// every 250ms, and the member carries out what it says: a peer entering
// the active set is dialled (by its DNS-SD NAME, or the host:port a
// peer told), one leaving is closed; a message for a peer with no
// connection opens one (handshake, the frame), and a connection that
// is neither active nor named, in either direction, is closed a second
// (memberLinger) after its last message. A dial that brings no session
// at Version 5 within 5 s is given up and the peer leaves the machine
// (TestMemberDialFails). The user is told "direct connection to" and
// "lost connection to" for the peers of the active set only. Replication
// runs over whatever connections there are, so entries cross the
// overlay's links: in a room of 16 (TestMemberRoom, 20 seeds, a fake
// swarm; TestRoomDiscoverBounded in the root package, 16 netlab hosts)
// each chat keeps 5 or 6 connections instead of 15, every line reaches
// every chat, and when a quarter leave the rest stay joined. Measured
// on netlab (TestRoomFigures, mode discover, 20 lines, against the
// chat that dialled every chat found, in the same session): at 64
// hosts 7 to 8 connections per chat (40 to 62 before), 894 bytes per
// delivery, 2.6 times the 2-host room's (2,219 and 6.4 before), p50
// 651ms and p99 1.2s (741ms and 2.9s; 2 CPUs for 64 chats), 6.2ms of
// CPU per delivery (15.1ms); at 16 hosts 5 to 6 connections (15),
// 1.7 times (2.0), p50 18ms, but p99 580ms against 75ms: a line that
// waits for ebt's graft (SwitchTime) where the full mesh had the
// author one hop from everyone. With a quarter killed at 64 hosts,
// every running chat printed every line.
//
// The machine takes the overlay's defaults but shuffles once a minute,
// not every 10 s: DNS-SD already tells every chat of every other, and
// each shuffle's reply opens a connection to its origin (a TLS handshake
// and the heads of every log both ways), which at 10 s made a room of
// 64 send 2.3 times the bytes per delivery (TestRoomFigures).
//
// A peer at Version 4 (an older scuttle) is never made active by a
// chat with --discover: its dial brings no membership session, and it
// is given up after 5 s. Its own dials are served as before.
//
// # Threat notes
//
// What a stranger on the LAN, a member of the network, or a relay that
// passes it logs can do to what the chat prints and binds:
//
//   - Print a line of its own making, or drive the terminal: no. Every
//     string a peer controls (a name it claims, a message, an entry's
//     bytes, an instance name or TXT value in scuttle peers and doctor)
//     passes through Escape or AppendEscaped before it reaches a
//     terminal: control bytes, C1 controls, line separators, invalid
//     UTF-8 and every invisible or bidi character (zero-width
//     characters, joiners, overrides, isolates, the other
//     default-ignorables) are shown escaped, and a run of more than 8
//     blanks as "[N blanks]", so no padding can push text to a row of
//     its own that reads as another line (TestEscape, FuzzEscape,
//     TestChatLineFormat; TestPrintPeersEscapes and
//     TestDoctorPrintEscapes in the root package). JSON output (every
//     command's --json) writes each string with AppendJSON, which
//     escapes the same characters as \uXXXX, and every blank of such a
//     run, and still decodes to the string sent (TestAppendJSON,
//     TestAppendJSONValue, FuzzAppendJSON; TestPeersJSONEscapes,
//     TestDoctorJSONEscapes, TestNamesJSONEscapes and
//     TestReadJSONEscapes in the root package). A command's error
//     prints through Escape too.
//   - Pass as a known user: no. A peer's identity is its key, proven by
//     the swarm's TLS; a name is only what the names store binds to a
//     key. A message under another log's name, or a look-alike of it,
//     prints as NAME~SHORT (TestUnitChatClaimedNames); a connection as
//     one is refused (TestAuthorizeLookAlikes, TestUnitChatImpostor).
//   - Take the name of a peer the user named (a NAME on the command
//     line): no. A claim of it in relayed entries binds nothing and
//     prints as NAME~SHORT (TestUnitChatReservedRelayed); a stranger
//     that connects first as it, or a flood of fresh keys that do, is
//     let in unbound, in a few lines, and the real peer is bound when the
//     chat's dial reaches it (TestUnitChatReservedStrangerFirst,
//     TestUnitChatReservedFlood); a store full of strangers' bindings
//     still binds it (TestAuthorizeNamedRoom). What a stranger can still
//     do is answer for NAME.local before the real peer when the chat
//     first dials it (multicast DNS proves no key), and cost a peer that
//     connects before the chat's dial reaches it up to 2 s of waiting
//     (TestUnitChatReservedProof).
//   - Lock out a peer with a relayed claim of a name the user did not
//     give: no; the connection takes the name (TestUnitChatRelayedClaim).
//     A stranger that connects first with such a name, nobody here has
//     met, still gets it (trust on first use), and the real owner is
//     refused with the scuttle trust line that accepts it.
//   - Lock out new peers by filling the names store: no; claims are
//     evicted, and a store full of connections' bindings lets new peers
//     in unbound (TestAuthorizeFullStore, names.TestClaimFloodEvicted).
//   - Read a private message or room line not sealed to it, or see one
//     on its screen: no; it stores and forwards it and prints nothing
//     (TestUnitChatPrivateMessage, TestUnitChatRooms; applog/seal's
//     threat model for what the bytes tell).
//   - Make the chat serve, keep or show what it should not through a
//     file entry: a file's bytes are served only as whole verified
//     blocks, for an entry this database holds of a log not blocked,
//     and a blocked log's files are removed (TestUnitChatBlockFiles);
//     a file entry's name and media type are the author's word and show
//     escaped; the web page shows as an image only PNG, JPEG, GIF and
//     WebP files the chat showed, served with their bare type and
//     nosniff, never SVG or HTML (TestUnitChatImage, web's TestImage);
//     a relay of a sealed file holds its blocks and cannot read them
//     (TestUnitChatSendPrivate). What a peer can still do: make the
//     chat fetch, without /get, every file its entries name at or under
//     --fetch-max bytes, within the store's quota (none by default) and
//     the free-space floor. An entry that claims a small size for the
//     id of a larger file gets nothing fetched: the fetcher checks the
//     manifest against the entry the chat showed before the store makes
//     room for the file (FetcherOptions.Check, blob.Entry.Matches;
//     TestUnitChatFetchLyingEntry: "tiny.txt not fetched: … says 10
//     bytes …; its manifest 614400").
//   - Run a command in another user's chat: no. Only typed lines (In,
//     Type) are commands; an entry is shown, never parsed, so a peer's
//     "/quit" is a message like any other (TestUnitChatCommands, where
//     a line sent as "//nosuch thing" reaches bob as "alice> /nosuch
//     thing").
//   - Grow the chat's memory through what views and /who remember: no.
//     Presence is bounded to 1024 peers (TestPresenceBounded), the
//     history of views to 256 messages and 64 info lines, the views to
//     64 and each view's backlog to 256 lines (TestLinesBounded,
//     TestLinesLiveAndSlow); a flood of lines cuts off a slow view, and
//     never makes the chat wait for it.
//   - Scroll messages away with refusals: at most three lines per name
//     and bound key, then one line per power of ten
//     (TestAuthorizeFreshKeys). The memory of refusals and of peers'
//     heads is bounded, so a peer making up keys cannot grow it
//     (TestAuthorizeRefusalsBounded).
//
// Emoji sequences joined by U+200D, and variation selectors, print with
// the joiners escaped: the price of showing every invisible character.
//   - Take over a --discover chat's connections with the membership
//     protocol: no. A frame that does not decode, names a peer by
//     anything but a log id, or is longer than 4 KiB closes the
//     connection (TestMemberMalformed; overlay's TestWireMalformed and
//     FuzzDecodeMsg; replicate's TestMembershipMalformed). Joins and
//     high-priority requests take at most one place of a full active
//     set per second, named peers are never evicted (overlay's
//     TestEvictionRate, TestNamedApart), and a connection the machine
//     does not make active is closed a second after its last message,
//     while a named peer's never is (TestMemberStranger). Shuffles of
//     made-up peers fill at most the passive set (30) and 256 places of
//     learned addresses in the address book (DNS-SD's are never
//     evicted), each an IP literal and port (no name is looked up for a
//     peer's word), and make the chat dial at most 16 peers it does
//     not hold active at once, each for at most 5 s (TestMemberStranger:
//     1,600 made-up peers, a book of 256 and 16 dials at once). The
//     queues are bounded: 32 messages per connection, dropped past it,
//     and 8 per peer waiting for its connection. What a stranger can
//     still cost: with a join, one place of the active set per second;
//     as an active peer, a passive set mostly made up, which slows
//     repair by one failed dial (5 s) per made-up peer tried, while DNS-SD
//     keeps adding real peers; and dials from this chat, 16 at a time,
//     to IP:ports of its choosing, each a TCP connect and a TLS hello.
//   - Keep a named peer's log out by filling --max-logs: no. The logs
//     of peers the user named and of bound names are taken whatever the
//     limit says (TestUnitChatFloodNamedPeer). A stranger that connects
//     directly under a fresh name binds it (Direct), so its own log is
//     wanted too: one log per authenticated connection, within the names
//     store's bound; the logs it serves besides are bound by its quota:
//     1/32 of --max-logs per key, and half of it for all the peers
//     nobody named together, within a run (TestUnitChatFloodNamedPeer;
//     replicate's TestQuotaFlood). A restart starts the quota afresh;
//     the logs taken stay, and count towards --max-logs.
package chat
