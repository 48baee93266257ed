package overlay

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

func newMachine(t *testing.T, p Params, self Peer) *Machine {
	t.Helper()
	m, err := New(p, self, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func at(ms int) time.Time { return epoch.Add(time.Duration(ms) * time.Millisecond) }

func peers(prefix string, n int) []Peer {
	var ps []Peer
	for i := range n {
		ps = append(ps, Peer(fmt.Sprintf("%s%02d", prefix, i)))
	}
	return ps
}

func TestParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Params
		ok   bool
	}{
		{"zero", Params{}, true},
		{"no near, no extra, no eviction limit", Params{Near: -1, Extra: -1, EvictInterval: -1}, true},
		{"active 11", Params{MaxActive: 11}, false},
		{"active 1", Params{MaxActive: 1}, false},
		{"near above half", Params{MaxActive: 4, Near: 3}, false},
		{"passive 257", Params{MaxPassive: 257}, false},
		{"walk 11", Params{ActiveWalk: 11}, false},
		{"passive walk above active walk", Params{ActiveWalk: 2, PassiveWalk: 3}, false},
		{"shuffle too often", Params{ShuffleInterval: time.Millisecond}, false},
		{"shuffle more active than the bound", Params{MaxActive: 4, ShuffleActive: 5}, false},
		{"reply timeout too short", Params{ReplyTimeout: time.Millisecond}, false},
		{"extra 5", Params{Extra: 5}, false},
		{"a shuffle of 16 peers", Params{ShuffleActive: 10, ShufflePassive: 5}, true},
		{"a shuffle of 17 peers, past the wire's bound", Params{ShuffleActive: 10, ShufflePassive: 6}, false},
	} {
		err := tc.p.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
		if _, err2 := New(tc.p, "me", 1); (err2 == nil) != tc.ok {
			t.Errorf("%s: New error %v, want ok %v", tc.name, err2, tc.ok)
		}
	}
}

// TestTarget: ceil(log2(N)) + 1 for a room of N, at most 10, and never
// more than the other peers known (none: 0).
func TestTarget(t *testing.T) {
	for _, tc := range []struct{ room, want int }{
		{0, 0}, {2, 1}, {3, 2}, {8, 4}, {16, 5}, {64, 7}, {200, 9}, {1000, 10}, {100000, 10},
	} {
		m := newMachine(t, Params{}, "me")
		m.SetRoomSize(tc.room)
		if got := m.Target(); got != tc.want {
			t.Errorf("room %d: target %d, want %d", tc.room, got, tc.want)
		}
	}
}

// TestNamedApart: named peers are active whatever the bound, do not
// count against it, and stay through a Disconnect or a Down.
func TestNamedApart(t *testing.T) {
	m := newMachine(t, Params{}, "me")
	m.SetRoomSize(1000)
	named := peers("n", 15)
	for _, p := range named {
		m.Name(p)
	}
	for i, p := range peers("s", 30) {
		m.Receive(nil, at(i*1000), p, Msg{Kind: Neighbor})
	}
	if got := m.count(); got != 10 {
		t.Errorf("%d active besides the named, want 10", got)
	}
	m.Receive(nil, at(40000), "n00", Msg{Kind: Disconnect})
	m.Down("n01")
	for _, p := range named {
		if !slices.Contains(m.Active(), p) {
			t.Errorf("named %s not active", p)
		}
	}
	if got := len(m.Active()); got != 25 {
		t.Errorf("%d active, want 25 (15 named, 10 others)", got)
	}
}

// TestEvictionRate: joins and high-priority requests from strangers
// evict at most one active peer per EvictInterval.
func TestEvictionRate(t *testing.T) {
	m := newMachine(t, Params{}, "me")
	m.SetRoomSize(1000)
	friends := peers("f", 10)
	for _, p := range friends {
		m.Receive(nil, at(0), p, Msg{Kind: Neighbor})
	}
	evicted := 0
	for i, p := range peers("x", 99) {
		// 99 joins and high-priority requests within 990ms.
		kind := Join
		if i%2 == 1 {
			kind = Neighbor
		}
		for _, out := range m.Receive(nil, at(1000+10*i), p, Msg{Kind: kind, High: true}) {
			if out.Kind == Disconnect && slices.Contains(friends, out.To) {
				evicted++
			}
		}
	}
	if evicted != 1 {
		t.Errorf("%d friends evicted within one EvictInterval, want 1", evicted)
	}
	if got := m.count(); got != 10 {
		t.Errorf("%d active, want 10", got)
	}
}

