package ebt

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

func newMachine(t *testing.T, p Params) *Machine {
	t.Helper()
	m, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func at(ms int) time.Time { return epoch.Add(time.Duration(ms) * time.Millisecond) }

func wantMsgs(t *testing.T, what string, got, want []Msg) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// taken returns msgs, of m, with each Owed message replaced by the notes
// m owes (TakeOwed, all of them), sorted by log, as a caller sends them.
func taken(m *Machine, msgs []Msg) []Msg {
	var out []Msg
	for _, msg := range msgs {
		if msg.Kind == Owed {
			ns := m.TakeOwed(nil, msg.To, math.MaxInt)
			if len(ns) == 0 {
				continue
			}
			slices.SortFunc(ns, func(a, b Note) int { return cmp.Compare(a.Log, b.Log) })
			msg = notes(msg.To, ns...)
		}
		out = append(out, msg)
	}
	return out
}

func notes(to Peer, ns ...Note) Msg { return Msg{To: to, Kind: Notes, Notes: ns} }

func push(to Peer, l Log, from, thru uint64) Msg {
	return Msg{To: to, Kind: Push, Log: l, From: from, Thru: thru}
}

// TestConnectHeads: a new neighbour's first notes are the heads, eager
// for the logs no neighbour pushes yet and lazy for the rest, so that a
// second connection does not double what the first brings.
func TestConnectHeads(t *testing.T) {
	m := newMachine(t, Params{})
	m.Append(nil, at(0), "a", 3)
	m.Append(nil, at(0), "b", 1)
	wantMsgs(t, "first connection", taken(m, m.Connect(nil, at(1), "x")),
		[]Msg{notes("x", Note{"a", 3, true, false}, Note{"b", 1, true, false})})
	wantMsgs(t, "second connection", taken(m, m.Connect(nil, at(1), "y")),
		[]Msg{notes("y", Note{"a", 3, false, false}, Note{"b", 1, false, false})})
	// x asks for a eagerly from seq 1: it gets 2 and 3 pushed.
	wantMsgs(t, "graft from x", m.ReceivedNotes(nil, at(2), "x", []Note{{"a", 1, true, false}}),
		[]Msg{push("x", "a", 2, 3)})
	// Nothing rose: the tick notes nothing.
	wantMsgs(t, "tick", m.Tick(nil, at(100)), nil)
}

// TestDuplicatePrunes: an entry received a second time, from a second
// source, asks that source to go lazy; the last source is never pruned.
func TestDuplicatePrunes(t *testing.T) {
	m := newMachine(t, Params{})
	m.Connect(nil, at(0), "x")
	m.Connect(nil, at(0), "y")
	// Both neighbours hold l, y further, and are asked for it.
	m.ReceivedNotes(nil, at(0), "x", []Note{{"l", 1, false, false}})
	m.ReceivedNotes(nil, at(0), "y", []Note{{"l", 2, false, false}})
	wantMsgs(t, "graft", m.Tick(nil, at(100)), []Msg{notes("y", Note{"l", 0, true, false})})
	// x too, after a switch time without progress.
	wantMsgs(t, "graft after switch", m.Tick(nil, at(700)), []Msg{notes("x", Note{"l", 0, true, false})})
	if got := m.Sources("l"); !reflect.DeepEqual(got, []Peer{"x", "y"}) {
		t.Fatalf("sources %v, want [x y]", got)
	}
	// x delivers 1 first: y, known to hold more, is not pruned for it
	// (TestNewEntryPrunes).
	out, isNew := m.Received(nil, at(701), "x", "l", 1)
	if !isNew || len(out) != 0 {
		t.Fatalf("first copy: new %v, out %+v; want new, nothing to send", isNew, out)
	}
	out, isNew = m.Received(nil, at(702), "y", "l", 1)
	if isNew {
		t.Fatal("second copy reported new")
	}
	wantMsgs(t, "duplicate", out, []Msg{notes("y", Note{"l", 1, false, false})})
	// y's 2 was on its way and comes first: a pruned neighbour's entry
	// counts, and prunes nothing; x's 2, a duplicate from the last
	// source left, prunes nothing either.
	out, isNew = m.Received(nil, at(703), "y", "l", 2)
	if !isNew || len(out) != 0 {
		t.Fatalf("y's 2: new %v, out %+v; want new, nothing to send", isNew, out)
	}
	out, _ = m.Received(nil, at(704), "x", "l", 2)
	wantMsgs(t, "duplicate from the last source", out, nil)
	if got := m.Sources("l"); !reflect.DeepEqual(got, []Peer{"x"}) {
		t.Errorf("sources %v, want [x]", got)
	}
}

// TestNewEntryPrunes: a source that delivers a log's new head prunes
// each other source pushing it at once, not once that source's copy has
// come (a duplicate and its acknowledgement, about 390 bytes, against
// about 160 for the prune): the fastest source stays (Plumtree's rule).
// The notes waiting for the pruned source go with the prune. A source
// that asked this peer to push the log gets the entry from it and sends
// no copy back, and is not pruned for it.
func TestNewEntryPrunes(t *testing.T) {
	// u leaves: b, which holds as much as this peer, is grafted (a
	// guess), then w, which notes more: two sources, as a room's forming
	// leaves them.
	m := fedMachine(t, "b", "w")
	m.ReceivedNotes(nil, at(200), "b", []Note{{"l", 1, false, false}})
	m.ReceivedNotes(nil, at(200), "w", []Note{{"l", 1, false, false}})
	wantMsgs(t, "u leaves", m.Disconnect(nil, at(300), "u"), []Msg{notes("b", Note{"l", 1, true, false})})
	m.ReceivedNotes(nil, at(400), "w", []Note{{"l", 2, false, false}})
	// A note of log a waits for b (NoteDelay), and goes with w's graft.
	m.Append(nil, at(450), "a", 1)
	wantMsgs(t, "graft w", m.Tick(nil, at(500)), []Msg{notes("w", Note{"l", 1, true, false}, Note{"a", 1, false, false})})
	out, isNew := m.Received(nil, at(501), "w", "l", 2)
	if !isNew {
		t.Fatal("w's 2 not new")
	}
	// b's note of a goes with the prune.
	wantMsgs(t, "w's 2 prunes b", out, []Msg{notes("b", Note{"l", 2, false, false}, Note{"a", 1, false, false})})
	if got := m.Sources("l"); !reflect.DeepEqual(got, []Peer{"w"}) {
		t.Fatalf("sources %v, want [w]", got)
	}
	// b's copy was on its way: it prunes nothing more.
	out, isNew = m.Received(nil, at(502), "b", "l", 2)
	if isNew || len(out) != 0 {
		t.Fatalf("b's copy: new %v, out %+v; want a duplicate, nothing to send", isNew, out)
	}
	// A source known to hold the entry (it noted it, or more) may be
	// ahead, its push on its way: it is not pruned (TestDuplicatePrunes).

	// b is a source that asked this peer to push l (a cycle): u's new
	// entry is pushed to it, and b stays a source.
	c := newMachine(t, Params{Watchers: 3})
	c.Connect(nil, at(0), "b")
	c.Connect(nil, at(0), "u")
	c.ReceivedNotes(nil, at(1), "u", []Note{{"l", 1, false, false}})
	wantMsgs(t, "graft u", c.Tick(nil, at(100)), []Msg{notes("u", Note{"l", 0, true, false})})
	c.Received(nil, at(101), "u", "l", 1)
	wantMsgs(t, "b asks eagerly", c.ReceivedNotes(nil, at(200), "b", []Note{{"l", 1, true, false}}), nil)
	c.ReceivedNotes(nil, at(300), "b", []Note{{"l", 2, true, false}})
	wantMsgs(t, "graft b after switch time", c.Tick(nil, at(900)), []Msg{notes("b", Note{"l", 1, true, false})})
	c.Received(nil, at(901), "b", "l", 2)
	out, isNew = c.Received(nil, at(1000), "u", "l", 3)
	if !isNew {
		t.Fatal("u's 3 not new")
	}
	wantMsgs(t, "u's 3", out, []Msg{push("b", "l", 3, 3)})
	if got := c.Sources("l"); !reflect.DeepEqual(got, []Peer{"b", "u"}) {
		t.Errorf("sources %v, want [b u]", got)
	}
}

// TestGraftAfterSwitchTime: a lazy neighbour's note of an entry the
// eager one has not delivered makes this peer graft it after SwitchTime,
// not before; progress restarts the wait.
func TestGraftAfterSwitchTime(t *testing.T) {
	m := newMachine(t, Params{})
	m.Append(nil, at(0), "l", 1)
	m.Connect(nil, at(0), "x") // eager for l
	m.Connect(nil, at(0), "y") // lazy
	m.ReceivedNotes(nil, at(10), "y", []Note{{"l", 3, false, false}})
	wantMsgs(t, "tick before switch time", m.Tick(nil, at(100)), nil)
	m.Received(nil, at(300), "x", "l", 2) // progress: the wait restarts
	wantMsgs(t, "tick 500ms after the note", m.Tick(nil, at(600)), nil)
	wantMsgs(t, "tick 500ms after progress", m.Tick(nil, at(800)), []Msg{notes("y", Note{"l", 2, true, false})})
	// The other side of a graft: y pushes what this peer lacks.
	y := newMachine(t, Params{})
	y.Append(nil, at(0), "l", 3)
	y.Connect(nil, at(0), "me")
	wantMsgs(t, "graft received", y.ReceivedNotes(nil, at(801), "me", []Note{{"l", 2, true, false}}),
		[]Msg{push("me", "l", 3, 3)})
	wantMsgs(t, "then live", y.Append(nil, at(802), "l", 4), []Msg{push("me", "l", 4, 4)})
}

// TestNotesBatched: a head that rises is noted once per tick, in one
// batch per neighbour, to the neighbours that neither push it to this
// peer, nor are pushed to, nor hold it already.
func TestNotesBatched(t *testing.T) {
	m := newMachine(t, Params{Watchers: 3, NoteDelay: -1})
	m.Append(nil, at(0), "a", 1)
	m.Append(nil, at(0), "b", 1)
	for _, p := range []Peer{"w", "x", "y", "z"} {
		m.Connect(nil, at(0), p)
	}
	m.ReceivedNotes(nil, at(1), "w", []Note{{"a", 1, true, false}, {"b", 1, false, false}})  // w wants a pushed
	m.ReceivedNotes(nil, at(1), "x", []Note{{"a", 5, false, false}, {"b", 1, false, false}}) // x is ahead on a
	m.ReceivedNotes(nil, at(1), "y", []Note{{"a", 1, false, false}, {"b", 1, false, false}})
	// z has said nothing: it holds neither as far as this peer knows.
	out := m.Append(nil, at(2), "a", 2)
	out = m.Append(out, at(3), "a", 3)
	out = m.Append(out, at(4), "b", 2)
	wantMsgs(t, "appends", out, []Msg{push("w", "a", 2, 2), push("w", "a", 3, 3)})
	// w is pushed a, and is this peer's source of both logs (the first
	// connection): its note of b says so. x holds a further already (it
	// is grafted only after SwitchTime: w, a source, may yet deliver).
	wantMsgs(t, "tick", m.Tick(nil, at(100)), []Msg{
		notes("w", Note{"b", 2, true, false}),
		notes("x", Note{"b", 2, false, false}),
		notes("y", Note{"a", 3, false, false}, Note{"b", 2, false, false}),
		notes("z", Note{"a", 3, false, false}, Note{"b", 2, false, false}),
	})
	wantMsgs(t, "nothing rose since", m.Tick(nil, at(200)), nil)
	wantMsgs(t, "switch time after x's note", m.Tick(nil, at(600)), []Msg{notes("x", Note{"a", 3, true, false})})
}

// TestWatchersPreferred: a peer asks the same neighbours to watch every
// log, the nearest, then the first by name (shorter, then lower): one
// preferred to a watcher takes its place, and the watcher is hushed. The
// notes to a peer thus come from few neighbours, several logs a batch.
func TestWatchersPreferred(t *testing.T) {
	m := newMachine(t, Params{Watchers: 1, NoteDelay: -1})
	m.Append(nil, at(0), "l", 1)
	wantMsgs(t, "source", taken(m, m.Connect(nil, at(0), "b")), []Msg{notes("b", Note{"l", 1, true, false})})
	wantMsgs(t, "watcher", taken(m, m.Connect(nil, at(0), "c")), []Msg{notes("c", Note{"l", 1, false, false})})
	wantMsgs(t, "preferred", taken(m, m.Connect(nil, at(0), "a")), []Msg{
		notes("a", Note{"l", 1, false, false}),
		notes("c", Note{"l", 1, false, true}),
	})
	wantMsgs(t, "longer name", taken(m, m.Connect(nil, at(0), "aa")), []Msg{notes("aa", Note{"l", 1, false, true})})
	// A log noted unasked: the first to note it watches, until one
	// preferred notes it too.
	wantMsgs(t, "first to note k", m.ReceivedNotes(nil, at(1), "c", []Note{{"k", 5, false, false}}), nil)
	wantMsgs(t, "preferred notes k", m.ReceivedNotes(nil, at(2), "a", []Note{{"k", 5, false, false}}),
		[]Msg{notes("c", Note{"k", 0, false, true})})
	wantMsgs(t, "not preferred", m.ReceivedNotes(nil, at(3), "aa", []Note{{"k", 5, false, false}}),
		[]Msg{notes("aa", Note{"k", 0, false, true})})
	// The nearer is preferred, whatever its name.
	m.SetRTT("a", 5*time.Millisecond)
	m.SetRTT("aa", time.Millisecond)
	m.SetRTT("c", 5*time.Millisecond)
	// (aa, hushed about k, is not heard on it.) A new neighbour, its
	// distance not measured yet, goes by its name.
	wantMsgs(t, "hushed notes k", m.ReceivedNotes(nil, at(4), "aa", []Note{{"k", 6, false, false}}), nil)
	wantMsgs(t, "new neighbour", taken(m, m.Connect(nil, at(5), "z")), []Msg{notes("z", Note{"l", 1, false, true})})
	wantMsgs(t, "new, first by name", taken(m, m.Connect(nil, at(5), "0")), []Msg{
		notes("0", Note{"l", 1, false, false}),
		notes("a", Note{"l", 1, false, true}),
	})
}

// TestNoteDelay: a note to a neighbour known to hold part of the log
// waits NoteDelay, one to a neighbour not known to hold any a quarter of
// it; the notes waiting for a neighbour go together, at the first due,
// and at once with any other message to it (a push); a head the
// neighbour says it holds meanwhile is not noted.
func TestNoteDelay(t *testing.T) {
	m := newMachine(t, Params{Watchers: 3, NoteDelay: time.Second})
	m.Append(nil, at(0), "a", 1)
	m.Append(nil, at(0), "b", 1)
	for _, p := range []Peer{"x", "y", "z"} {
		m.Connect(nil, at(0), p) // x is the source of both, y and z watch
	}
	m.ReceivedNotes(nil, at(1), "x", []Note{{"a", 1, false, false}, {"b", 1, false, false}})
	m.ReceivedNotes(nil, at(1), "y", []Note{{"a", 1, false, false}})
	// z has said nothing: it holds neither as far as this peer knows.
	m.Append(nil, at(2), "a", 2)
	m.Append(nil, at(3), "b", 2)
	wantMsgs(t, "tick", m.Tick(nil, at(100)), nil)
	// y's note of b and z's wait a quarter of NoteDelay; y's of a goes
	// with them; x's wait NoteDelay.
	wantMsgs(t, "quarter", m.Tick(nil, at(350)), []Msg{
		notes("y", Note{"a", 2, false, false}, Note{"b", 2, false, false}),
		notes("z", Note{"a", 2, false, false}, Note{"b", 2, false, false}),
	})
	// x says it holds a's head: only b is left to note to it.
	wantMsgs(t, "x's note", m.ReceivedNotes(nil, at(500), "x", []Note{{"a", 2, false, false}}), nil)
	wantMsgs(t, "before NoteDelay", m.Tick(nil, at(1099)), nil)
	wantMsgs(t, "NoteDelay", m.Tick(nil, at(1100)), []Msg{notes("x", Note{"b", 2, true, false})})
	wantMsgs(t, "nothing waits", m.Tick(nil, at(2200)), nil)
	// b rises; x's note waits, and goes with the push of a x asks for.
	m.Append(nil, at(2201), "b", 3)
	wantMsgs(t, "b rose", m.Tick(nil, at(2300)), nil)
	wantMsgs(t, "x grafts a", m.ReceivedNotes(nil, at(2301), "x", []Note{{"a", 2, true, false}}), nil)
	wantMsgs(t, "append a", m.Append(nil, at(2302), "a", 3), []Msg{
		push("x", "a", 3, 3),
		notes("x", Note{"b", 3, true, false}),
	})
	// a rose too: its notes to y and z go with those of b, at b's due.
	wantMsgs(t, "a rose", m.Tick(nil, at(2400)), nil)
	wantMsgs(t, "quarter after b rose", m.Tick(nil, at(2550)), []Msg{
		notes("y", Note{"b", 3, false, false}, Note{"a", 3, false, false}),
		notes("z", Note{"b", 3, false, false}, Note{"a", 3, false, false}),
	})
	wantMsgs(t, "nothing waits after", m.Tick(nil, at(3600)), nil)
}

// TestDisconnectGrafts: when the only source of a log leaves, the
// neighbour known to hold most of it is grafted at once, not after
// SwitchTime.
func TestDisconnectGrafts(t *testing.T) {
	m := newMachine(t, Params{Watchers: 3})
	m.Append(nil, at(0), "l", 2)
	m.Connect(nil, at(0), "x") // source of l
	m.Connect(nil, at(0), "y")
	m.Connect(nil, at(0), "z")
	m.ReceivedNotes(nil, at(1), "y", []Note{{"l", 2, false, false}})
	m.ReceivedNotes(nil, at(1), "z", []Note{{"l", 1, false, false}})
	wantMsgs(t, "source leaves", m.Disconnect(nil, at(2), "x"), []Msg{notes("y", Note{"l", 2, true, false})})
	if got := m.Sources("l"); !reflect.DeepEqual(got, []Peer{"y"}) {
		t.Errorf("sources %v, want [y]", got)
	}
	wantMsgs(t, "a lazy neighbour leaves", m.Disconnect(nil, at(3), "z"), nil)
}

// TestDisconnectGraftsUpstream: a peer whose last source of a log
// leaves does not graft a neighbour that asked it to push the log (a
// peer it pushes to, which gets the log from it): that would make a
// cycle of two sources that pushes no new entry, until notes and a
// switch time later. It grafts another that holds as much.
func TestDisconnectGraftsUpstream(t *testing.T) {
	m := newMachine(t, Params{})
	m.Append(nil, at(0), "l", 2)
	m.Connect(nil, at(0), "x") // source of l
	m.Connect(nil, at(0), "w") // pushed l by this peer
	m.Connect(nil, at(0), "y")
	m.SetRTT("w", time.Millisecond) // nearer than y: best would pick it
	m.SetRTT("y", 10*time.Millisecond)
	m.ReceivedNotes(nil, at(1), "w", []Note{{"l", 2, true, false}})
	m.ReceivedNotes(nil, at(1), "y", []Note{{"l", 2, false, false}})
	wantMsgs(t, "source leaves", m.Disconnect(nil, at(2), "x"), []Msg{notes("y", Note{"l", 2, true, false})})
	if got := m.Sources("l"); !reflect.DeepEqual(got, []Peer{"y"}) {
		t.Errorf("sources %v, want [y]", got)
	}
	// With none but the downstream neighbour left, it is grafted: a
	// source that may be a cycle beats none.
	wantMsgs(t, "second source leaves", m.Disconnect(nil, at(3), "y"), []Msg{notes("w", Note{"l", 2, true, false})})
}

// TestLyingNotes: a neighbour that notes seqs it does not hold, and
// pushes nothing, costs one graft per log and no more; the honest
// source keeps pushing, and a log's entries still arrive.
func TestLyingNotes(t *testing.T) {
	m := newMachine(t, Params{})
	m.Append(nil, at(0), "l", 1)
	m.Connect(nil, at(0), "honest")
	m.Connect(nil, at(0), "liar")
	m.ReceivedNotes(nil, at(1), "liar", []Note{{"l", 1 << 40, false, false}})
	wantMsgs(t, "before switch time", m.Tick(nil, at(100)), nil)
	wantMsgs(t, "one graft", m.Tick(nil, at(600)), []Msg{notes("liar", Note{"l", 1, true, false})})
	for ms := 700; ms <= 5000; ms += 100 {
		if out := m.Tick(nil, at(ms)); len(out) != 0 {
			t.Fatalf("tick at %dms sent %+v, want nothing", ms, out)
		}
	}
	if _, isNew := m.Received(nil, at(5001), "honest", "l", 2); !isNew {
		t.Error("honest source's entry not taken")
	}
	// A liar's note never makes this peer note or push to it: it is
	// "ahead".
	m.Connect(nil, at(5002), "x")
	wantMsgs(t, "x asks", m.ReceivedNotes(nil, at(5003), "x", []Note{{"l", 0, true, false}}), []Msg{push("x", "l", 1, 2)})
	out, _ := m.Received(nil, at(5004), "honest", "l", 3)
	wantMsgs(t, "forward", out, []Msg{push("x", "l", 3, 3)})
	wantMsgs(t, "tick", m.Tick(nil, at(5100)), nil)
}

// TestUnheldBound: a neighbour that notes made-up logs makes this peer
// track at most MaxUnheld of them, and nothing once it is gone.
func TestUnheldBound(t *testing.T) {
	m := newMachine(t, Params{MaxUnheld: 16})
	m.Connect(nil, at(0), "x")
	var ns []Note
	for i := range 1000 {
		ns = append(ns, Note{Log: Log(fmt.Sprint("made-up-", i)), Seq: 1})
	}
	m.ReceivedNotes(nil, at(1), "x", ns)
	if got := len(m.logs); got != 16 {
		t.Errorf("tracking %d logs, want 16", got)
	}
	if got := m.Kept("x"); got != 16 {
		t.Errorf("tracking %d logs of x, want 16", got)
	}
	// Grafts go out for those 16 (nothing pushes them yet).
	if out := m.Tick(nil, at(100)); len(out) != 1 || len(out[0].Notes) != 16 {
		t.Errorf("tick: %+v, want one batch of 16 grafts", out)
	}
	// An entry pushed unasked of a log past the bound still counts; a
	// gap leaves nothing behind.
	if _, isNew := m.Received(nil, at(150), "x", "made-up-999", 1); !isNew {
		t.Error("entry 1 of a log past MaxUnheld not taken")
	}
	if _, isNew := m.Received(nil, at(150), "x", "made-up-998", 2); isNew || m.logs["made-up-998"] != nil {
		t.Error("gap of a log past MaxUnheld taken or remembered")
	}
	m.Forget("made-up-999")
	m.Disconnect(nil, at(200), "x")
	if len(m.logs) != 0 || len(m.waiting) != 0 || len(m.dirty) != 0 {
		t.Errorf("after x left: %d logs, %d waiting, %d dirty; want none", len(m.logs), len(m.waiting), len(m.dirty))
	}
}

// TestForget: a forgotten (blocked) log is neither noted nor pushed.
func TestForget(t *testing.T) {
	m := newMachine(t, Params{})
	m.Connect(nil, at(0), "x")
	m.ReceivedNotes(nil, at(0), "x", []Note{{"l", 0, true, false}})
	wantMsgs(t, "append", m.Append(nil, at(1), "l", 1), []Msg{push("x", "l", 1, 1)})
	m.Append(nil, at(2), "l", 2)
	m.Forget("l")
	wantMsgs(t, "tick", m.Tick(nil, at(100)), nil)
	if h := m.Head("l"); h != 0 {
		t.Errorf("head %d after Forget, want 0", h)
	}
}

func TestParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Params
		ok   bool
	}{
		{"zero", Params{}, true},
		{"fast", Params{NoteInterval: time.Millisecond, SwitchTime: time.Millisecond, MaxUnheld: 1}, true},
		{"interval too short", Params{NoteInterval: time.Microsecond}, false},
		{"interval too long", Params{NoteInterval: time.Minute}, false},
		{"switch below interval", Params{NoteInterval: time.Second, SwitchTime: 10 * time.Millisecond}, false},
		{"slow ticks, default delay", Params{NoteInterval: 5 * time.Second, SwitchTime: 5 * time.Second}, true},
		{"no delay", Params{NoteDelay: -1}, true},
		{"delay below interval", Params{NoteDelay: 10 * time.Millisecond}, false},
		{"delay too long", Params{NoteDelay: 2 * time.Minute}, false},
		{"no sweep", Params{SweepInterval: -1}, true},
		{"sweep below interval", Params{SweepInterval: 10 * time.Millisecond}, false},
		{"sweep too long", Params{SweepInterval: 2 * time.Minute}, false},
		{"switch too long", Params{SwitchTime: time.Hour}, false},
		{"unheld negative", Params{MaxUnheld: -1}, false},
		{"unheld too many", Params{MaxUnheld: 1<<16 + 1}, false},
		{"exact one", Params{MaxExact: 1}, true},
		{"exact negative", Params{MaxExact: -1}, false},
		{"exact too many", Params{MaxExact: 1<<16 + 1}, false},
	} {
		err := tc.p.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
		if _, err2 := New(tc.p); (err2 == nil) != tc.ok {
			t.Errorf("%s: New error %v, want ok %v", tc.name, err2, tc.ok)
		}
	}
}

