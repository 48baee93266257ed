package chat

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/seal"
)

// The private messages and rooms, chats in this process as in
// chat_test.go, each with its encryption keys (Config.Keys).

// publishedLine is what a chat says the first time it publishes a key.
const publishedLine = "info> published your encryption key: from now on others can send you private messages (/msg) and rooms (/invite)"

// startSealChat runs a chat with the keyring of its database, in dir (a
// new one if dir is "").
func startSealChat(t *testing.T, fn *fakeNet, dir, me string, peers ...string) *unitChat {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	kr, err := seal.OpenKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	return startUnitChatWith(t, fn, nil, func(c *Config) { c.Keys = kr }, nil, dir, me, peers...)
}

// sealedEntries returns the entries of log id in db that are sealed.
func sealedEntries(t *testing.T, db *applog.DB, id applog.ID) [][]byte {
	t.Helper()
	var out [][]byte
	it := db.Iter(id, 1)
	defer it.Close()
	for it.Next() {
		if seal.IsSealed(it.Entry().Data) {
			out = append(out, bytes.Clone(it.Entry().Data))
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkNoWords fails the test if u printed any of words, or holds them
// in its database's files.
func checkNoWords(t *testing.T, u *unitChat, words ...string) {
	t.Helper()
	out := u.out.String()
	for _, w := range words {
		if strings.Contains(out, w) {
			t.Errorf("%s printed %q:\n%s", u.name, w, out)
		}
	}
}

// TestUnitChatPrivateMessage: alice and bob are connected through carol
// alone. alice's /msg to bob shows as "alice → bob> TEXT" on both; carol
// stores and forwards the sealed entry (her database holds it) and
// prints nothing of it. The first start says the key was published; a
// key entry never shows.
func TestUnitChatPrivateMessage(t *testing.T) {
	fn := newFakeNet()
	c := startSealChat(t, fn, "", "carol")
	a := startSealChat(t, fn, "", "alice", "carol")
	b := startSealChat(t, fn, "", "bob", "carol")
	a.expect(publishedLine, "info> direct connection to carol")
	b.expect(publishedLine, "info> direct connection to carol")
	c.expect(publishedLine)
	b.say("hello") // binds bob at alice (claimed), after bob's key entry
	b.expect("bob> hello")
	a.expect("bob> hello")
	c.expect("bob> hello")
	a.say("hi") // binds alice at bob
	a.expect("alice> hi")
	b.expect("alice> hi")
	c.expect("alice> hi")

	a.say("/msg bob the secret words")
	a.expect("alice → bob> the secret words")
	b.expect("alice → bob> the secret words")
	b.say("/msg alice the answer")
	b.expect("bob → alice> the answer")
	a.expect("bob → alice> the answer")

	a.say("public again")
	for _, u := range []*unitChat{a, b, c} {
		u.expect("alice> public again") // carol: no line between
	}
	if got := len(sealedEntries(t, c.db, a.db.ID())); got != 1 {
		t.Errorf("carol holds %d sealed entries of alice's log, want 1", got)
	}
	if got := len(sealedEntries(t, c.db, b.db.ID())); got != 1 {
		t.Errorf("carol holds %d sealed entries of bob's log, want 1", got)
	}
	for _, u := range []*unitChat{a, b, c} {
		u.stop(fn)
	}
	checkNoWords(t, c, "secret", "answer")
	wantC := []string{publishedLine, "bob> hello", "alice> hi", "alice> public again"}
	var gotC []string
	for _, l := range c.seen {
		if !strings.HasPrefix(l, "info> direct connection") && !strings.HasPrefix(l, "info> lost connection") {
			gotC = append(gotC, l)
		}
	}
	if !slices.Equal(gotC, wantC) {
		t.Errorf("carol printed %q, want %q", gotC, wantC)
	}
}

// TestUnitChatPrivateErrors: a /msg that cannot be sealed says why in
// one info line and sends nothing: an unknown name, a name whose log
// published no key (dave's, trusted by ID, never seen), /invite and
// /kick outside a room, /leave in the public room. bob, connected,
// sees nothing but the last line.
func TestUnitChatPrivateErrors(t *testing.T) {
	fn := newFakeNet()
	a := startSealChat(t, fn, "", "alice", "bob")
	b := startSealChat(t, fn, "", "bob", "alice")
	a.expect(publishedLine, "info> direct connection to bob")
	b.expect(publishedLine, "info> direct connection to alice")
	dave := newTestDB(t).ID()
	a.say("/trust dave " + string(dave))
	a.expectNext("info> dave is " + string(dave) + " (trusted)")
	head := a.db.Head(a.db.ID())

	for _, tt := range []struct{ typed, want string }{
		{"/msg nobody hello", "info> /msg: no log is bound to nobody; /names lists the names"},
		{"/msg dave hello", "info> dave has published no encryption key yet; it comes with their log"},
		{"/msg " + string(dave) + " hello", "info> " + string(dave) + " has published no encryption key yet; it comes with their log"},
		{"/msg bob", "info> usage: /msg NAME TEXT..."},
		{"/invite bob", "info> /invite: your lines go to the public room; /join #ROOM first"},
		{"/kick bob", "info> /kick: your lines go to the public room; /join #ROOM first"},
		{"/leave", "info> /leave: your lines go to the public room already"},
		{"/rooms", "info> you are in no private room; /join #ROOM makes one"},
		{"/join #a>b", "info> /join: a room's name is 1 to 64 printable characters, without blanks, # or >"},
		{"/join #", "info> /join: a room's name is 1 to 64 printable characters, without blanks, # or >"},
		{"/join #x\x1bq", "info> /join: a room's name is 1 to 64 printable characters, without blanks, # or >"},
		{"/join a b", "info> usage: /join [#ROOM]"},
		{"/join", "info> your lines go to the public room"},
	} {
		a.say(tt.typed)
		a.expectNext(tt.want)
	}
	if got := a.db.Head(a.db.ID()); got != head {
		t.Errorf("alice's log grew from %d to %d entries: an error sent something", head, got)
	}
	a.say("last")
	a.expectNext("alice> last")
	b.expectNext("alice> last")
}

// TestUnitChatPrivateOffline: alice writes to bob while bob is away;
// alice leaves, bob comes back and has it from carol, who holds alice's
// log and cannot read it.
func TestUnitChatPrivateOffline(t *testing.T) {
	fn := newFakeNet()
	c := startSealChat(t, fn, "", "carol")
	b := startSealChat(t, fn, "", "bob", "carol")
	b.expect(publishedLine, "info> direct connection to carol")
	b.say("hello")
	c.expect("bob> hello") // bob's key came before it
	b.stop(fn)

	a := startSealChat(t, fn, "", "alice", "carol")
	a.expect(publishedLine, "info> direct connection to carol", "bob> hello")
	a.say("hi") // before: bob names alice's log from it (a sealed entry names no one)
	a.say("/msg bob written while you were away")
	a.expect("alice> hi", "alice → bob> written while you were away")
	c.expect("alice> hi")
	a.say("bye")
	c.expect("alice> bye") // carol: nothing between
	a.stop(fn)

	b2 := startSealChat(t, fn, b.dir, "bob", "carol")
	b2.expect("info> direct connection to carol", "bob> hello", "alice> hi", "alice → bob> written while you were away", "alice> bye")
	if got := len(sealedEntries(t, c.db, a.db.ID())); got != 1 {
		t.Errorf("carol holds %d sealed entries of alice's log, want 1", got)
	}
	b2.stop(fn)
	c.stop(fn)
	checkNoWords(t, c, "away")
	if n := strings.Count(b2.out.String(), "published your encryption key"); n != 0 {
		t.Errorf("bob's second run said %d times it published its key, want 0", n)
	}
}

// TestUnitChatRooms: alice makes #ops and invites bob and carol; a line
// of each shows as "#ops NAME> TEXT" on all three, whichever room each
// has joined; alice kicks carol: the key is rotated and given to bob,
// and carol, whose database holds the later lines, prints none of them.
func TestUnitChatRooms(t *testing.T) {
	fn := newFakeNet()
	a := startSealChat(t, fn, "", "alice", "bob", "carol")
	b := startSealChat(t, fn, "", "bob", "alice", "carol")
	c := startSealChat(t, fn, "", "carol", "alice", "bob")
	a.expect(publishedLine, "info> direct connection to bob", "info> direct connection to carol")
	b.expect(publishedLine, "info> direct connection to alice", "info> direct connection to carol")
	c.expect(publishedLine, "info> direct connection to alice", "info> direct connection to bob")
	for _, u := range []*unitChat{a, b, c} { // each key entry comes before its log's line
		u.say("hi from " + u.name)
	}
	for _, u := range []*unitChat{a, b, c} {
		u.expect("alice> hi from alice", "bob> hi from bob", "carol> hi from carol")
	}
	a.drain()
	b.drain()
	c.drain()

	a.say("/join #ops")
	a.expectNext("info> made #ops: your lines go to it, sealed; /invite NAME gives NAME its key")
	a.say("/invite bob")
	a.expectNext("info> gave the key of #ops to bob: members now alice, bob")
	b.expectNext("info> #ops: members now alice, bob (key from alice)")
	a.say("/invite carol")
	a.expectNext("info> gave the key of #ops to carol: members now alice, bob, carol")
	b.expectNext("info> #ops: members now alice, bob, carol (key from alice)")
	c.expectNext("info> #ops: members now alice, bob, carol (key from alice)")
	a.say("/invite carol")
	a.expectNext("info> /invite: carol is in #ops already")

	a.say("first")
	for _, u := range []*unitChat{a, b, c} {
		u.expectNext("#ops alice> first") // bob and carol are in the public room
	}
	b.say("/join #ops")
	b.expectNext("info> your lines go to #ops: alice, bob, carol")
	b.say("from bob")
	for _, u := range []*unitChat{a, b, c} {
		u.expectNext("#ops bob> from bob")
	}
	c.say("/rooms")
	c.expectNext("info> #ops: alice, bob, carol")
	b.say("/rooms")
	b.expectNext("info> #ops: alice, bob, carol (your lines go here)")

	a.say("/kick carol")
	a.expectNext("info> #ops has a new key, given to alice, bob: carol reads nothing written from now on")
	b.expectNext("info> #ops: members now alice, bob (key from alice)")
	a.say("after the kick")
	a.expectNext("#ops alice> after the kick")
	b.expectNext("#ops alice> after the kick")
	b.say("bob after the kick")
	a.expectNext("#ops bob> bob after the kick")
	b.expectNext("#ops bob> bob after the kick")
	b.say("/join")
	b.expectNext("info> your lines go to the public room")
	b.say("public end")
	for _, u := range []*unitChat{a, b, c} {
		u.expectNext("bob> public end") // carol: nothing of #ops after the kick
	}
	if got := len(sealedEntries(t, c.db, a.db.ID())); got != 6 { // the making, 2 invitations, a line, the rotation, a line
		t.Errorf("carol holds %d sealed entries of alice's log, want 6", got)
	}
	if got := len(sealedEntries(t, c.db, b.db.ID())); got != 2 {
		t.Errorf("carol holds %d sealed entries of bob's log, want 2", got)
	}

	a.say("/leave")
	a.expectNext("info> left #ops: its lines are not shown for the rest of this run, and yours go to the public room; you hold its key until a member /kicks you")
	a.say("/rooms")
	a.expectNext("info> you are in no private room; /join #ROOM makes one")
	a.say("/join #ops")
	a.expectNext("info> your lines go to #ops: alice, bob")
	for _, u := range []*unitChat{a, b, c} {
		u.stop(fn)
	}
	checkNoWords(t, c, "after the kick")
}

// TestPrivateLineForms: a private message and a room line as the pipe
// and the terminal print them: "FROM → TO> TEXT" and "#ROOM FROM> TEXT",
// forms no public line takes (a public name with blanks, "→" or "#" is
// not bound to its log, so it shows with "~SHORT").
func TestPrivateLineForms(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 5, 59, 0, time.Local)
	a := applog.ID(strings.Repeat("a", 52))
	tests := []struct {
		name               string
		l                  Line
		pipe, plain, color string
	}{
		{"private", Line{Time: at, From: "alice", Log: a, To: "bob", Text: "psst"},
			"alice → bob> psst", "09:05 alice → bob> psst", "09:05 \x1b[94malice\x1b[0m → bob> psst"},
		{"private, own", Line{Time: at, From: "alice", Log: a, Own: true, To: "bob, carol", Text: "psst"},
			"alice → bob, carol> psst", "09:05 alice → bob, carol> psst", "09:05 \x1b[1malice\x1b[0m → bob, carol> psst"},
		{"room", Line{Time: at, From: "alice", Log: a, Room: "#ops", Text: "up"},
			"#ops alice> up", "09:05 #ops alice> up", "09:05 #ops \x1b[94malice\x1b[0m> up"},
		{"room, own", Line{Time: at, From: "alice", Log: a, Own: true, Room: "#ops", Text: "up"},
			"#ops alice> up", "09:05 #ops alice> up", "09:05 #ops \x1b[1malice\x1b[0m> up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.String(); got != tt.pipe {
				t.Errorf("pipe: got %q, want %q", got, tt.pipe)
			}
			if got := string(AppendTerminal(nil, tt.l, false)); got != tt.plain {
				t.Errorf("without colour: got %q, want %q", got, tt.plain)
			}
			if got := string(AppendTerminal(nil, tt.l, true)); got != tt.color {
				t.Errorf("in colour: got %q, want %q", got, tt.color)
			}
		})
	}
	// Public lines under names made to look like those forms.
	for _, tt := range []struct{ username, want string }{
		{"alice → bob", `alice\ →\ bob~aaaaaaaa> x`},
		{"#ops alice", `#ops\ alice~aaaaaaaa> x`},
		{"#ops", "#ops~aaaaaaaa> x"},
	} {
		e := applog.Entry{Log: a, Seq: 1, Data: encodeMessage(message{Username: tt.username, Message: "x"})}
		l, _ := entryLine(nil, e, func(string, applog.ID) applog.ID { return "" }, func(applog.ID) string { return "" })
		if got := l.String(); got != tt.want {
			t.Errorf("a public line of %q: %q, want %q", tt.username, got, tt.want)
		}
	}
	for _, tt := range []struct{ name, want string }{
		{"ops", "#ops"},
		{"a b", `#a\ b`},
		{"x> y", `#x\>\ y`},
		{"\x1b[2J", `#\x1b[2J`},
	} {
		if got := roomName(&seal.Room{Name: tt.name}); got != tt.want {
			t.Errorf("roomName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestUnitChatPrivateScreen: the commands typed through Type (the
// terminal's and the web page's way) do what they do from the pipe; the
// Screen gets the private lines with To and Room set, and the status
// says the room typed lines go to.
func TestUnitChatPrivateScreen(t *testing.T) {
	fn := newFakeNet()
	a := startSealChat(t, fn, "", "alice", "bob")
	bdir := t.TempDir()
	kr, err := seal.OpenKeyring(bdir)
	if err != nil {
		t.Fatal(err)
	}
	var scr *recScreen
	b := startUnitChatWith(t, fn, nil, func(c *Config) {
		scr = newRecScreen(c.Out.(*lineWriter))
		c.Out = failWriter{t}
		c.Screen = scr
		c.Keys = kr
	}, nil, bdir, "bob", "alice")
	a.expect(publishedLine, "info> direct connection to bob")
	b.expect(publishedLine, "info> direct connection to alice")
	a.say("hi")
	b.typeLine("hello")
	a.expect("alice> hi", "bob> hello")
	b.expect("alice> hi", "bob> hello")

	b.typeLine("/msg alice for you\x1b[2J")
	b.expect(`bob → alice> for you\x1b[2J`)
	a.expect(`bob → alice> for you\x1b[2J`)
	b.typeLine("/join #den")
	b.expectNext("info> made #den: your lines go to it, sealed; /invite NAME gives NAME its key")
	scr.awaitStatus(t, Status{Me: "bob", Room: "#den", Peers: 1})
	b.typeLine("/invite alice")
	b.expectNext("info> gave the key of #den to alice: members now bob, alice")
	a.expect("info> #den: members now bob, alice (key from bob)")
	b.typeLine("in the den")
	b.expectNext("#den bob> in the den")
	a.expect("#den bob> in the den")
	b.typeLine("/join")
	b.expectNext("info> your lines go to the public room")
	scr.awaitStatus(t, Status{Me: "bob", Peers: 1})

	var got []Line
	for _, l := range scr.shown() {
		if l.Kind == Message && (l.To != "" || l.Room != "") {
			l.Time = time.Time{}
			got = append(got, l)
		}
	}
	want := []Line{
		{Kind: Message, From: "bob", Log: b.db.ID(), Own: true, To: "alice", Text: `for you\x1b[2J`},
		{Kind: Message, From: "bob", Log: b.db.ID(), Own: true, Room: "#den", Text: "in the den"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("bob's screen was shown\n%+v\nwant\n%+v", got, want)
	}
}

// TestUnitChatRoomLineBeforeKey: carol's database got bob's room line
// before alice's message that gives carol the room's key (the logs came
// in that order); the chat shows the line once the key comes, after it.
// A message sealed to carol and changed before alice signed it is told
// of in one info line.
func TestUnitChatRoomLineBeforeKey(t *testing.T) {
	cdir := t.TempDir()
	cdb, err := applog.Open(cdir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ckr, err := seal.OpenKeyring(cdir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ckr.Publish(cdb); err != nil {
		t.Fatal(err)
	}
	adb, bdb := newTestDB(t), newTestDB(t)
	akey, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	room, err := seal.NewRoom("late")
	if err != nil {
		t.Fatal(err)
	}
	line, err := seal.SealLine(seal.Context{Author: bdb.ID()}, room, []byte("early line"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bdb.Append(line); err != nil {
		t.Fatal(err)
	}
	invite, err := seal.Invite(seal.Context{Author: adb.ID()}, akey, []seal.Recipient{{Log: cdb.ID(), Key: ckr.Current().Public()}}, room)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adb.Append(invite); err != nil {
		t.Fatal(err)
	}
	bad, err := seal.Seal(seal.Context{Author: adb.ID()}, akey, []seal.Recipient{{Log: cdb.ID(), Key: ckr.Current().Public()}}, []byte("changed"))
	if err != nil {
		t.Fatal(err)
	}
	bad[len(bad)-1] ^= 1 // then signed: only Open can tell
	if _, err := adb.Append(bad); err != nil {
		t.Fatal(err)
	}
	copyLogs(t, bdb, cdb)
	copyLogs(t, adb, cdb)
	if err := cdb.Close(); err != nil {
		t.Fatal(err)
	}

	fn := newFakeNet()
	c := startSealChat(t, fn, cdir, "carol")
	a, b := adb.ID().Short(), bdb.ID().Short()
	c.expectNext(
		"info> #late: members now "+a+", carol (key from "+a+")",
		"#late "+b+"> early line",
		"info> a private entry of "+a+" sealed to you does not open: it was changed, or copied from elsewhere; not shown",
	)
}
