package ebt

import "testing"

// TestAuthorWatches: a neighbour that authors a log (Author) is
// preferred to every other as its watcher, where it is not its source:
// a nearer watcher is hushed for it, and a nearer neighbour that
// connects later does not take its place. So when this peer's sources
// of the log are cut off from the author (the source left, and the one
// grafted instead holds no more: a guess, maybe downstream), the
// author's note of its next entry comes within NoteDelay, and the
// author is grafted within SwitchTime of it. Without Author, the nearest neighbours watch, and
// none of them need be upstream.
func TestAuthorWatches(t *testing.T) {
	m := newMachine(t, Params{NoteDelay: -1})
	m.Append(nil, at(0), "l", 1)         // held, pushed by no neighbour
	taken(m, m.Connect(nil, at(1), "s")) // l's source: no neighbour was
	taken(m, m.Connect(nil, at(1), "w")) // l's one watcher, the nearest after s
	wantMsgs(t, "author connects", taken(m, m.Connect(nil, at(1), "zz")),
		[]Msg{notes("zz", Note{"l", 1, false, true})})
	wantMsgs(t, "author", m.Author(nil, "zz", "l"), []Msg{
		notes("w", Note{"l", 1, false, true}),
		notes("zz", Note{"l", 1, false, false}),
	})
	wantMsgs(t, "author of nothing held", m.Author(nil, "w", "other"), nil)
	// A nearer neighbour connects: the author keeps its place.
	wantMsgs(t, "nearer connects", taken(m, m.Connect(nil, at(2), "b")),
		[]Msg{notes("b", Note{"l", 1, false, true})})
	// The source leaves: w or b is grafted, a guess (each holds what
	// this peer holds), not the author, which is only a watcher.
	out := m.Disconnect(nil, at(3), "s")
	if len(out) != 1 || out[0].To == "zz" || len(out[0].Notes) != 1 || !out[0].Notes[0].Eager {
		t.Fatalf("source leaves: %+v, want one graft of b or w", out)
	}
	// The author notes its next entry, which the new source does not
	// push: the author is grafted once SwitchTime passed.
	wantMsgs(t, "author's note", m.ReceivedNotes(nil, at(10), "zz", []Note{{"l", 2, false, false}}), nil)
	if !graftedWithin(m, "zz", "l", 600) {
		t.Fatal("no graft of the author within SwitchTime of its note")
	}
}

// TestAuthorSource: a neighbour that authors a log (AuthorSource) is grafted
// as its source, and the log's other sources are pruned: each
// neighbour of an author gets its entries straight from it. A duplicate
// from the author prunes the other source, not the author; a log held
// later grafts its author with its first entry; an author already the
// source is asked nothing.
func TestAuthorSource(t *testing.T) {
	m := newMachine(t, Params{NoteDelay: -1})
	m.Append(nil, at(0), "l", 1)         // held, pushed by no neighbour
	taken(m, m.Connect(nil, at(1), "s")) // l's source: no neighbour was
	taken(m, m.Connect(nil, at(1), "w")) // l's one watcher
	wantMsgs(t, "author connects", taken(m, m.Connect(nil, at(1), "zz")),
		[]Msg{notes("zz", Note{"l", 1, false, true})})
	// The author is grafted; s is pruned, and as the nearest takes
	// the watcher's place.
	wantMsgs(t, "author", m.AuthorSource(nil, "zz", "l"), []Msg{
		notes("zz", Note{"l", 1, true, false}),
		notes("w", Note{"l", 1, false, true}),
		notes("s", Note{"l", 1, false, false}),
	})
	wantSources(t, m, "l", "zz")
	wantMsgs(t, "author again", m.AuthorSource(nil, "zz", "l"), nil)
	wantMsgs(t, "author of nothing held", m.AuthorSource(nil, "w", "other"), nil)

	// The author stalls: s notes more, and is grafted after SwitchTime.
	m.ReceivedNotes(nil, at(10), "s", []Note{{"l", 2, false, false}})
	if !graftedWithin(m, "s", "l", 1000) {
		t.Fatal("no graft of s within SwitchTime of its note")
	}
	// s's entry comes first: the author is not pruned for it. Its copy
	// comes next: s is, and takes back the watcher's place from w.
	if _, ok := m.Received(nil, at(1100), "s", "l", 2); !ok {
		t.Fatal("s's entry 2 not new")
	}
	wantSources(t, m, "l", "s", "zz")
	out, _ := m.Received(nil, at(1110), "zz", "l", 2)
	wantMsgs(t, "author's duplicate", out, []Msg{
		notes("w", Note{"l", 2, false, true}),
		notes("s", Note{"l", 2, false, false}),
	})
	wantSources(t, m, "l", "zz")

	// A log not held yet: Author records it, and its first entry, from
	// another neighbour, grafts the author.
	wantMsgs(t, "author of a log not held", m.AuthorSource(nil, "w", "k"), nil)
	out, ok := m.Received(nil, at(1200), "s", "k", 1)
	if !ok {
		t.Fatal("k's entry 1 not new")
	}
	wantMsgs(t, "k's first entry", out, []Msg{notes("w", Note{"k", 1, true, false})})
	wantSources(t, m, "k", "w")

	// The author leaves: the watcher is grafted at once, and another
	// watches.
	wantMsgs(t, "author leaves", m.Disconnect(nil, at(1300), "zz"), []Msg{
		notes("s", Note{"l", 2, true, false}),
		notes("w", Note{"l", 2, false, false}),
	})
}

