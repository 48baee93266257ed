package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/replicate"
	"scuttle/topology"
)

// BenchmarkReplicateTransport compares replication over what the chat
// uses, a topology swarm's connection (TLS 1.3 and the network proof),
// with replication over a plain TCP connection (the version 1 path), on
// 127.0.0.1. Each iteration replicates the source to a new empty
// database once each way, plain first, so the two share the machine's
// state; the ratio is tls-entries/s over plain-entries/s.
//
//	go test -run '^$' -bench ReplicateTransport -benchtime 3x .
func BenchmarkReplicateTransport(b *testing.B) {
	for _, shape := range []struct {
		name      string
		logs, per int
	}{
		{"logs=1/entries=1000000", 1, 1_000_000},
		{"logs=1000/entries=1000", 1000, 1000},
	} {
		b.Run(shape.name, func(b *testing.B) {
			src, want := benchSource(b, shape.logs, shape.per)
			total := int64(shape.logs * shape.per)
			var plain, secure time.Duration
			for b.Loop() {
				plain += replicateOnce(b, src, want, false)
				secure += replicateOnce(b, src, want, true)
			}
			n := float64(total * int64(b.N))
			b.ReportMetric(n/plain.Seconds(), "plain-entries/s")
			b.ReportMetric(n/secure.Seconds(), "tls-entries/s")
			b.ReportMetric(plain.Seconds()/secure.Seconds(), "tls/plain")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// benchSource returns a database holding logs logs of per 100-byte
// entries each, and the heads a replica must reach.
func benchSource(b *testing.B, logs, per int) (*applog.DB, map[applog.ID]uint64) {
	b.Helper()
	src, err := applog.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { src.Close() })
	payload := bytes.Repeat([]byte{'x'}, 100)
	batch := make([][]byte, min(per, 1000))
	for i := range batch {
		batch[i] = payload
	}
	fill := func(db *applog.DB) {
		for n := 0; n < per; n += len(batch) {
			if _, err := db.AppendBatch(batch[:min(len(batch), per-n)]); err != nil {
				b.Fatal(err)
			}
		}
	}
	want := map[applog.ID]uint64{}
	if logs == 1 {
		fill(src)
		want[src.ID()] = uint64(per)
		return src, want
	}
	authors := b.TempDir()
	for i := range logs {
		au, err := applog.Open(filepath.Join(authors, strconv.Itoa(i)), nil)
		if err != nil {
			b.Fatal(err)
		}
		fill(au)
		var recs [][]byte
		it := au.Iter(au.ID(), 1)
		for it.Next() {
			recs = append(recs, bytes.Clone(it.Record()))
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
		it.Close()
		if _, err := src.Insert(au.ID(), recs); err != nil {
			b.Fatal(err)
		}
		want[au.ID()] = uint64(per)
		au.Close()
	}
	return src, want
}

// replicateOnce replicates src to a new empty database, over a swarm's
// connection if secure, else over plain TCP, and returns the time from
// the first dial until the replica held want.
func replicateOnce(b *testing.B, src *applog.DB, want map[applog.ID]uint64, secure bool) time.Duration {
	b.Helper()
	dst, err := applog.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	serve := func(db *applog.DB) func(ctx context.Context, c net.Conn) error {
		return func(ctx context.Context, c net.Conn) error {
			return replicate.Serve(ctx, c, replicate.FromDB(db), nil)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{}, 2)
	start := time.Now()
	if secure {
		lnDst, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		for _, sw := range []*topology.Swarm{
			{Key: src.PrivateKey(), Name: "src", Listener: ln, Handler: handler(serve(src))},
			{Key: dst.PrivateKey(), Name: "dst", Listener: lnDst, Peers: []string{ln.Addr().String()}, Handler: handler(serve(dst))},
		} {
			go func() { sw.Run(ctx); done <- struct{}{} }()
		}
	} else {
		go func() {
			defer func() { done <- struct{}{} }()
			c, err := ln.Accept()
			ln.Close()
			if err == nil {
				defer c.Close()
				serve(src)(ctx, c)
			}
		}()
		go func() {
			defer func() { done <- struct{}{} }()
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String())
			if err == nil {
				defer c.Close()
				serve(dst)(ctx, c)
			}
		}()
	}
	deadline := time.After(5 * time.Minute)
	for {
		changed := dst.Changed() // before the check, so no change is missed
		if holds(dst, want) {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			b.Fatalf("replica incomplete after 5 minutes (secure %v)", secure)
		}
	}
	d := time.Since(start)
	cancel()
	<-done
	<-done
	return d
}

func handler(f func(ctx context.Context, c net.Conn) error) func(ctx context.Context, c *topology.Conn) error {
	return func(ctx context.Context, c *topology.Conn) error { return f(ctx, c) }
}

// holds reports whether db holds want, or more.
func holds(db *applog.DB, want map[applog.ID]uint64) bool {
	for id, h := range want {
		if db.Head(id) < h {
			return false
		}
	}
	return true
}
