//go:build linux

package web

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/blob"
	"scuttle/applog/names"
	"scuttle/applog/seal"
	"scuttle/topology/chat"
	"scuttle/topology/testkit"
)

// A peerChat is a real chat (topology/chat) running in the test's
// process, on 127.0.0.1, with a pipe for its input and its output read
// line by line.
type peerChat struct {
	t    *testing.T
	name string
	c    *chat.Chat
	addr string // where peers reach it
	in   *io.PipeWriter
	out  chan string // the printed lines
	seen []string
}

// startPeerChat runs a chat as me with peers (HOST:PORT), through run
// (nil: the chat's Run alone), and stops it when the test ends.
func startPeerChat(t *testing.T, run func(ctx context.Context, c *chat.Chat) error, me string, peers ...string) *peerChat {
	t.Helper()
	dir := t.TempDir()
	db, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := names.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := seal.OpenKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p := &peerChat{t: t, name: me, addr: ln.Addr().String(), in: inW, out: make(chan string, 1024)}
	p.c = chat.New(chat.Config{Me: me, Peers: peers, DB: db, Names: ns, Listener: ln, In: inR, Out: outW, Errs: io.Discard, Keys: keys,
		Blobs: blobs, FetchMax: 1 << 20})
	go func() {
		defer close(p.out)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			p.out <- sc.Text()
		}
	}()
	if run == nil {
		run = func(ctx context.Context, c *chat.Chat) error { return c.Run(ctx) }
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, p.c) }()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", me, err)
			}
		case <-time.After(testkit.ChatWait):
			t.Errorf("%s did not end within %v", me, testkit.ChatWait)
		}
		outW.Close()
		db.Close()
	})
	return p
}

// say types line into the chat's input.
func (p *peerChat) say(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		p.t.Fatalf("typing into %s: %v", p.name, err)
	}
}

// expect waits for a printed line that has the prefix want, skipping
// the others, and returns it.
func (p *peerChat) expect(want string) string {
	p.t.Helper()
	return testkit.ExpectPrefix(p.t, p.name, p.out, &p.seen, want)
}

// twoChats starts alice, serving her chat on the web, and bob, who names
// her; they exchange a line each (the page's history). It returns them
// and the page's address, as alice printed it.
func twoChats(t *testing.T) (alice, bob *peerChat, url string) {
	t.Helper()
	serveWeb := func(ctx context.Context, c *chat.Chat) error {
		s, err := New(Config{Chat: c, Addr: "127.0.0.1:0", Info: c.Info})
		if err != nil {
			return err
		}
		return s.Run(ctx, c.Run)
	}
	alice = startPeerChat(t, serveWeb, "alice")
	url = strings.TrimPrefix(alice.expect("info> web interface at http://127.0.0.1:"), "info> web interface at ")
	bob = startPeerChat(t, nil, "bob", alice.addr)
	alice.say("history from alice")
	bob.expect("alice> history from alice")
	bob.say(`history from bob <script>document.title="owned"</script>`)
	alice.expect("bob> history from bob")
	return alice, bob, url
}