// TestUnheldCountsOnlyUnheld: MaxUnheld bounds the logs a neighbour
// names that this peer does not hold now; those it came to hold do not
// count, so a long connection keeps learning new logs.
func TestUnheldCountsOnlyUnheld(t *testing.T) {
	m := newMachine(t, Params{MaxUnheld: 4})
	m.Connect(nil, at(0), "x")
	for round := range 3 {
		var ns []Note
		for i := range 4 {
			ns = append(ns, Note{Log: Log(fmt.Sprint("l", round, i)), Seq: 1})
		}
		m.ReceivedNotes(nil, at(round*1000), "x", ns)
		for _, nt := range ns {
			if _, isNew := m.Received(nil, at(round*1000+1), "x", nt.Log, 1); !isNew {
				t.Fatalf("round %d: %s not taken", round, nt.Log)
			}
		}
	}
	if got := len(m.logs); got != 12 {
		t.Errorf("holding %d logs, want 12", got)
	}
}

// TestResend: a peer that dropped a neighbour's notes past MaxUnheld
// asks for them again (Resend) once it holds what it took, and the
// neighbour notes again the logs this peer never said it holds, at most
// once per 4 SwitchTimes (a Resend sooner is answered then).
func TestResend(t *testing.T) {
	a := newMachine(t, Params{})
	b := newMachine(t, Params{MaxUnheld: 4})
	for i := range 10 {
		a.Append(nil, at(0), Log(fmt.Sprint("l", i)), 1)
	}
	heads := taken(a, a.Connect(nil, at(0), "b"))
	b.Connect(nil, at(0), "a")
	b.ReceivedNotes(nil, at(1), "a", heads[0].Notes)
	grafts := b.Tick(nil, at(100))
	if len(grafts) != 1 || len(grafts[0].Notes) != 4 {
		t.Fatalf("grafts %+v, want 4", grafts)
	}
	pushes := a.ReceivedNotes(nil, at(101), "b", grafts[0].Notes)
	for _, p := range pushes {
		b.Received(nil, at(102), "a", p.Log, p.Thru)
	}
	if out := b.Tick(nil, at(200)); !reflect.DeepEqual(out, []Msg{{To: "a", Kind: Resend}}) {
		t.Fatalf("tick after taking the 4: %+v, want a Resend", out)
	}
	out := taken(a, a.ReceivedResend(nil, at(201), "b"))
	want := []Msg{notes("b", Note{"l4", 1, true, false}, Note{"l5", 1, true, false}, Note{"l6", 1, true, false},
		Note{"l7", 1, true, false}, Note{"l8", 1, true, false}, Note{"l9", 1, true, false})}
	wantMsgs(t, "resend", out, want)
	b.ReceivedNotes(nil, at(202), "a", out[0].Notes)
	if got := len(b.logs); got != 8 {
		t.Errorf("b tracks %d logs, want 8", got)
	}
	// b takes l4 … l7, and asks again: a answers 4 SwitchTimes after
	// its first answer.
	pushes = a.ReceivedNotes(nil, at(300), "b", b.Tick(nil, at(300))[0].Notes)
	for _, p := range pushes {
		b.Received(nil, at(301), "a", p.Log, p.Thru)
	}
	if out := b.Tick(nil, at(400)); !reflect.DeepEqual(out, []Msg{{To: "a", Kind: Resend}}) {
		t.Fatalf("second Resend: %+v", out)
	}
	wantMsgs(t, "a Resend too soon", a.ReceivedResend(nil, at(401), "b"), nil)
	wantMsgs(t, "tick before 4 SwitchTimes", a.Tick(nil, at(2200)), nil)
	wantMsgs(t, "tick after", taken(a, a.Tick(nil, at(2201))), []Msg{notes("b", Note{"l8", 1, true, false}, Note{"l9", 1, true, false})})
}

