package chat

import (
	"crypto/ed25519"
	"strconv"
	"strings"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/applog/replicate"
)

// The attacks of issue 19 on a name the user gave on the command line,
// made as a stranger makes them, over real TLS: a stranger that connects
// first as that name, a stranger reached through a relay that writes as
// it, and a flood of fresh keys that connect as it. Each fails on the
// code before reserved names: the stranger took the name, and the real
// peer was refused.

// letInLine is what carol prints of a peer with key that gave the name
// she gave, alice, without her dial of alice.
func letInLine(key applog.ID) string {
	return "info> alice at 127.0.0.1 is let in as alice~" + key.Short() + ", unbound: you named alice, and only your dial of alice binds the name; if it is alice: scuttle trust alice " + string(key)
}

// strangerDB returns a stranger's database, whose own log holds entries.
func strangerDB(t *testing.T, entries ...string) (*applog.DB, ed25519.PrivateKey) {
	db := newTestDB(t, entries...)
	return db, db.PrivateKey()
}

// TestUnitChatReservedStrangerFirst: "chat carol alice" while alice is
// away. A stranger connects first, as alice, and writes as alice. It is
// let in after the grace, unbound, with one line, and its lines print as
// alice~SHORT. The real alice comes: carol's dial of her binds the name,
// and her lines print as alice's.
func TestUnitChatReservedStrangerFirst(t *testing.T) {
	fn := newFakeNet()
	c := startUnitChat(t, fn, "", "carol", "alice")
	sdb, skey := strangerDB(t, `{"username":"alice","message":"I am alice, trust me"}`)
	sid := sdb.ID()
	runStrangerKey(t, skey, "alice", c.addr, replicate.FromDB(sdb))
	c.expect(letInLine(sid), "info> direct connection to alice~"+sid.Short(), "alice~"+sid.Short()+"> I am alice, trust me")
	if b, ok := c.names.Lookup("alice"); ok {
		t.Fatalf("alice is bound to the stranger's %s, %v", b.ID.Short(), b.How)
	}

	a := startUnitChat(t, fn, "", "alice")
	c.expect("info> direct connection to alice")
	a.say("the real alice")
	c.expect("alice> the real alice")
	checkBindings(t, c.names, map[string]string{"carol": "named " + string(c.db.ID()), "alice": "named " + string(a.db.ID())})
	c.drain()
	for _, l := range c.seen {
		if strings.HasPrefix(l, "info> refused") || strings.HasPrefix(l, "alice> I am") {
			t.Errorf("carol printed %q", l)
		}
	}
}

