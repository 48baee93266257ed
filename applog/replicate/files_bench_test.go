package replicate

import (
	"context"
	"testing"
	"time"

	"scuttle/applog/blob"
)

// BenchmarkFetch fetches a 64 MiB file from one peer (and from two at
// once) over 127.0.0.1 TCP into a new store each time, and reports its
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
	for _, peers := range []int{1, 2} {
		b.Run(map[int]string{1: "1peer", 2: "2peers"}[peers], func(b *testing.B) {
			var fetch, tcp, store time.Duration
			for b.Loop() {
				tcp += baselineTCP(b, size)
				store += baselineStore(b, m, data)
				r := newFetchRig(b, newBlobs(b), 0)
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