// TestWatchers: besides its sources, a peer asks Watchers neighbours to
// note a log and the others to be quiet; a quiet neighbour is not noted;
// a neighbour that notes unasked is hushed once; a watcher that leaves
// or is grafted is replaced by the nearest hushed neighbour.
func TestWatchers(t *testing.T) {
	m := newMachine(t, Params{Watchers: 1, NoteDelay: -1})
	m.Append(nil, at(0), "l", 1)
	wantMsgs(t, "source", taken(m, m.Connect(nil, at(0), "a")), []Msg{notes("a", Note{"l", 1, true, false})})
	wantMsgs(t, "watcher", taken(m, m.Connect(nil, at(0), "b")), []Msg{notes("b", Note{"l", 1, false, false})})
	wantMsgs(t, "hushed", taken(m, m.Connect(nil, at(0), "c")), []Msg{notes("c", Note{"l", 1, false, true})})
	wantMsgs(t, "hushed", taken(m, m.Connect(nil, at(0), "d")), []Msg{notes("d", Note{"l", 1, false, true})})
	m.SetRTT("c", 9*time.Millisecond)
	m.SetRTT("d", 2*time.Millisecond)
	// b and c are lazy towards this peer, d asked it to be quiet.
	for _, p := range []Peer{"a", "b", "c"} {
		m.ReceivedNotes(nil, at(1), p, []Note{{"l", 1, false, false}})
	}
	m.ReceivedNotes(nil, at(1), "d", []Note{{"l", 1, false, true}})
	m.Append(nil, at(2), "l", 2)
	wantMsgs(t, "tick", m.Tick(nil, at(100)), []Msg{
		notes("a", Note{"l", 2, true, false}),
		notes("b", Note{"l", 2, false, false}),
		notes("c", Note{"l", 2, false, true}),
	})
	// New neighbours (hushed about l by the heads) note a new log k
	// unasked: the first watches it, the second is hushed, once.
	m.Connect(nil, at(200), "e")
	m.Connect(nil, at(200), "f")
	m.SetRTT("e", 50*time.Millisecond)
	m.SetRTT("f", 50*time.Millisecond)
	wantMsgs(t, "first to note k", m.ReceivedNotes(nil, at(201), "e", []Note{{"k", 5, false, false}}), nil)
	wantMsgs(t, "second to note k", m.ReceivedNotes(nil, at(202), "f", []Note{{"k", 5, false, false}}),
		[]Msg{notes("f", Note{"k", 0, false, true})})
	wantMsgs(t, "again", m.ReceivedNotes(nil, at(203), "f", []Note{{"k", 6, false, false}}), nil)
	// The watcher leaves: the nearest hushed (d, 2ms) watches.
	wantMsgs(t, "watcher leaves", m.Disconnect(nil, at(300), "b"), []Msg{notes("d", Note{"l", 2, false, false})})
	// The source leaves: d, the watcher, is grafted, and c watches.
	wantMsgs(t, "source leaves", m.Disconnect(nil, at(400), "a"), []Msg{
		notes("c", Note{"l", 2, false, false}),
		notes("d", Note{"l", 2, true, false}),
	})
}

