package topology

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
)

// BenchmarkConnect measures setting up one connection on 127.0.0.1:
// "tcp" is the baseline, a bare dial, accept and one-byte round trip;
// "swarm" is a dial plus the full handshake (Hellos, verdict,
// registration, events) against a running Swarm, ending at once.
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
		for b.Loop() {
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
			c.Close()
		}
		ln.Close()
		<-done
	})
	b.Run("swarm", func(b *testing.B) {
		quick := func(context.Context, *Conn) error { return nil }
		server := &Swarm{ID: "id-b", Name: "bob", Listener: listen(b, "127.0.0.1:0"), Handler: quick}
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- server.Run(ctx) }()
		defer func() { cancel(); <-ran }()

		client := &Swarm{ID: "id-a", Name: "alice", Handler: quick}
		client.log = slog.New(slog.DiscardHandler)
		client.self = Hello{ID: client.ID, Name: client.Name, Addr: "127.0.0.1:1"}
		client.conns = make(map[string]*peerConn)
		addr := server.Listener.Addr().String()
		for b.Loop() {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			if out := client.connect(ctx, nc, true, nil); !out.served {
				b.Fatalf("not served: %v", out.err)
			}
		}
	})
}
