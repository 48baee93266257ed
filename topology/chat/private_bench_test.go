package chat

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/applog/seal"
	"scuttle/topology/testkit"
)

// BenchmarkChatLineSealed: the cost of the feed's path (lineOf, then
// show) for a public line, a private message sealed to the reader, and
// one sealed to others, which the reader recognises as not its own and
// does not show.
func BenchmarkChatLineSealed(b *testing.B) {
	c, public := benchChat(b)
	dir := b.TempDir()
	kr, err := seal.OpenKeyring(dir)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := kr.Rekey(newTestDB(b)); err != nil {
		b.Fatal(err)
	}
	c.sealing = newSealing(kr, nil)
	other, err := seal.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	author := newTestDB(b).ID()
	akey, _ := seal.GenerateKey()
	text := []byte("a line of a usual length, said in a chat by alice")
	mine, err := seal.Seal(seal.Context{Author: author}, akey, []seal.Recipient{{Log: c.cfg.DB.ID(), Key: kr.Current().Public()}}, text)
	if err != nil {
		b.Fatal(err)
	}
	others, err := seal.Seal(seal.Context{Author: author}, akey, []seal.Recipient{{Log: author, Key: other.Public()}}, text)
	if err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		e    applog.Entry
	}{
		{"public", public},
		{"private-mine", applog.Entry{Log: author, Seq: 1, Time: time.Now(), Data: mine}},
		{"private-others", applog.Entry{Log: author, Seq: 1, Time: time.Now(), Data: others}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				var l Line
				var ok bool
				l, ok, buf = c.lineOf(buf, bb.e)
				if ok {
					c.show(l)
				}
			}
			c.flush()
		})
	}
}

// benchPeer is a chat for a benchmark: as unitChat, without a
// testing.T.
type benchPeer struct {
	c    *Chat
	db   *applog.DB
	out  *lineWriter
	done chan error
}

func startBenchPeer(b *testing.B, ctx context.Context, fn *fakeNet, me string, peers ...string) *benchPeer {
	dir := b.TempDir()
	db, err := applog.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ns, err := names.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	kr, err := seal.OpenKeyring(dir)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	p := &benchPeer{db: db, out: newLineWriter(), done: make(chan error, 1)}
	p.c = New(Config{Me: me, Peers: peers, DB: db, Names: ns, Listener: ln, Resolver: fn, Dial: fn.Dial,
		Out: p.out, Errs: io.Discard, Keys: kr})
	go func() { p.done <- p.c.Run(ctx) }()
	fn.set(me, ln.Addr().String())
	return p
}

// await waits for p to print line, skipping others.
func (p *benchPeer) await(b *testing.B, line string) {
	deadline := time.After(testkit.ChatWait)
	for {
		select {
		case l := <-p.out.lines:
			if l == line {
				return
			}
		case <-deadline:
			b.Fatalf("no %q within %v", line, testkit.ChatWait)
		}
	}
}

// BenchmarkTypedToPrinted: from a line typed on alice's chat to its
// printing on bob's, over 127.0.0.1: a public line, and a private message
// (/msg), sealed by alice and opened by bob. Reports the p50.
func BenchmarkTypedToPrinted(b *testing.B) {
	ctx, cancel := context.WithCancel(b.Context())
	fn := newFakeNet()
	a := startBenchPeer(b, ctx, fn, "alice", "bob")
	bob := startBenchPeer(b, ctx, fn, "bob", "alice")
	defer func() {
		cancel()
		<-a.done
		<-bob.done
	}()
	// Each public line comes after its log's key entry: once bob has it,
	// alice has bob's key, and the other way round.
	a.c.Type(ctx, "warm up")
	bob.await(b, "alice> warm up")
	bob.c.Type(ctx, "warm up")
	a.await(b, "bob> warm up")

	for _, bb := range []struct {
		name           string
		typed, printed string
	}{
		{"public", "%d said", "alice> %d said"},
		{"private", "/msg bob %d said", "alice → bob> %d said"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var ds []time.Duration
			n := 0
			for b.Loop() {
				n++
				start := time.Now()
				if err := a.c.Type(ctx, fmt.Sprintf(bb.typed, n)); err != nil {
					b.Fatal(err)
				}
				bob.await(b, fmt.Sprintf(bb.printed, n))
				ds = append(ds, time.Since(start))
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
		})
	}
}
