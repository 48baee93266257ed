package topology

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"
)

// The connection benchmarks measure, on 127.0.0.1, the setup of one
// connection from TCP connect to the dialler's Handler start: "tcp" is
// the floor (a bare dial, accept and one-byte round trip); "swarm" is a
// dial plus the whole handshake against a running Swarm. They report the
// p50 and p99 of that time. BenchmarkAccept reports the handshakes per
// second one Swarm accepts from 4 dialling goroutines (each its own
// key), on the same machine. testdata/bench_v1_test.go.txt is the same
// harness for the version 1 (plaintext) code; see its comment.

// percentiles reports the p50 and p99 of ds as custom metrics.
func percentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
}

func BenchmarkConnect(b *testing.B) {
	b.Run("tcp", func(b *testing.B) {
		ln := listen(b, "127.0.0.1:0")
		defer ln.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				var buf [1]byte
				if _, err := io.ReadFull(c, buf[:]); err == nil {
					c.Write(buf[:])
				}
				c.Close()
			}
		}()
		var ds []time.Duration
		for b.Loop() {
			start := time.Now()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			var buf [1]byte
			if _, err := c.Write(buf[:]); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, buf[:]); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
			c.Close()
		}
		ln.Close()
		<-done
		percentiles(b, ds)
	})
	b.Run("swarm", func(b *testing.B) {
		k := testKeys(2)
		addr, stop := benchServer(b, k[1])
		defer stop()
		var start, started time.Time
		client := benchClient(b, k[0], func(context.Context, *Conn) error { started = time.Now(); return nil })
		var ds []time.Duration
		for b.Loop() {
			start = time.Now()
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			if out := client.connect(b.Context(), nc, ConnInfo{Dialed: true}, nil, nil); !out.served {
				b.Fatalf("not served: %v", out.err)
			}
			ds = append(ds, started.Sub(start))
		}
		percentiles(b, ds)
	})
}

// BenchmarkAccept: handshakes per second a Swarm accepts.
func BenchmarkAccept(b *testing.B) {
	const dialers = 4
	k := testKeys(dialers + 1)
	addr, stop := benchServer(b, k[dialers])
	defer stop()
	quick := func(context.Context, *Conn) error { return nil }
	clients := make(chan *Swarm, dialers)
	for i := range dialers {
		clients <- benchClient(b, k[i], quick)
	}
	start := time.Now()
	b.SetParallelism((dialers + 1) / 2) // GOMAXPROCS × this goroutines; at most dialers clients
	b.RunParallel(func(pb *testing.PB) {
		client := <-clients
		defer func() { clients <- client }()
		for pb.Next() {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			if out := client.connect(context.Background(), nc, ConnInfo{Dialed: true}, nil, nil); !out.served {
				b.Errorf("not served: %v", out.err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
}

// benchServer runs a Swarm with key on 127.0.0.1 whose Handler returns
// at once, until stop.
func benchServer(b *testing.B, key ed25519.PrivateKey) (addr string, stop func()) {
	server := &Swarm{Key: key, Name: "bob", Listener: listen(b, "127.0.0.1:0"), Handler: func(context.Context, *Conn) error { return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- server.Run(ctx) }()
	return server.Listener.Addr().String(), func() { cancel(); <-ran }
}

// benchClient returns a Swarm with key, set up to dial by hand with
// connect, without running.
func benchClient(b *testing.B, key ed25519.PrivateKey, h func(context.Context, *Conn) error) *Swarm {
	client := &Swarm{Key: key, Name: "alice", Handler: h}
	if err := client.setup(); err != nil {
		b.Fatal(err)
	}
	client.log = slog.New(slog.DiscardHandler)
	client.self = hello{name: client.Name, addr: "127.0.0.1:1"}
	client.conns = make(map[string]*peerConn)
	client.inflight = make(map[string][]*peerConn)
	return client
}
