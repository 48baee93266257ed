package replicate

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"
)

// BenchmarkLiveManyLogs measures one entry from append on one side to
// stored on the other, over an established connection, when both hold
// 20,000 other logs: the side that appends has a Tree, the other does
// not (the session runs at Version 3). Each append wakes the sender,
// which looks for what its peer lacks.
func BenchmarkLiveManyLogs(b *testing.B) {
	a, c := manyLogs(20000)
	tr, _ := NewTree(treeParams)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	ca, cc := net.Pipe()
	heads := make(chan struct{}, 2)
	wg.Go(func() {
		Serve(ctx, ca, a, &Options{Tree: tr, WatchHead: func(uint64) { heads <- struct{}{} }})
	})
	wg.Go(func() { Serve(ctx, cc, c, &Options{WatchHead: func(uint64) { heads <- struct{}{} }}) })
	<-heads
	<-heads
	id := testID("live")
	for b.Loop() {
		changed := c.Changed()
		want := a.appendN(id, 1, 1)
		deadline := time.After(waitTimeout)
		for c.Head(id) < want {
			select {
			case <-changed:
				changed = c.Changed()
			case <-deadline:
				b.Fatalf("entry %d not stored in time", want)
			}
		}
	}
}
