package replicate

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"scuttle/applog/blob"
)

// BenchmarkFetch fetches a 64 MiB file from one peer (and from two at
// once; perpeer=0 is DefaultPerPeer) over 127.0.0.1 TCP into a new store each time, and reports its
// rate against two baselines measured in the same run: the same bytes
// streamed over a plain TCP connection (tcp-MB/s), and written to a new
// store by Begin and WriteBlock from memory, without network (store-MB/s).
//
//	go test -p 1 -run '^$' -bench Fetch -benchtime 3x ./applog/replicate/
func BenchmarkFetch(b *testing.B) {
	const size = 64 << 20
	data := content(10, size)
	srcs := []*blob.Store{newBlobs(b), newBlobs(b)}
	var m *blob.Manifest
	for _, s := range srcs {
		m = addFile(b, s, data)
	}
	for _, c := range []struct{ peers, perPeer int }{{1, 0}, {2, 0}, {1, 1}, {1, 2}, {1, 8}} {
		peers := c.peers
		b.Run(fmt.Sprintf("peers=%d/perpeer=%d", c.peers, c.perPeer), func(b *testing.B) {
			var fetch, tcp, store time.Duration
			for b.Loop() {
				tcp += baselineTCP(b, size)
				store += baselineStore(b, m, data)
				r := newFetchRig(b, newBlobs(b), c.perPeer)
				ctx, cancel := context.WithCancel(context.Background())
				errs := make(chan error, 2*peers)
				for i := range peers {
					ca, cb := tcpPair(b)
					go func() { errs <- Serve(ctx, ca, newFake(), &Options{Blobs: srcs[i]}) }()
					go func() { errs <- Serve(ctx, cb, newFake(), &Options{Fetcher: r.f}) }()
				}
				r.waitPeers(b, peers)
				start := time.Now()
				r.f.Get(m.ID())
				if err := r.waitDone(b, m.ID()); err != nil {
					b.Fatal(err)
				}
				fetch += time.Since(start)
				cancel()
				for range 2 * peers {
					<-errs
				}
			}
			n := float64(b.N) * size / 1e6
			b.ReportMetric(n/fetch.Seconds(), "MB/s")
			b.ReportMetric(n/tcp.Seconds(), "tcp-MB/s")
			b.ReportMetric(n/store.Seconds(), "store-MB/s")
			b.ReportMetric(tcp.Seconds()/fetch.Seconds(), "x-tcp")
			b.ReportMetric(store.Seconds()/fetch.Seconds(), "x-store")
		})
	}
}

// baselineStore writes the file of m, whose bytes are data, to a new
// store by Begin and WriteBlock, and returns how long it took.
func baselineStore(b *testing.B, m *blob.Manifest, data []byte) time.Duration {
	s := newBlobs(b)
	start := time.Now()
	if err := s.Begin(m); err != nil {
		b.Fatal(err)
	}
	for i := range m.Blocks() {
		if err := s.WriteBlock(m.ID(), i, data[i*blob.BlockSize:i*blob.BlockSize+m.BlockLen(i)]); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkFetchLatency is BenchmarkFetch from one peer over a
// connection that delays every write by 5 ms each way (a 10 ms round
// trip, a busy LAN or Wi-Fi), for each PerPeer: what PerPeer buys when
// the round trip, not the bandwidth, bounds the rate.
//
//	go test -p 1 -run '^$' -bench FetchLatency -benchtime 2x ./applog/replicate/
func BenchmarkFetchLatency(b *testing.B) {
	const size = 16 << 20
	src := newBlobs(b)
	m := addFile(b, src, content(20, size))
	for _, perPeer := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("perpeer=%d", perPeer), func(b *testing.B) {
			var fetch time.Duration
			for b.Loop() {
				r := newFetchRig(b, newBlobs(b), perPeer)
				ctx, cancel := context.WithCancel(context.Background())
				errs := make(chan error, 2)
				ca, cb := tcpPair(b)
				da, db := newDelayConn(ca, 5*time.Millisecond), newDelayConn(cb, 5*time.Millisecond)
				go func() { errs <- Serve(ctx, da, newFake(), &Options{Blobs: src}) }()
				go func() { errs <- Serve(ctx, db, newFake(), &Options{Fetcher: r.f}) }()
				r.waitPeers(b, 1)
				start := time.Now()
				r.f.Get(m.ID())
				if err := r.waitDone(b, m.ID()); err != nil {
					b.Fatal(err)
				}
				fetch += time.Since(start)
				cancel()
				<-errs
				<-errs
			}
			b.ReportMetric(float64(b.N)*size/1e6/fetch.Seconds(), "MB/s")
		})
	}
}

// delayConn delivers what is written to it d later, in order, without
// limiting the bandwidth: a link with latency.
type delayConn struct {
	net.Conn
	d    time.Duration
	ch   chan delayed
	once sync.Once
	quit chan struct{} // closed by Close
	done chan struct{} // closed when the delivering goroutine ends
}

type delayed struct {
	at time.Time
	b  []byte
}

func newDelayConn(c net.Conn, d time.Duration) *delayConn {
	dc := &delayConn{Conn: c, d: d, ch: make(chan delayed, 4096), quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(dc.done)
		for {
			select {
			case w := <-dc.ch:
				time.Sleep(time.Until(w.at))
				if _, err := dc.Conn.Write(w.b); err != nil {
					return
				}
			case <-dc.quit:
				return
			}
		}
	}()
	return dc
}

func (dc *delayConn) Write(p []byte) (int, error) {
	select {
	case dc.ch <- delayed{time.Now().Add(dc.d), bytes.Clone(p)}:
		return len(p), nil
	case <-dc.done:
		return 0, net.ErrClosed
	}
}

func (dc *delayConn) Close() error {
	dc.once.Do(func() { close(dc.quit) })
	return dc.Conn.Close()
}
