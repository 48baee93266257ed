package ebt

import (
	"fmt"
	"testing"
	"time"
)

// TestSweep: neighbours that asked this peer to be quiet about a log
// (each has a source of it, maybe in a cycle cut off from the author)
// are still noted the log's new head by the sweep, one neighbour per
// SweepInterval: each of them once within two rounds of sweeps, though
// the log rose only once, and not again while it does not rise; with
// SweepInterval negative, never. A sweep note carries what this peer
// asks of the neighbour (here nothing: not eager), so that it changes
// no request.
func TestSweep(t *testing.T) {
	for _, sweep := range []time.Duration{200 * time.Millisecond, -1} {
		m := newMachine(t, Params{NoteDelay: -1, SweepInterval: sweep})
		for _, p := range []Peer{"p", "q", "s"} {
			taken(m, m.Connect(nil, at(0), p))
		}
		m.ReceivedNotes(nil, at(1), "s", []Note{{"l", 1, false, false}})
		m.Tick(nil, at(100))
		if _, ok := m.Received(nil, at(110), "s", "l", 1); !ok {
			t.Fatal("l's entry 1 not new")
		}
		for _, p := range []Peer{"p", "q"} {
			m.ReceivedNotes(nil, at(120), p, []Note{{"l", 1, false, true}}) // be quiet about l
		}
		if _, ok := m.Received(nil, at(130), "s", "l", 2); !ok {
			t.Fatal("l's entry 2 not new")
		}
		noted := map[Peer][]Note{}
		for ms := 200; ms <= 3000; ms += 100 { // 14 sweeps: more than 4 rounds of 3
			for _, msg := range m.Tick(nil, at(ms)) {
				if msg.To != "s" {
					noted[msg.To] = append(noted[msg.To], msg.Notes...)
				}
			}
		}
		// p is this peer's watcher of l (Watchers 1), which it does not
		// ask to be quiet; q it does.
		want := map[Peer][]Note{"p": {{"l", 2, false, false}}, "q": {{"l", 2, false, true}}}
		if sweep < 0 {
			want = map[Peer][]Note{}
		}
		if fmt.Sprint(noted) != fmt.Sprint(want) {
			t.Errorf("sweep %v: the quiet neighbours were noted %v, want %v", sweep, noted, want)
		}
	}
}

// TestSweepBounded: a round keeps at most maxSwept of the logs that
// rose in it, however many do (a bulk transfer), so the sweep's lists
// do not grow with the store.
func TestSweepBounded(t *testing.T) {
	m := newMachine(t, Params{NoteDelay: -1, SweepInterval: 200 * time.Millisecond})
	taken(m, m.Connect(nil, at(0), "s"))
	const n = 3 * maxSwept
	var notes []Note
	for i := range n {
		notes = append(notes, Note{Log(fmt.Sprint("l", i)), 1, false, false})
	}
	m.ReceivedNotes(nil, at(1), "s", notes)
	for i := range n {
		if _, ok := m.Received(nil, at(2), "s", Log(fmt.Sprint("l", i)), 1); !ok {
			t.Fatalf("log %d's entry 1 not new", i)
		}
	}
	if len(m.risen) != maxSwept {
		t.Errorf("%d logs rose; the round keeps %d, want %d", n, len(m.risen), maxSwept)
	}
	m.Tick(nil, at(300))
	if len(m.risen)+len(m.round) > maxSwept {
		t.Errorf("after a sweep the lists hold %d and %d logs, want at most %d together", len(m.risen), len(m.round), maxSwept)
	}
}
