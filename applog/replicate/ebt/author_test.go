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
	var grafted bool
	for ms := 100; ms <= 600 && !grafted; ms += 100 {
		for _, msg := range m.Tick(nil, at(ms)) {
			for _, nt := range msg.Notes {
				grafted = grafted || (msg.To == "zz" && nt.Log == "l" && nt.Eager)
			}
		}
	}
	if !grafted {
		t.Fatal("no graft of the author within SwitchTime of its note")
	}
}

// TestAuthorSource: an author that is already the log's source is not
// asked for notes too.
func TestAuthorSource(t *testing.T) {
	m := newMachine(t, Params{NoteDelay: -1})
	m.Append(nil, at(0), "l", 1)
	taken(m, m.Connect(nil, at(1), "zz"))
	wantMsgs(t, "author is the source", m.Author(nil, "zz", "l"), nil)
	if got := m.Sources("l"); len(got) != 1 || got[0] != "zz" {
		t.Fatalf("sources %v, want [zz]", got)
	}
}
