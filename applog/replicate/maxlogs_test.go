package replicate

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"
)

// TestMoreLogsThanMaxLogs: two stores of MaxLogs+100 logs (a chat's
// --max-logs is 100,000, over MaxLogs) replicate, with and without a
// Tree: the heads a peer may advertise are bounded by the logs the
// receiving store holds plus MaxLogs, not by MaxLogs alone, which
// failed every session of such a store with "peer advertises more than
// 65536 logs".
func TestMoreLogsThanMaxLogs(t *testing.T) {
	for _, tree := range []bool{false, true} {
		name := "Version 3"
		if tree {
			name = "Version 4"
		}
		t.Run(name, func(t *testing.T) {
			a, b := manyLogs(MaxLogs + 100)
			extra := testID("one more")
			a.appendN(extra, 3, 1)
			var ta, tb *Tree
			if tree {
				ta, _ = NewTree(treeParams)
				tb, _ = NewTree(treeParams)
			}
			ctx, cancel := context.WithCancel(context.Background())
			ca, cb := net.Pipe()
			errs := make(chan error, 2)
			var wg sync.WaitGroup
			wg.Go(func() { errs <- Serve(ctx, ca, a, &Options{Peer: "b", Tree: ta}) })
			wg.Go(func() { errs <- Serve(ctx, cb, b, &Options{Peer: "a", Tree: tb}) })
			deadline := time.After(waitTimeout)
			for {
				ch := b.Changed()
				if b.Head(extra) == 3 {
					break
				}
				select {
				case <-ch:
				case err := <-errs:
					t.Fatalf("a session ended before the log past MaxLogs reached b: %v", err)
				case <-deadline:
					t.Fatalf("the log past MaxLogs did not reach b within %v", waitTimeout)
				}
			}
			cancel()
			wg.Wait()
		})
	}
}
