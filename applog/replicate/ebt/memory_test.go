package ebt

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestMemory: a peer holding 10,000 logs with 10 neighbours that all
// noted every log keeps at most 300 bytes per log and 2 per log and
// neighbour (measured: about 236 and 1.05; 202 and 66 when a link kept
// a map entry per log not idle on it).
func TestMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 20 MB")
	}
	const logs, links = 10000, 10
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := int64(ms.HeapAlloc)
	m := newMachine(t, Params{})
	names := make([]Log, logs)
	for i := range names {
		names[i] = Log(fmt.Sprintf("%052d", i)) // an applog.ID's length
	}
	for _, l := range names {
		m.Append(nil, at(0), l, 1)
	}
	m.Tick(nil, at(100))
	runtime.GC()
	runtime.ReadMemStats(&ms)
	perLog := float64(int64(ms.HeapAlloc)-before) / logs
	ns := make([]Note, logs)
	for i, l := range names {
		ns[i] = Note{Log: l, Seq: 1}
	}
	before = liveHeap()
	for i := range links {
		p := Peer(fmt.Sprint("n", i))
		connectTaking(m, at(200), p)
		m.ReceivedNotes(nil, at(201), p, ns)
	}
	perLink := float64(liveHeap()-before) / (logs * links)
	t.Logf("%.0f bytes per log (the id's text included), %.2f per log and neighbour", perLog, perLink)
	if perLog > 300 || perLink > 2 {
		t.Errorf("%.0f bytes per log, %.2f per log and neighbour; want at most 300 and 2", perLog, perLink)
	}
	runtime.KeepAlive(m)
	runtime.KeepAlive(ns)
}

// idleNeighbourHeap returns the live heap a neighbour costs a peer that
// holds logs one-entry logs, once it is connected and noted each log
// quiet at the head this peer holds (a peer that holds the same and
// asked this one to be quiet about each): measured over 8 such
// neighbours connected after 1 + Watchers others, which take each log's
// roles (its source and watchers).
func idleNeighbourHeap(t *testing.T, logs int) int64 {
	t.Helper()
	m := newMachine(t, Params{})
	names := make([]Log, logs)
	ns := make([]Note, logs)
	for i := range names {
		names[i] = Log(fmt.Sprintf("%052d", i)) // an applog.ID's length
		ns[i] = Note{Log: names[i], Seq: 1, Quiet: true}
		m.Append(nil, at(0), names[i], 1)
	}
	m.Tick(nil, at(100))
	connect := func(name string) {
		p := Peer(name)
		connectTaking(m, at(200), p)
		m.ReceivedNotes(nil, at(201), p, ns)
	}
	for i := range 1 + DefaultWatchers {
		connect(fmt.Sprint("a", i))
	}
	const idle = 8
	before := liveHeap()
	for i := range idle {
		connect(fmt.Sprint("b", i))
	}
	m.Tick(nil, at(300))
	grown := liveHeap() - before
	for i := range idle {
		if n := m.Kept(Peer(fmt.Sprint("b", i))); n != 0 {
			t.Fatalf("%d logs: idle neighbour %d keeps %d entries, want none", logs, i, n)
		}
	}
	runtime.KeepAlive(m)
	runtime.KeepAlive(ns)
	return grown / idle
}

// connectTaking connects neighbour p to m and takes the heads m owes it, 800
// at a time, as a caller that sends them does.
func connectTaking(m *Machine, now time.Time, p Peer) {
	m.Connect(nil, now, p)
	var buf []Note
	for m.Owing(p) > 0 {
		buf = m.TakeOwed(buf[:0], p, 800)
	}
}