// TestStrangerWalks: a peer not active cannot forward a join or a
// shuffle through this one, and a shuffle's list is cut to its bound.
func TestStrangerWalks(t *testing.T) {
	m := newMachine(t, Params{}, "me")
	m.SetRoomSize(100)
	m.Receive(nil, at(0), "a", Msg{Kind: Neighbor})
	m.Receive(nil, at(0), "b", Msg{Kind: Neighbor})
	if out := m.Receive(nil, at(1), "stranger", Msg{Kind: ForwardJoin, Peer: "x", TTL: 0}); len(out) != 0 || len(m.Active()) != 2 {
		t.Errorf("stranger's forward join: out %+v, active %v", out, m.Active())
	}
	if out := m.Receive(nil, at(1), "stranger", Msg{Kind: Shuffle, Peer: "x", Peers: peers("y", 10)}); len(out) != 0 || len(m.Passive()) != 0 {
		t.Errorf("stranger's shuffle: out %+v, passive %v", out, m.Passive())
	}
	out := m.Receive(nil, at(2), "a", Msg{Kind: Shuffle, Peer: "o", TTL: 0, Peers: peers("y", 100)})
	if want := DefaultShuffleActive + DefaultShufflePassive + 1; len(m.Passive()) != want {
		t.Errorf("a shuffle of 100 peers left %d passive, want %d", len(m.Passive()), want)
	}
	if len(out) != 1 || out[0].Kind != ShuffleReply || out[0].To != "o" {
		t.Errorf("shuffle reply %+v", out)
	}
	if out := m.Receive(nil, at(3), "a", Msg{Kind: ShuffleReply, Peers: peers("z", 1000)}); len(out) != 0 || len(m.Passive()) > DefaultMaxPassive {
		t.Errorf("shuffle reply of 1000: out %+v, %d passive", out, len(m.Passive()))
	}
}

// TestRepair: a failed active peer is replaced from the passive set at
// the next tick, by the nearest known while fewer than Near links are
// near; a request unanswered for ReplyTimeout is given up and the next
// peer asked.
func TestRepair(t *testing.T) {
	m := newMachine(t, Params{ShuffleInterval: 10 * time.Minute}, "me")
	m.SetRoomSize(8)   // target 4
	m.Tick(nil, at(0)) // the first shuffle: none active, nothing sent
	for _, p := range []Peer{"a", "b", "c", "d"} {
		m.Receive(nil, at(0), p, Msg{Kind: Neighbor})
	}
	m.Discovered("far", 80*time.Millisecond)
	m.Discovered("near", 2*time.Millisecond)
	m.Discovered("mid", 10*time.Millisecond)
	if out := m.Tick(nil, at(1)); len(out) != 0 {
		t.Fatalf("tick at target: %+v", out)
	}
	m.Down("a")
	want := []Msg{{To: "near", Kind: Neighbor}}
	if out := m.Tick(nil, at(2)); !reflect.DeepEqual(out, want) {
		t.Fatalf("repair: %+v, want %+v", out, want)
	}
	if out := m.Tick(nil, at(3)); len(out) != 0 {
		t.Fatalf("second tick while the request is out: %+v", out)
	}
	// No answer within ReplyTimeout: near is dropped, mid asked.
	want = []Msg{{To: "mid", Kind: Neighbor}}
	if out := m.Tick(nil, at(2+2000)); !reflect.DeepEqual(out, want) {
		t.Fatalf("after the timeout: %+v, want %+v", out, want)
	}
	m.Receive(nil, at(2010), "mid", Msg{Kind: NeighborReply, Accept: true})
	if got := m.Active(); !reflect.DeepEqual(got, []Peer{"b", "c", "d", "mid"}) {
		t.Errorf("active %v, want [b c d mid]", got)
	}
	if got := m.Passive(); !reflect.DeepEqual(got, []Peer{"far"}) {
		t.Errorf("passive %v, want [far]", got)
	}
}

// TestJoinOnce: a join from a peer already active starts no second walk.
func TestJoinOnce(t *testing.T) {
	m := newMachine(t, Params{}, "me")
	m.SetRoomSize(100)
	for _, p := range []Peer{"a", "b", "c"} {
		m.Receive(nil, at(0), p, Msg{Kind: Neighbor})
	}
	out := m.Receive(nil, at(1), "j", Msg{Kind: Join})
	if len(out) != 4 { // accept, and a walk to each of a, b, c
		t.Fatalf("first join: %+v, want a reply and 3 forward joins", out)
	}
	out = m.Receive(nil, at(2), "j", Msg{Kind: Join})
	if want := []Msg{{To: "j", Kind: NeighborReply, Accept: true}}; !reflect.DeepEqual(out, want) {
		t.Errorf("second join: %+v, want %+v", out, want)
	}
}
