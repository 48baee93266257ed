package replicate

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"runtime"
	"runtime/pprof"
	"time"

	"scuttle/applog"
	"scuttle/topology/testkit"
)

// manyLogs returns two fake stores holding the same n one-entry logs
// (the records shared, not copied), built without a notification each.
func manyLogs(n int) (a, b *fakeStore) {
	a, b = newFake(), newFake()
	for i := range n {
		id := testID("log " + strconv.Itoa(i))
		l := [][]byte{fakeRecord(1, nil, []byte("one entry"), true)}
		a.logs[id], b.logs[id] = l, l
	}
	return a, b
}

// sessionHeap connects pairs sessions between two stores of the same
// logs (each side with a Tree of its own if tree), waits until every
// session has the peer's heads and nothing is left to send, and returns
// the live heap the sessions hold, per session, and what is left held
// once they all ended.
func sessionHeap(t *testing.T, logs, pairs int, tree bool) (perSession, after int64) {
	t.Helper()
	a, b := manyLogs(logs)
	var ta, tb *Tree
	if tree {
		ta, _ = NewTree(treeParams)
		tb, _ = NewTree(treeParams)
	}
	before := heapInUse()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var heads sync.WaitGroup
	for range pairs {
		ca, cb := net.Pipe()
		for _, end := range []struct {
			conn net.Conn
			st   Store
			tr   *Tree
		}{{ca, a, ta}, {cb, b, tb}} {
			heads.Add(1)
			var once sync.Once
			wg.Go(func() {
				Serve(ctx, end.conn, end.st, &Options{Tree: end.tr, WriteTimeout: -1,
					WatchHead: func(uint64) { once.Do(heads.Done) }})
			})
		}
	}
	heads.Wait()
	if os.Getenv("CONNMEM_PROF") != "" {
		f, _ := os.Create(os.Getenv("CONNMEM_PROF"))
		runtime.GC()
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	if tree {
		// Caught up: once each sender has read the store, no session
		// keeps an exception.
		for _, tr := range []*Tree{ta, tb} {
			deadline := time.Now().Add(waitTimeout)
			for n := -1; n != 0; {
				tr.base.mu.Lock()
				n = len(tr.base.sessions)*1000000
				if len(tr.base.sessions) == pairs {
					n = 0
					for c := range tr.base.sessions {
						n += len(c.has)
					}
				}
				tr.base.mu.Unlock()
				if time.Now().After(deadline) {
					t.Fatalf("%d exceptions left", n)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	grown := heapInUse() - before
	cancel()
	wg.Wait()
	after = heapInUse() - before
	if a.inserts+b.inserts != 0 {
		t.Errorf("%d inserts between stores of the same logs, want none", a.inserts+b.inserts)
	}
	return grown / int64(2*pairs), after
}

// TestConnectionMemory: what a connection costs in live heap once the
// heads are exchanged, between two stores of the same logs, at Version 3
// and at Version 4.
func TestConnectionMemory(t *testing.T) {
	testkit.CheckLeaks(t)
	logs := []int{10000}
	if s := os.Getenv("CONNMEM_LOGS"); s != "" {
		n, _ := strconv.Atoi(s)
		logs = []int{n}
	}
	for _, tree := range []bool{false, true} {
		for _, n := range logs {
			t.Run(fmt.Sprintf("tree=%v/logs=%d", tree, n), func(t *testing.T) {
				per, after := sessionHeap(t, n, 4, tree)
				t.Logf("%d logs, tree %v: %d bytes per session, %d left after", n, tree, per, after)
			})
		}
	}
	_ = applog.ID("")
}