// TestUnitChatReservedRelayed: "chat carol bob alice". Bob holds a
// stranger's log whose entries are written as alice; carol gets it
// through bob before she meets alice. The claim binds nothing: the
// stranger's lines print as alice~SHORT from the first, and the real
// alice, once dialled, is alice, with no refusal and no word of a claim.
func TestUnitChatReservedRelayed(t *testing.T) {
	fn := newFakeNet()
	sdb, _ := strangerDB(t, `{"username":"alice","message":"I am alice, trust me"}`)
	ss := sdb.ID().Short()
	bobDir := t.TempDir()
	bdb, err := applog.Open(bobDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	copyLogs(t, sdb, bdb)
	bdb.Close()
	startUnitChat(t, fn, bobDir, "bob")
	c := startUnitChat(t, fn, "", "carol", "bob", "alice")
	c.expect("info> direct connection to bob", "alice~"+ss+"> I am alice, trust me")

	a := startUnitChat(t, fn, "", "alice")
	c.expect("info> direct connection to alice")
	a.say("the real alice")
	c.expect("alice> the real alice")
	checkBindings(t, c.names, map[string]string{
		"carol": "named " + string(c.db.ID()), "bob": "named " + string(bdb.ID()), "alice": "named " + string(a.db.ID()),
	})
	c.drain()
	for _, l := range c.seen {
		if strings.HasPrefix(l, "info> refused") || strings.HasPrefix(l, "info> alice is") {
			t.Errorf("carol printed %q", l)
		}
	}
}

// TestUnitChatReservedFlood: "chat carol alice" while alice is away;
// ten fresh keys connect as alice. None is bound: the first three
// are told in full, the tenth counted; then the real alice, dialled,
// is alice.
func TestUnitChatReservedFlood(t *testing.T) {
	fn := newFakeNet()
	c := startUnitChat(t, fn, "", "carol", "alice")
	const flood = 10
	want := []string{"info> let in 10 different keys as alice unbound so far, the last at 127.0.0.1; only your dial of alice binds the name"}
	for range flood {
		_, key, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		runStrangerKey(t, key, "alice", c.addr, replicate.FromDB(newTestDB(t)))
		want = append(want, "info> direct connection to alice~"+applog.IDOf(key.Public().(ed25519.PublicKey)).Short())
	}
	c.await(want...)
	if b, ok := c.names.Lookup("alice"); ok {
		t.Fatalf("alice is bound to %s, %v, after the flood", b.ID.Short(), b.How)
	}
	a := startUnitChat(t, fn, "", "alice")
	c.await("info> direct connection to alice")
	a.say("the real alice")
	c.await("alice> the real alice")
	checkBindings(t, c.names, map[string]string{"carol": "named " + string(c.db.ID()), "alice": "named " + string(a.db.ID())})
	c.drain()
	letIn := 0
	for _, l := range c.seen {
		if strings.Contains(l, "is let in as alice~") {
			letIn++
		}
		if strings.HasPrefix(l, "info> refused") {
			t.Errorf("carol printed %q", l)
		}
	}
	if letIn != toldInFull {
		t.Errorf("carol told of %d keys let in as alice in full, want %d; output %q", letIn, toldInFull, c.seen)
	}
}

// TestUnitChatReservedProof: at a first meeting the chats' dials cross:
// the connection bob makes to alice waits for alice's dial of bob, which
// binds him, and is then let in as bob, within the grace.
func TestUnitChatReservedProof(t *testing.T) {
	fn := newFakeNet()
	a := startUnitChat(t, fn, "", "alice", "bob")
	start := time.Now()
	b := startUnitChat(t, fn, "", "bob", "alice")
	a.expect("info> direct connection to bob")
	b.expect("info> direct connection to alice")
	if d := time.Since(start); d >= proofGrace {
		t.Errorf("the first meeting took %v, the whole grace (%v)", d, proofGrace)
	}
	b.say("hi")
	a.expect("bob> hi")
	a.drain()
	for _, l := range a.seen {
		if strings.Contains(l, "let in") {
			t.Errorf("alice printed %q", l)
		}
	}
}

// TestAuthorizeNamedRoom: fresh keys connect directly under fresh names
// until the names store holds as many Direct bindings as it may; the
// peer the user named is bound all the same when the chat's dial of it
// proves its key (names.Named), and so is the own name.
func TestAuthorizeNamedRoom(t *testing.T) {
	ns, err := names.Open(t.TempDir(), &names.Options{MaxBindings: 3})
	if err != nil {
		t.Fatal(err)
	}
	c := New(Config{Me: "carol", Peers: []string{"alice"}, DB: newTestDB(t), Names: ns, Out: newLineWriter()})
	for i := range 10 {
		key := make([]byte, 32)
		key[0], key[1] = byte(i), 0xd1
		if err := c.authorize("fresh"+strconv.Itoa(i), "", applog.IDOf(key), lan, false); err != nil {
			t.Fatalf("fresh key %d refused: %v", i, err)
		}
	}
	c.bindSelf()
	alice := newTestDB(t).ID()
	if err := c.authorize("alice", "alice", alice, lan, true); err != nil {
		t.Fatalf("the dial of alice refused: %v", err)
	}
	for name, id := range map[string]applog.ID{"alice": alice, "carol": c.cfg.DB.ID()} {
		if b, ok := ns.Lookup(name); !ok || b.ID != id || b.How.String() != "named" {
			t.Errorf("%s in a store full of fresh keys' bindings: %v %v, want named %s", name, b, ok, id.Short())
		}
	}
}