// fedMachine returns a machine whose log l (held at 1) its first
// neighbour, u, pushed it, and that is connected to neighbours ps too:
// u is its source, and l is fed (it is not l's author).
func fedMachine(t *testing.T, ps ...Peer) *Machine {
	t.Helper()
	m := newMachine(t, Params{Watchers: 3})
	for _, p := range append([]Peer{"u"}, ps...) {
		m.Connect(nil, at(0), p)
	}
	m.ReceivedNotes(nil, at(1), "u", []Note{{"l", 1, false, false}})
	wantMsgs(t, "graft of l, sourceless", m.Tick(nil, at(100)), []Msg{notes("u", Note{"l", 0, true, false})})
	if _, isNew := m.Received(nil, at(101), "u", "l", 1); !isNew {
		t.Fatal("u's push of l not new")
	}
	return m
}

// TestSourceCycles: a source of a log that asked this peer to push the
// log (it is downstream) is not upstream: the two are a cycle that no
// new entry reaches unless one has another source. A fed log whose
// sources are all such cycles grafts a neighbour that is neither, when
// the last other source leaves, when a source turns eager, and when a
// neighbour notes more, without waiting SwitchTime; a duplicate from the
// last upstream source prunes the cycles instead. Otherwise the next
// entry came by a note (waiting NoteDelay) and a graft SwitchTime later,
// which made the farthest chat of a 64-host --discover room print a line
// 1.6 s after it was typed.
func TestSourceCycles(t *testing.T) {
	// b asks l eagerly (downstream), then is ahead of this peer (it got
	// 2 from another source) and is grafted after SwitchTime: u and b
	// are the sources, b a cycle with this peer.
	cycle := func(t *testing.T) *Machine {
		m := fedMachine(t, "b", "w")
		m.ReceivedNotes(nil, at(200), "w", []Note{{"l", 1, false, false}})
		wantMsgs(t, "b asks eagerly", m.ReceivedNotes(nil, at(200), "b", []Note{{"l", 0, true, false}}), []Msg{push("b", "l", 1, 1)})
		m.ReceivedNotes(nil, at(300), "b", []Note{{"l", 2, true, false}})
		wantMsgs(t, "u may deliver", m.Tick(nil, at(400)), nil)
		wantMsgs(t, "graft b after switch time", m.Tick(nil, at(900)), []Msg{notes("b", Note{"l", 1, true, false})})
		if _, isNew := m.Received(nil, at(901), "b", "l", 2); !isNew {
			t.Fatal("b's push of 2 not new")
		}
		if got := m.Sources("l"); !reflect.DeepEqual(got, []Peer{"b", "u"}) {
			t.Fatalf("sources %v, want [b u]", got)
		}
		return m
	}
	t.Run("upstream leaves", func(t *testing.T) {
		m := cycle(t)
		wantMsgs(t, "u leaves", m.Disconnect(nil, at(1000), "u"), []Msg{notes("w", Note{"l", 2, true, false})})
		if got := m.Sources("l"); !reflect.DeepEqual(got, []Peer{"b", "w"}) {
			t.Errorf("sources %v, want [b w]", got)
		}
	})
	t.Run("duplicate from the last upstream", func(t *testing.T) {
		m := cycle(t)
		out, isNew := m.Received(nil, at(1000), "u", "l", 2)
		if isNew {
			t.Fatal("u's 2 reported new")
		}
		wantMsgs(t, "u's 2 prunes b", out, []Msg{notes("b", Note{"l", 2, false, false})})
		if got := m.Sources("l"); !reflect.DeepEqual(got, []Peer{"u"}) {
			t.Errorf("sources %v, want [u]", got)
		}
	})
	t.Run("source turns eager", func(t *testing.T) {
		m := fedMachine(t, "w")
		m.ReceivedNotes(nil, at(200), "w", []Note{{"l", 1, false, false}})
		wantMsgs(t, "u asks eagerly", m.ReceivedNotes(nil, at(300), "u", []Note{{"l", 1, true, false}}),
			[]Msg{notes("w", Note{"l", 1, true, false})})
	})
	t.Run("note without switch time", func(t *testing.T) {
		m := fedMachine(t, "d")
		wantMsgs(t, "d asks eagerly", m.ReceivedNotes(nil, at(200), "d", []Note{{"l", 0, true, false}}), []Msg{push("d", "l", 1, 1)})
		// u asks eagerly too: no neighbour is left to graft.
		wantMsgs(t, "u asks eagerly", m.ReceivedNotes(nil, at(300), "u", []Note{{"l", 1, true, false}}), nil)
		// d got 3 from elsewhere: it is grafted at the next tick, as a
		// peer without sources grafts.
		m.ReceivedNotes(nil, at(400), "d", []Note{{"l", 3, true, false}})
		wantMsgs(t, "next tick", m.Tick(nil, at(500)), []Msg{notes("d", Note{"l", 1, true, false})})
	})
	t.Run("guessed source", func(t *testing.T) {
		// u leaves: b, which holds as much as this peer, is grafted (a
		// guess: it may be downstream by two hops). w notes more
		// before b pushed anything: grafted at the next tick.
		m := fedMachine(t, "b", "w")
		m.ReceivedNotes(nil, at(200), "b", []Note{{"l", 1, false, false}})
		m.ReceivedNotes(nil, at(200), "w", []Note{{"l", 1, false, false}})
		wantMsgs(t, "u leaves", m.Disconnect(nil, at(300), "u"), []Msg{notes("b", Note{"l", 1, true, false})})
		m.ReceivedNotes(nil, at(400), "w", []Note{{"l", 2, false, false}})
		wantMsgs(t, "next tick", m.Tick(nil, at(500)), []Msg{notes("w", Note{"l", 1, true, false})})
		// A source known to hold more is pushing: the wait is
		// SwitchTime, as for any source.
		m = fedMachine(t, "b", "w")
		m.ReceivedNotes(nil, at(200), "b", []Note{{"l", 1, false, false}})
		m.Disconnect(nil, at(300), "u")
		m.ReceivedNotes(nil, at(400), "b", []Note{{"l", 2, false, false}})
		m.ReceivedNotes(nil, at(400), "w", []Note{{"l", 2, false, false}})
		wantMsgs(t, "b ahead", m.Tick(nil, at(500)), nil)
		wantMsgs(t, "after switch time", m.Tick(nil, at(1000)), []Msg{notes("w", Note{"l", 1, true, false})})
	})
	t.Run("grafted by a guess", func(t *testing.T) {
		// g, which holds as much as this peer, grafts it (a guess of
		// g's, which may close a cycle through u): w's note of more is
		// grafted at the next tick.
		m := fedMachine(t, "g", "w")
		m.ReceivedNotes(nil, at(200), "w", []Note{{"l", 1, false, false}})
		wantMsgs(t, "g grafts", m.ReceivedNotes(nil, at(300), "g", []Note{{"l", 1, true, false}}), nil)
		m.ReceivedNotes(nil, at(400), "w", []Note{{"l", 2, false, false}})
		wantMsgs(t, "next tick", m.Tick(nil, at(500)), []Msg{notes("w", Note{"l", 1, true, false})})
	})
	t.Run("author", func(t *testing.T) {
		// The author's log was never pushed to it, and it never asks a
		// neighbour for it (Own): a neighbour whose source it is has
		// no source that is a cycle, and nothing is grafted.
		m := newMachine(t, Params{Watchers: 3})
		m.Own("l")
		m.Append(nil, at(0), "l", 1)
		wantMsgs(t, "first neighbour", taken(m, m.Connect(nil, at(0), "x")), []Msg{notes("x", Note{"l", 1, false, false})})
		m.Connect(nil, at(0), "y")
		m.ReceivedNotes(nil, at(1), "y", []Note{{"l", 1, false, false}})
		wantMsgs(t, "x asks eagerly", m.ReceivedNotes(nil, at(2), "x", []Note{{"l", 1, true, false}}), nil)
		wantMsgs(t, "x leaves", m.Disconnect(nil, at(3), "x"), nil)
		if got := m.Sources("l"); len(got) != 0 {
			t.Errorf("sources of its own log %v, want none", got)
		}
	})
}

