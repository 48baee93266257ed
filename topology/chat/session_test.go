package chat

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/replicate"
	"scuttle/topology"
	"scuttle/topology/testkit"
)

// Strangers as the chat meets them: a peer over real TLS whose
// connections replicate a store of its making (made-up logs, lies about
// the own log's head).

// madeUpLog is testkit.MadeUpLog, with the log's ID.
func madeUpLog(t testing.TB, payload string) (applog.ID, []byte) {
	t.Helper()
	pub, rec := testkit.MadeUpLog(t, payload)
	return applog.IDOf(pub), rec
}

// runStranger runs a peer named name with a fresh key that dials addr
// over real TLS and replicates st on each connection, until the test
// ends or stop is called; stop waits for it.
func runStranger(t *testing.T, name, addr string, st replicate.Store) (stop func()) {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return runStrangerKey(t, key, name, addr, st)
}

// runStrangerKey is runStranger with the stranger's key.
func runStrangerKey(t *testing.T, key ed25519.PrivateKey, name, addr string, st replicate.Store) (stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &topology.Swarm{Key: key, Name: name, Listener: ln, Peers: []string{addr},
		Handler: func(ctx context.Context, c *topology.Conn) error {
			return replicate.Serve(ctx, c, st, &replicate.Options{WriteTimeout: -1})
		}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(testkit.ChatWait):
			t.Fatalf("stranger %s did not stop within %v", name, testkit.ChatWait)
		}
	}
	t.Cleanup(stop)
	return stop
}

// await waits for lines of u's output as expect does, whatever else it
// prints meanwhile (the entries of made-up logs, info lines).
func (u *unitChat) await(want ...string) {
	u.t.Helper()
	testkit.ExpectLines(u.t, u.name, u.out.lines, &u.seen, func(string) bool { return true }, want)
}

// TestUnitChatFloodNamedPeer: a stranger serves made-up one-entry logs
// to bob, whose --max-logs is 64. Bob takes the stranger's share of it
// (replicate.NewQuota: 64/32 = 2 new logs) and no more, so the stranger
// cannot fill the limit alone (before, it took 12 of the 63 places, and
// the limit line followed with a longer flood); alice, whom bob named,
// then connects and speaks, and her line is shown; the new logs she
// relays, more than a stranger's share, are all taken.
func TestUnitChatFloodNamedPeer(t *testing.T) {
	fn := newFakeNet()
	const maxLogs, share = 64, 2
	b := startUnitChatOpts(t, fn, &applog.Options{MaxLogs: maxLogs}, "", "bob", "alice")
	sdb := newTestDB(t)
	var flood []applog.ID
	for i := range 12 {
		id, rec := madeUpLog(t, fmt.Sprint("spam ", i))
		if _, err := sdb.Insert(id, [][]byte{rec}); err != nil {
			t.Fatal(err)
		}
		flood = append(flood, id)
	}
	held := func() int {
		n := 0
		for _, id := range flood {
			if b.db.Head(id) != 0 {
				n++
			}
		}
		return n
	}
	runStranger(t, "mallory", b.addr, replicate.FromDB(sdb))
	timeout := time.After(30 * time.Second)
	for {
		changed := b.db.Changed()
		if held() >= share {
			break
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("bob holds %d of the stranger's logs after 30s, want %d", held(), share)
		}
	}
	// The user hears why, once, however many of its logs are skipped.
	const skipping = "info> skipping new logs relayed by mallory: past the share of a peer nobody named (2 of --max-logs 64); naming it on the command line lifts that"
	b.await(skipping)

	a := startUnitChat(t, fn, "", "alice", "bob")
	a.say("hello")
	a.expect("alice> hello")
	b.await("alice> hello")
	if n := held(); n != share || b.db.Head(a.db.ID()) != 1 {
		t.Errorf("bob holds %d made-up logs and %d of alice's; want %d (the stranger's share) and 1", n, b.db.Head(a.db.ID()), share)
	}

	// alice, named, relays more new logs than a stranger's share: her
	// connection draws on no quota, and bob takes them all.
	relayAll(t, a, b, 3*share)
	b.drain()
	if n := b.count(skipping); n != 1 {
		t.Errorf("bob printed the quota's line %d times, want once", n)
	}
}

// liar is a stranger's store that holds nothing but says it holds log
// id up to head.
type liar struct {
	id   applog.ID
	head uint64
}

func (l liar) Heads() map[applog.ID]uint64               { return map[applog.ID]uint64{l.id: l.head} }
func (l liar) Changed() <-chan struct{}                  { return nil }
func (l liar) Iter(applog.ID, uint64) replicate.Iterator { return emptyIter{} }
func (l liar) Insert(applog.ID, [][]byte) (int, error)   { return 0, nil }
func (l liar) Head(id applog.ID) uint64                  { return map[bool]uint64{true: l.head}[id == l.id] }
func (emptyIter) Next() bool                             { return false }
func (emptyIter) Record() []byte                         { return nil }
func (emptyIter) Signed() bool                           { return false }
func (emptyIter) Err() error                             { return nil }
func (emptyIter) Close() error                           { return nil }

