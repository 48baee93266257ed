package replicate

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"scuttle/topology/testkit"
)

// heapInUse returns the bytes of live heap objects after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestMadeUpHeadsMemory: a made-up peer that advertises MaxLogs-1 heads
// of logs nobody holds, in frames of the usual size, costs a session no
// more than maxSessionHeap of memory while it stays, however many logs it
// names (item 7 of issue 19: 12.8 MB each before), and nothing once it
// has left.
func TestMadeUpHeadsMemory(t *testing.T) {
	testkit.CheckLeaks(t)
	const maxSessionHeap = 1 << 20 // buffers, a frame, a bounded window of heads
	st := newFake()
	st.appendN(testID("own"), 3, 1)
	before := heapInUse()

	vc, pc := net.Pipe()
	defer pc.Close()
	advertised := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- Serve(context.Background(), vc, st, &Options{WatchHead: func(uint64) { close(advertised) }})
	}()
	go io.Copy(io.Discard, pc)
	pc.Write(wireHello(Version))
	var hs []head
	for i := range MaxLogs - 1 {
		hs = append(hs, head{testID(fmt.Sprint("made up ", i)), uint64(i + 1)})
		if len(hs) == 1000 {
			pc.Write(wireHeads(hs...))
			hs = hs[:0]
		}
	}
	pc.Write(cat(wireHeads(hs...), wireHeadsEnd()))
	select {
	case <-advertised:
	case <-time.After(waitTimeout):
		t.Fatal("the session did not take the peer's heads")
	}
	hs = nil
	grown := heapInUse() - before
	t.Logf("a session with a peer advertising %d made-up heads holds %d bytes", MaxLogs-1, grown)
	if grown > maxSessionHeap {
		t.Errorf("a session with a peer advertising %d made-up heads holds %d bytes, want at most %d", MaxLogs-1, grown, maxSessionHeap)
	}
	pc.Close()
	if err := <-errc; err == nil {
		t.Fatal("Serve: got nil, want the peer's close")
	}
	if grown := heapInUse() - before; grown > 64<<10 {
		t.Errorf("after the peer left, %d bytes are still held", grown)
	}
}