// liveHeap returns the live heap after a collection.
func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestIdleMemory: a neighbour that holds what this peer holds and
// asked it to be quiet about each log, and is neither source nor
// watcher of any, keeps no state of any log once its first notes are
// in: it costs at most 2 KiB of heap whether the peer holds 10,000 or
// 60,000 logs, and the two differ by at most 1 KiB (measured: 160 to
// 840 bytes; about 70 bytes per log and neighbour before idle logs cost
// nothing, 4 MB a neighbour at 60,000 logs). Its link lets go of its
// flags once no log held has an entry there.
func TestIdleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 40 MB")
	}
	small, large := idleNeighbourHeap(t, 10000), idleNeighbourHeap(t, 60000)
	t.Logf("an idle neighbour costs %d bytes with 10,000 logs held, %d with 60,000", small, large)
	if small > 2<<10 || large > 2<<10 {
		t.Errorf("an idle neighbour costs %d bytes with 10,000 logs, %d with 60,000; want at most %d", small, large, 2<<10)
	}
	if d := large - small; d > 1<<10 {
		t.Errorf("an idle neighbour costs %d bytes more with 60,000 logs than with 10,000, want at most %d", d, 1<<10)
	}
}

// strangerHeap returns the live heap a neighbour costs a peer that
// holds logs two-entry logs, once it is connected and has done what act
// does (given its name and one note per log, seq 0): measured over 4
// such neighbours connected after 1 + Watchers others, which take each
// log's roles (its source and watchers) and then hold the heads.
func strangerHeap(t *testing.T, logs int, act func(m *Machine, p Peer, ns []Note)) int64 {
	t.Helper()
	m := newMachine(t, Params{})
	names := make([]Log, logs)
	heads := make([]Note, logs)
	ns := make([]Note, logs)
	for i := range names {
		names[i] = Log(fmt.Sprintf("%052d", i)) // an applog.ID's length
		m.Append(nil, at(0), names[i], 2)
		heads[i] = Note{Log: names[i], Seq: 2, Quiet: true}
		ns[i] = Note{Log: names[i]}
	}
	m.Tick(nil, at(100))
	for i := range 1 + DefaultWatchers {
		p := Peer(fmt.Sprint("a", i))
		connectTaking(m, at(200), p)
		m.ReceivedNotes(nil, at(201), p, heads)
	}
	const strangers = 4
	before := liveHeap()
	for i := range strangers {
		p := Peer(fmt.Sprint("b", i))
		connectTaking(m, at(300), p)
		if act != nil {
			act(m, p, ns)
		}
	}
	m.Tick(nil, at(400))
	grown := liveHeap() - before
	runtime.KeepAlive(m)
	runtime.KeepAlive(ns)
	runtime.KeepAlive(heads)
	return grown / strangers
}

// strangers are what TestStrangerMemory's neighbours do once connected.
var strangers = []struct {
	name string
	act  func(m *Machine, p Peer, ns []Note)
}{
	// Never notes: Connect's state of every log stays.
	{"silent", nil},
	// Asks every log eagerly at the head: it is a neighbour to push to.
	{"eager", func(m *Machine, p Peer, ns []Note) {
		for i := range ns {
			ns[i].Seq, ns[i].Eager, ns[i].Quiet = 2, true, false
		}
		m.ReceivedNotes(nil, at(301), p, ns)
	}},
	// Notes seq 1 of every log, lazily: it is behind on each.
	{"behind", func(m *Machine, p Peer, ns []Note) {
		for i := range ns {
			ns[i].Seq, ns[i].Eager, ns[i].Quiet = 1, false, false
		}
		m.ReceivedNotes(nil, at(301), p, ns)
	}},
}

// TestStrangerMemory: a neighbour that never notes, that asks every log
// eagerly, or that notes it is behind on every log costs this peer at
// most one byte per log held and 64 KiB, at 10,000 and at 60,000 logs.
// Measured: 1.04 and 1.10 bytes per log (never notes), 1.03 and 1.09
// (eager), 4.7 and 1.7 (behind: its exact map, MaxExact entries, is
// about 37 KB); 67 and 80 bytes per log for each when a link kept a
// map entry per log not idle on it.
func TestStrangerMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 100 MB")
	}
	for _, s := range strangers {
		for _, logs := range []int{10000, 60000} {
			got := strangerHeap(t, logs, s.act)
			t.Logf("%s neighbour, %d logs held: %d bytes (%.2f per log)", s.name, logs, got, float64(got)/float64(logs))
			if want := int64(logs) + 64<<10; got > want {
				t.Errorf("%s neighbour, %d logs held: costs %d bytes, want at most %d", s.name, logs, got, want)
			}
		}
	}
}