// pushedThrough returns, per log, the seqs pushed to p in out, each
// range From … Thru added.
func pushedThrough(out []Msg, p Peer, got map[Log][]uint64) {
	for _, msg := range out {
		if msg.To == p && msg.Kind == Push {
			for seq := msg.From; seq <= msg.Thru; seq++ {
				got[msg.Log] = append(got[msg.Log], seq)
			}
		}
	}
}

// TestExactCap: past MaxExact, a neighbour's known of a log is lowered,
// never lost: a neighbour behind on 40 logs (MaxExact 4) keeps 4 exact,
// and once it asks them eagerly is pushed every entry it lacks (from the
// first, where its known was lowered); a neighbour eager for 8 other
// logs at their heads is pushed each new entry alone, its known taken
// from an entry not eager; and one ahead on every log is still grafted
// for each.
func TestExactCap(t *testing.T) {
	m := newMachine(t, Params{MaxExact: 4, NoteDelay: -1})
	const behind, eager = 40, 8
	var logs []Log
	for i := range behind + eager {
		l := Log(fmt.Sprintf("l%02d", i))
		logs = append(logs, l)
		m.Append(nil, at(0), l, 3)
	}
	m.Tick(nil, at(100))
	m.Connect(nil, at(200), "x")
	var ns []Note
	for _, l := range logs[:behind] {
		ns = append(ns, Note{Log: l, Seq: 1})
	}
	for _, l := range logs[behind:] {
		ns = append(ns, Note{Log: l, Seq: 3, Eager: true})
	}
	m.ReceivedNotes(nil, at(201), "x", ns)
	ln := m.links["x"]
	if got := len(ln.exact); got != 4 {
		t.Fatalf("exact entries: %d, want 4 (MaxExact)", got)
	}
	if got := m.Kept("x"); got != behind+eager {
		t.Fatalf("kept %d entries of x, want %d", got, behind+eager)
	}
	// New entries of the eager logs: each pushed alone, though x's map
	// is full of entries of the logs it is behind on.
	for _, l := range logs[behind:] {
		got := make(map[Log][]uint64)
		pushedThrough(m.Append(nil, at(300), l, 4), "x", got)
		if !slices.Equal(got[l], []uint64{4}) {
			t.Errorf("%s: pushed %v to x, want [4]", l, got[l])
		}
	}
	if got := len(ln.exact); got > 4 {
		t.Errorf("exact entries: %d, want at most 4", got)
	}
	// x asks the logs it is behind on eagerly: each pushed all it lacks.
	for i := range ns[:behind] {
		ns[i].Eager = true
	}
	got := make(map[Log][]uint64)
	pushedThrough(m.ReceivedNotes(nil, at(400), "x", ns[:behind]), "x", got)
	for _, l := range logs[:behind] {
		if s := got[l]; len(s) == 0 || s[0] > 2 || s[len(s)-1] != 3 {
			t.Errorf("%s: pushed %v to x, want 2 … 3 (or 1 … 3)", l, s)
		}
	}
	// And each new entry of them alone.
	for _, l := range logs[:behind] {
		got := make(map[Log][]uint64)
		pushedThrough(m.Append(nil, at(500), l, 4), "x", got)
		if !slices.Equal(got[l], []uint64{4}) {
			t.Errorf("%s: pushed %v to x, want [4]", l, got[l])
		}
	}

	// A neighbour ahead on every log: past MaxExact its known is the
	// head plus one, and it is grafted for each once the log's source,
	// x, has brought nothing for SwitchTime.
	m.Connect(nil, at(600), "z")
	ns = ns[:0]
	for _, l := range logs {
		ns = append(ns, Note{Log: l, Seq: 9, Quiet: true})
	}
	m.ReceivedNotes(nil, at(601), "z", ns)
	grafted := 0
	for _, msg := range m.Tick(nil, at(1200)) {
		for _, n := range msg.Notes {
			if msg.To == "z" && n.Eager {
				grafted++
			}
		}
	}
	if grafted != len(logs) {
		t.Errorf("grafted %d logs from z, which holds more of each, want %d", grafted, len(logs))
	}
}