type emptyIter struct{}

// awaitClaim waits until a connected peer of u claims the own log up
// to want.
func (u *unitChat) awaitClaim(want uint64) {
	u.t.Helper()
	deadline := time.After(testkit.ChatWait)
	for {
		got, _, ch := u.c.own.get()
		if got == want {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			u.t.Fatalf("%s: own log claimed up to %d within %v, want %d", u.name, got, testkit.ChatWait, want)
		}
	}
}

const lieHead = 1_000_000

// waitLine is the line a chat prints when a peer says it holds more of
// the own log.
func waitLine(head uint64) string {
	return fmt.Sprintf("info> a peer holds your own log up to seq %d, this database to %d: waiting for the rest before sending", lieHead, head)
}

// TestUnitChatOwnHeadLiarLeaves: a stranger advertises a huge head of
// alice's own log, then leaves. Its claim leaves with it: alice's next
// lines go at once, without waiting for entries nobody holds.
func TestUnitChatOwnHeadLiarLeaves(t *testing.T) {
	fn := newFakeNet()
	a := startUnitChat(t, fn, "", "alice")
	stop := runStranger(t, "mallory", a.addr, liar{a.db.ID(), lieHead})
	a.awaitClaim(lieHead)
	stop()
	a.await("info> lost connection to mallory")
	a.say("one")
	a.say("two")
	a.expect("alice> one", "alice> two")
	if n := a.count(waitLine(0)) + a.count(waitLine(1)); n != 0 {
		t.Errorf("alice waited for a peer that left: %q", a.seen)
	}
}

// TestUnitChatOwnHeadLiarStays: a stranger that advertises a huge head
// of alice's own log and stays connected stalls one line, once: the
// line goes after ownStall, and the lines after it go at once.
func TestUnitChatOwnHeadLiarStays(t *testing.T) {
	defer func(d time.Duration) { ownStall = d }(ownStall)
	ownStall = 200 * time.Millisecond
	fn := newFakeNet()
	a := startUnitChat(t, fn, "", "alice")
	runStranger(t, "mallory", a.addr, liar{a.db.ID(), lieHead})
	a.awaitClaim(lieHead)
	for _, line := range []string{"one", "two", "three"} {
		a.say(line)
		a.await("alice> " + line)
	}
	gaveUp := fmt.Sprintf("info> your own log's entries 1..%d did not arrive: sending anyway", lieHead)
	if a.count(waitLine(0)) != 1 || a.count(gaveUp) != 1 || a.count(waitLine(1))+a.count(waitLine(2)) != 0 {
		t.Errorf("alice waited more than once for a stranger's claim: %q", a.seen)
	}
	if want, _, _ := a.c.own.get(); want != 0 {
		t.Errorf("the claim is still believed after a wait gave up: %d", want)
	}
}

// TestUnitChatNamedDialledIn: "chat bob alice" with bob's dials of alice
// held back, so that alice's own dial is the connection that stays, and
// it began before bob knew her for the peer he named (she is let in
// unbound after the grace). Bob's dial then proves her; the connection
// she made goes on, and the new logs she relays, more than a stranger's
// share, are all taken: her session's quota asks at each new log
// whether she is named, not once when it began (before, it held her to
// a stranger's 2 for as long as the connection lasted).
func TestUnitChatNamedDialledIn(t *testing.T) {
	fn := newFakeNet()
	const maxLogs, share = 64, 2
	release := make(chan struct{})
	hold := func(cfg *Config) {
		cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasPrefix(addr, "alice.") {
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			return fn.Dial(ctx, network, addr)
		}
	}
	b := startUnitChatWith(t, fn, &applog.Options{MaxLogs: maxLogs}, hold, nil, "", "bob", "alice")
	a := startUnitChat(t, fn, "", "alice", "bob")
	b.await(letInLine(a.db.ID()))
	if b.c.named(a.db.ID()) {
		t.Fatal("bob takes alice for the peer he named before his dial of her proved it")
	}
	close(release)
	deadline := time.After(testkit.ChatWait)
	for {
		ch, _ := b.c.proofs.changed()
		if b.c.named(a.db.ID()) {
			break
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("bob's dial of alice did not prove her within %v", testkit.ChatWait)
		}
	}

	relayAll(t, a, b, 3*share)
}

// relayAll makes n new one-entry logs in a's store and waits up to 30 s
// until b holds every one: a relays them.
func relayAll(t *testing.T, a, b *unitChat, n int) {
	t.Helper()
	var relayed []applog.ID
	for i := range n {
		id, rec := madeUpLog(t, fmt.Sprint("relayed ", i))
		if _, err := a.db.Insert(id, [][]byte{rec}); err != nil {
			t.Fatal(err)
		}
		relayed = append(relayed, id)
	}
	timeout := time.After(30 * time.Second)
	for {
		changed, n := b.db.Changed(), 0
		for _, id := range relayed {
			if b.db.Head(id) != 0 {
				n++
			}
		}
		if n == len(relayed) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("bob holds %d of the %d logs alice relays after 30s, want all", n, len(relayed))
		}
	}
}
