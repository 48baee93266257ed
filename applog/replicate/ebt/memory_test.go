package ebt

import (
	"fmt"
	"runtime"
	"testing"
)

// TestMemory: a peer holding 10,000 logs with 10 neighbours that all
// noted every log keeps at most 250 bytes per log and 150 per log and
// neighbour (measured: about 200 and 66).
func TestMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 20 MB")
	}
	const logs, links = 10000, 10
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
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
	perLog := float64(ms.HeapAlloc-before) / logs
	ns := make([]Note, logs)
	for i, l := range names {
		ns[i] = Note{Log: l, Seq: 1}
	}
	for i := range links {
		p := Peer(fmt.Sprint("n", i))
		m.Connect(nil, at(200), p)
		m.ReceivedNotes(nil, at(201), p, ns)
	}
	ns = nil
	runtime.GC()
	runtime.ReadMemStats(&ms)
	perLink := (float64(ms.HeapAlloc-before) - perLog*logs) / (logs * links)
	t.Logf("%.0f bytes per log (the id's text included), %.0f per log and neighbour", perLog, perLink)
	if perLog > 250 || perLink > 150 {
		t.Errorf("%.0f bytes per log, %.0f per log and neighbour; want at most 250 and 150", perLog, perLink)
	}
	runtime.KeepAlive(m)
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
		m.Connect(nil, at(200), p)
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
// 60,000 logs, and the two differ by at most 1 KiB (measured: about 300
// and 150 bytes; about 70 bytes per log and neighbour before, 4 MB a
// neighbour at 60,000 logs).
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