// TestTakeOwed: Connect owes a neighbour its heads rather than returning
// them; TakeOwed pages them, each log once, at most as many a page as
// asked, with the head held when it is taken. A log owed again (Owe)
// after it was taken comes once more, after the others; a log forgotten
// while owed does not come; once none is owed the link lets go of its
// bits, and the notes taken count as noted (the next Tick notes none).
func TestTakeOwed(t *testing.T) {
	m := newMachine(t, Params{})
	const logs = 1000
	for i := range logs {
		m.Append(nil, at(0), Log(fmt.Sprintf("l%04d", i)), 1)
	}
	m.Tick(nil, at(1))
	wantMsgs(t, "connect", m.Connect(nil, at(2), "x"), []Msg{{To: "x", Kind: Owed}})
	if n := m.Owing("x"); n != logs {
		t.Fatalf("owing %d notes, want %d", n, logs)
	}
	got := make(map[Log][]Note)
	var last Log
	take := func(page int) int {
		ns := m.TakeOwed(nil, "x", page)
		if len(ns) > page {
			t.Fatalf("took %d notes, asked at most %d", len(ns), page)
		}
		for _, n := range ns {
			got[n.Log] = append(got[n.Log], n)
			last = n.Log
		}
		return len(ns)
	}
	if n := take(300); n != 300 {
		t.Fatalf("first page: %d notes, want 300", n)
	}
	// l0500's head rises while it is owed, l0999 is forgotten, l0000
	// (taken already) is owed again.
	m.Append(nil, at(3), "l0500", 2)
	m.Forget("l0999")
	if !m.Owe("x", "l0000") {
		t.Fatal("Owe of a log held: false")
	}
	if m.Owe("x", "unknown") || m.Owe("y", "l0001") {
		t.Error("Owe of a log not held, or to a neighbour not connected: true")
	}
	for take(128) > 0 {
	}
	if n := m.Owing("x"); n != 0 {
		t.Errorf("owing %d notes once all were taken, want 0", n)
	}
	if last != "l0000" {
		t.Errorf("last note taken: %s, want l0000 (owed again, after the others)", last)
	}
	if ln := m.links["x"]; ln.owed != nil {
		t.Errorf("link keeps %d words of owed bits once none is owed", len(ln.owed))
	}
	for i := range logs {
		l := Log(fmt.Sprintf("l%04d", i))
		want := []Note{{Log: l, Seq: 1, Eager: true}}
		switch l {
		case "l0000":
			want = append(want, want[0])
		case "l0500":
			want[0].Seq = 2
		case "l0999":
			want = nil
		}
		if !slices.Equal(got[l], want) {
			t.Errorf("notes of %s: %+v, want %+v", l, got[l], want)
		}
	}
	wantMsgs(t, "tick once taken", m.Tick(nil, at(100)), nil)
}