// TestAuthorSourceAlready: an author that is already the log's source
// is asked nothing more.
func TestAuthorSourceAlready(t *testing.T) {
	m := newMachine(t, Params{NoteDelay: -1})
	m.Append(nil, at(0), "l", 1)
	taken(m, m.Connect(nil, at(1), "zz"))
	wantMsgs(t, "author is the source", m.AuthorSource(nil, "zz", "l"), nil)
	wantSources(t, m, "l", "zz")
}

// TestAuthorOwn: a peer's own log has no source, its author being this
// peer: a neighbour that claims to author it is not grafted.
func TestAuthorOwn(t *testing.T) {
	m := newMachine(t, Params{NoteDelay: -1})
	m.Own("l")
	m.Append(nil, at(0), "l", 1)
	taken(m, m.Connect(nil, at(1), "zz"))
	wantMsgs(t, "own log", m.AuthorSource(nil, "zz", "l"), nil)
	wantSources(t, m, "l")
}

func wantSources(t *testing.T, m *Machine, l Log, want ...Peer) {
	t.Helper()
	got := m.Sources(l)
	if len(got) != len(want) {
		t.Fatalf("sources of %s: %v, want %v", l, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sources of %s: %v, want %v", l, got, want)
		}
	}
}

// TestAuthorTwoConnections: with two connections to a log's author, one
// is its source; when that one closes, the other is grafted, not a
// neighbour that merely holds as much.
func TestAuthorTwoConnections(t *testing.T) {
	m := newMachine(t, Params{NoteDelay: -1})
	m.Append(nil, at(0), "l", 1)
	taken(m, m.Connect(nil, at(1), "a"))
	taken(m, m.Connect(nil, at(1), "z1"))
	taken(m, m.Connect(nil, at(1), "z2"))
	m.AuthorSource(nil, "z1", "l")
	wantMsgs(t, "second connection to the author", m.AuthorSource(nil, "z2", "l"), nil)
	wantSources(t, m, "l", "z1")
	out := m.Disconnect(nil, at(2), "z1")
	if len(out) == 0 || out[0].To != "z2" || len(out[0].Notes) != 1 || !out[0].Notes[0].Eager {
		t.Fatalf("the author's first connection closes: %+v, want a graft of z2 first", out)
	}
	wantSources(t, m, "l", "z2")
}

// TestAuthorSourceAsksPush: an author that asks this peer to push its
// own log (a store that does not know it authors it) is still upstream:
// this peer grafts no other source for it, as it would for a source
// that asked the same (a cycle of two).
func TestAuthorSourceAsksPush(t *testing.T) {
	m := newMachine(t, Params{NoteDelay: -1})
	taken(m, m.Connect(nil, at(0), "a"))
	taken(m, m.Connect(nil, at(0), "s"))
	m.ReceivedNotes(nil, at(1), "s", []Note{{"l", 1, false, false}})
	m.Tick(nil, at(100))
	if _, ok := m.Received(nil, at(110), "s", "l", 1); !ok {
		t.Fatal("l's entry 1 not new")
	}
	m.AuthorSource(nil, "a", "l")
	wantSources(t, m, "l", "a")
	wantMsgs(t, "the author asks for its log", m.ReceivedNotes(nil, at(200), "a", []Note{{"l", 1, true, false}}), nil)
	wantSources(t, m, "l", "a")
}

// graftedWithin ticks m every 100ms from 100 up to until ms and reports
// whether a tick grafted log l from neighbour p.
func graftedWithin(m *Machine, p Peer, l Log, until int) bool {
	for ms := 100; ms <= until; ms += 100 {
		for _, msg := range m.Tick(nil, at(ms)) {
			for _, nt := range msg.Notes {
				if msg.To == p && nt.Log == l && nt.Eager {
					return true
				}
			}
		}
	}
	return false
}
