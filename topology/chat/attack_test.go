package chat

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"scuttle/applog"
	"scuttle/applog/names"
)

// The attacks of issue 19 on what the chat binds and prints, made as a
// stranger makes them: look-alike names at connection, fresh keys as a
// bound name, a flood of names, a relayed claim of a named peer's name.

// newAuthChat returns a chat for calling authorize, with its store
// opened with opts, printing to a lineWriter.
func newAuthChat(t *testing.T, opts *names.Options) (*Chat, *names.Store, *lineWriter) {
	t.Helper()
	ns, err := names.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	out := newLineWriter()
	return New(Config{Me: "alice", DB: newTestDB(t), Names: ns, Out: out}), ns, out
}

// printed returns the lines w holds so far.
func printed(w *lineWriter) []string {
	var got []string
	for {
		select {
		case l := <-w.lines:
			got = append(got, l)
		default:
			return got
		}
	}
}

var lan = &net.TCPAddr{IP: net.IPv4(10, 99, 0, 4), Port: 4000}

// TestAuthorizeLookAlikes: a stranger connects as a look-alike of bob.
// One with an invisible character is no name at all; one with a
// Cyrillic letter is bob's name, bound to bob's key. Both are refused,
// with a line that says why; past three, names no chat can have are
// counted, as fresh keys are (TestAuthorizeFreshKeys).
func TestAuthorizeLookAlikes(t *testing.T) {
	c, ns, out := newAuthChat(t, nil)
	bob, stranger := newTestDB(t).ID(), newTestDB(t).ID()
	if err := c.authorize("bob", "", bob, lan, false); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bob\u2060", "bob\u200d", "\u202ebob"} {
		if err := c.authorize(name, "", stranger, lan, false); err == nil {
			t.Errorf("authorize(%+q) accepted a name with an invisible character", name)
		}
	}
	if err := c.authorize("bоb", "", stranger, lan, false); err == nil {
		t.Error("authorize(bоb with a Cyrillic о) accepted a look-alike of bob")
	}
	want := []string{
		`info> refused a peer at 10.99.0.4 with key ` + stranger.Short() + `: mdns: bad name "bob\u2060": U+2060 at offset 3: a name has no invisible, bidi, blank or control characters`,
		`info> refused a peer at 10.99.0.4 with key ` + stranger.Short() + `: mdns: bad name "bob\u200d": U+200D at offset 3: a name has no invisible, bidi, blank or control characters`,
		`info> refused a peer at 10.99.0.4 with key ` + stranger.Short() + `: mdns: bad name "\u202ebob": U+202E at offset 0: a name has no invisible, bidi, blank or control characters`,
		"info> refused bоb at 10.99.0.4: key " + stranger.Short() + " is not the bob you know (" + bob.Short() + "); to accept it: scuttle trust bоb " + string(stranger),
	}
	if got := printed(out); !slices.Equal(got, want) {
		t.Errorf("printed\n%q\nwant\n%q", got, want)
	}
	for i := range 10 { // the tenth name no chat can have is counted
		c.authorize("a.b"+strconv.Itoa(i), "", stranger, lan, false)
	}
	if got, want := printed(out), []string{"info> refused 10 peers as names no chat can have so far, the last at 10.99.0.4"}; !slices.Equal(got, want) {
		t.Errorf("printed\n%q\nwant\n%q", got, want)
	}
	if bs := ns.Bindings(); len(bs) != 1 {
		t.Errorf("bindings %v, want bob's only", bs)
	}
}

// TestAuthorizeFreshKeys: a stranger connects as bob with 100 fresh
// keys. The first three refusals are told in full, the rest counted, in
// lines at 10 and 100, so real messages do not scroll away.
func TestAuthorizeFreshKeys(t *testing.T) {
	c, _, out := newAuthChat(t, nil)
	bob := newTestDB(t).ID()
	if err := c.authorize("bob", "", bob, lan, false); err != nil {
		t.Fatal(err)
	}
	var first []applog.ID
	for i := range 100 {
		key := make([]byte, 32)
		key[0], key[1], key[2] = byte(i), byte(i>>8), 0xee
		id := applog.IDOf(key)
		if i < toldInFull {
			first = append(first, id)
		}
		if c.authorize("bob", "", id, lan, false) == nil {
			t.Fatalf("fresh key %d accepted as bob", i)
		}
	}
	var want []string
	for _, id := range first {
		want = append(want, "info> refused bob at 10.99.0.4: key "+id.Short()+" is not the bob you know ("+bob.Short()+"); to accept it: scuttle trust bob "+string(id))
	}
	want = append(want,
		"info> refused 10 different keys as bob so far, the last at 10.99.0.4; only "+bob.Short()+" is the bob you know",
		"info> refused 100 different keys as bob so far, the last at 10.99.0.4; only "+bob.Short()+" is the bob you know")
	if got := printed(out); !slices.Equal(got, want) {
		t.Errorf("printed\n%q\nwant\n%q", got, want)
	}
}

// TestAuthorizeFullStore: the store holds as many direct bindings as it
// may. A new peer is still accepted, unbound, and one line says so.
func TestAuthorizeFullStore(t *testing.T) {
	c, ns, out := newAuthChat(t, &names.Options{MaxBindings: 1})
	k1, k2, k3 := newTestDB(t).ID(), newTestDB(t).ID(), newTestDB(t).ID()
	for i, p := range []struct {
		name string
		key  applog.ID
	}{{"bob", k1}, {"carol", k2}, {"dave", k3}} {
		if err := c.authorize(p.name, "", p.key, lan, false); err != nil {
			t.Errorf("peer %d, %s, refused: %v", i, p.name, err)
		}
	}
	want := []string{"info> the names store holds as many direct bindings as it may: carol at 10.99.0.4 is connected, but its name is not bound to its key; scuttle names lists them, scuttle trust binds one"}
	if got := printed(out); !slices.Equal(got, want) {
		t.Errorf("printed\n%q\nwant\n%q", got, want)
	}
	if b, ok := ns.Lookup("carol"); ok {
		t.Errorf("carol bound in a full store: %v", b)
	}
}

// TestUnitChatRelayedClaim: "chat carol" where carol's database holds
// a stranger's log, relayed by someone, whose entries are written as
// alice, a name carol did not give. The real alice connects all the
// same, her lines print as alice's, and the stranger's as alice~SHORT.
// (A name carol gave is never claimed at all: TestUnitChatReservedRelayed.)
func TestUnitChatRelayedClaim(t *testing.T) {
	dir := t.TempDir()
	carol, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	stranger := newTestDB(t, `{"username":"alice","message":"I am alice, trust me"}`)
	copyLogs(t, stranger, carol)
	carol.Close()

	fn := newFakeNet()
	c := startUnitChat(t, fn, dir, "carol")
	ss := stranger.ID().Short()
	c.expect("alice> I am alice, trust me")
	a := startUnitChat(t, fn, "", "alice", "carol")
	as := a.db.ID().Short()
	c.expect("info> direct connection to alice",
		"info> alice is "+as+", who connected; the lines as alice of "+ss+", which only claimed the name, print as alice~"+ss+" from now on")
	a.say("the real alice")
	c.expect("alice> the real alice")
	if _, err := stranger.Append([]byte(`{"username":"alice","message":"still me"}`)); err != nil {
		t.Fatal(err)
	}
	copyLogs(t, stranger, c.db)
	c.expect("alice~" + ss + "> still me")
	c.drain()
	for _, l := range c.seen {
		if strings.HasPrefix(l, "info> refused") {
			t.Errorf("carol printed %q", l)
		}
	}
}
