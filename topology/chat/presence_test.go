package chat

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/topology"
)

// fakeClock is a chat's clock that the test sets.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) get() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// TestUnitChatWhoStatus: a peer that connects is connected in Who and
// counted in the status, which the Screen is told at once; when it
// leaves, it is last seen then, and the status counts it no more. /who
// says both, with the date once the day has changed.
func TestUnitChatWhoStatus(t *testing.T) {
	fn := newFakeNet()
	clock := &fakeClock{now: time.Date(2026, 12, 6, 9, 5, 0, 0, time.Local)}
	a, scr := startScreenChat(t, fn, func(c *Chat) { c.clock = clock.get }, "alice", "bob")
	scr.awaitStatus(t, Status{Me: "alice"})
	if who := a.c.Who(); len(who) != 0 {
		t.Errorf("Who before any peer: %v", who)
	}
	t0 := clock.get()
	b := startUnitChat(t, fn, "", "bob", "alice")
	a.expect("info> direct connection to bob")
	scr.awaitStatus(t, Status{Me: "alice", Peers: 1})
	if who, want := a.c.Who(), []Presence{{Name: "bob", Log: b.db.ID(), Connected: true, Since: t0}}; !slices.Equal(who, want) {
		t.Errorf("Who with bob connected: %v, want %v", who, want)
	}
	a.typeLine("/who")
	a.expectNext("info> bob connected since 09:05")

	t1 := time.Date(2026, 12, 6, 9, 40, 0, 0, time.Local)
	clock.set(t1)
	b.stop(fn)
	a.expect("info> lost connection to bob")
	scr.awaitStatus(t, Status{Me: "alice", Peers: 0})
	if who, want := a.c.Who(), []Presence{{Name: "bob", Log: b.db.ID(), Since: t1}}; !slices.Equal(who, want) {
		t.Errorf("Who once bob left: %v, want %v", who, want)
	}
	// From now on alice's redials of bob may print that bob is
	// unreachable, at any moment: expect skips those lines.
	a.typeLine("/who")
	a.expect("info> bob last seen 09:40")
	clock.set(time.Date(2026, 12, 7, 8, 0, 0, 0, time.Local))
	a.typeLine("/who")
	a.expect("info> bob last seen Dec 6 09:40")
	a.stop(fn)
}

// TestStatus: the status names the own name escaped, and the network.
func TestStatus(t *testing.T) {
	tests := []struct {
		cfg  Config
		want Status
	}{
		{Config{Me: "alice"}, Status{Me: "alice"}},
		{Config{Me: "a\x1b[2J", NetworkKey: make([]byte, 32)}, Status{Me: `a\x1b[2J`, Private: true}},
	}
	for _, tt := range tests {
		if got := New(tt.cfg).Status(); got != tt.want {
			t.Errorf("%+v: Status %+v, want %+v", tt.cfg, got, tt.want)
		}
	}
}

// TestPresenceBounded: past 1024 peers, the one seen the longest ago is
// forgotten; connected peers are never forgotten for a new one.
func TestPresenceBounded(t *testing.T) {
	ps := newPresenceSet()
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	id := func(i int) applog.ID { return applog.ID(fmt.Sprintf("%052d", i)) }
	for i := range maxPresence {
		ps.note(topology.Connected, id(i), "p", at.Add(time.Duration(i)*time.Second))
		if i > 0 {
			ps.note(topology.Disconnected, id(i), "p", at.Add(time.Duration(i)*time.Second))
		}
	}
	ps.note(topology.Connected, id(maxPresence), "new", at.Add(time.Hour))
	if n := len(ps.peers); n != maxPresence {
		t.Fatalf("%d peers remembered, want %d", n, maxPresence)
	}
	if _, ok := ps.peers[id(0)]; !ok {
		t.Error("the connected peer 0 was forgotten")
	}
	if _, ok := ps.peers[id(1)]; ok {
		t.Error("peer 1, seen the longest ago, is still remembered")
	}
	if n := ps.connected(); n != 2 {
		t.Errorf("%d connected, want 2", n)
	}
}
