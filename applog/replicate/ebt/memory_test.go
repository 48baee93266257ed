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
