package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"scuttle/topology/chat"
)

var (
	t0      = time.Date(2026, 12, 6, 18, 30, 0, 0, time.UTC)
	history = []chat.Line{
		{Kind: chat.Info, Time: t0, Text: "direct connection to bob"},
		{Kind: chat.Message, Time: t0.Add(time.Minute), From: "bob", Log: "@bob.ed25519", Text: `<script>alert("x")</script>`},
		{Kind: chat.Message, Time: t0.Add(2 * time.Minute), From: "alice", Log: "@alice.ed25519", Own: true, Text: "hi \\n bob"},
	}
)

// TestStream checks that a stream delivers, in order, the reset, the
// state, the history and then live lines and state changes, each as one
// exact event.
func TestStream(t *testing.T) {
	fake := newFakeChat(history...)
	fake.who = []chat.Presence{{Name: "bob", Log: "@bob.ed25519", Connected: true, Since: t0}}
	fake.names = []chat.NameBinding{{Name: "alice", Log: "@alice.ed25519", How: "trusted", Own: true}}
	ts := serve(t, Config{Chat: fake, StateEvery: time.Millisecond})
	resp, ev := ts.stream(t, t.Context())
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, ct)
	}
	ms := t0.UnixMilli()
	expect := func(name, data string) {
		t.Helper()
		gotName, gotData, err := ev.next()
		if err != nil {
			t.Fatalf("waiting for event %s: %v", name, err)
		}
		if gotName != name || gotData != data {
			t.Fatalf("event %s %s\nwant  %s %s", gotName, gotData, name, data)
		}
	}
	// The state goes first from its own goroutine, beside the history:
	// the page is fine with either order, the test reads the history in
	// order, with the state wherever it comes.
	state := fmt.Sprintf(`{"me":"alice","room":"","private":false,"peers":1,"who":[{"name":"bob","log":"@bob.ed25519","connected":true,"since":%d}],"names":[{"name":"alice","log":"@alice.ed25519","how":"trusted","own":true}]}`, ms)
	want := []string{
		"reset {}",
		fmt.Sprintf(`line {"info":true,"time":%d,"text":"direct connection to bob"}`, ms),
		fmt.Sprintf(`line {"time":%d,"from":"bob","log":"@bob.ed25519","text":"\u003cscript\u003ealert(\"x\")\u003c/script\u003e"}`, ms+60000),
		fmt.Sprintf(`line {"time":%d,"from":"alice","log":"@alice.ed25519","own":true,"text":"hi \\n bob"}`, ms+120000),
	}
	sawState := false
	for len(want) > 0 {
		name, data, err := ev.next()
		if err != nil {
			t.Fatal(err)
		}
		if got := name + " " + data; got == "state "+state && !sawState {
			sawState = true
		} else if got != want[0] {
			t.Fatalf("event %s\nwant  %s", got, want[0])
		} else {
			want = want[1:]
		}
	}
	if !sawState {
		expect("state", state)
	}
	fake.say(chat.Line{Kind: chat.Message, Time: t0.Add(3 * time.Minute), From: "bob", Log: "@bob.ed25519", Text: "live"})
	expect("line", fmt.Sprintf(`{"time":%d,"from":"bob","log":"@bob.ed25519","text":"live"}`, ms+180000))
	fake.say(chat.Line{Kind: chat.Message, Time: t0.Add(4 * time.Minute), From: "bob", Log: "@bob.ed25519", To: "alice", Text: "psst"})
	expect("line", fmt.Sprintf(`{"time":%d,"from":"bob","log":"@bob.ed25519","to":"alice","text":"psst"}`, ms+240000))
	fake.say(chat.Line{Kind: chat.Message, Time: t0.Add(5 * time.Minute), From: "bob", Log: "@bob.ed25519", Room: "#x", Text: "in x"})
	expect("line", fmt.Sprintf(`{"time":%d,"from":"bob","log":"@bob.ed25519","room":"#x","text":"in x"}`, ms+300000))
	fake.setStatus(chat.Status{Me: "alice", Room: "#x", Private: true, Peers: 2})
	expect("state", fmt.Sprintf(`{"me":"alice","room":"#x","private":true,"peers":2,"who":[{"name":"bob","log":"@bob.ed25519","connected":true,"since":%d}],"names":[{"name":"alice","log":"@alice.ed25519","how":"trusted","own":true}]}`, ms))
}

// TestStreamEndsWithClient checks that a closed page ends its stream and
// its subscription to the chat.
func TestStreamEndsWithClient(t *testing.T) {
	fake := newFakeChat(history...)
	ts := serve(t, Config{Chat: fake})
	ctx, cancel := context.WithCancel(t.Context())
	_, ev := ts.stream(t, ctx)
	if name, _, err := ev.next(); err != nil || name != "reset" {
		t.Fatalf("first event %q, %v", name, err)
	}
	cancel()
	select {
	case <-fake.left:
	case <-time.After(wait):
		t.Fatal("the stream's Lines did not return after the client left")
	}
}

// TestStreamCap opens as many streams as allowed, checks that one more
// is refused with 503 and a reason, and that a stream can be opened again
// once one is closed.
func TestStreamCap(t *testing.T) {
	fake := newFakeChat()
	ts := serve(t, Config{Chat: fake, MaxStreams: 2})
	var cancels []context.CancelFunc
	for range 2 {
		ctx, cancel := context.WithCancel(t.Context())
		cancels = append(cancels, cancel)
		_, ev := ts.stream(t, ctx)
		if name, _, err := ev.next(); err != nil || name != "reset" {
			t.Fatalf("first event %q, %v", name, err)
		}
	}
	refused := func() (int, string) {
		resp, err := ts.client.Do(ts.request(t, "GET", "/events", ""))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return resp.StatusCode, "" // a stream: no end to read to
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return resp.StatusCode, string(b)
	}
	if code, body := refused(); code != http.StatusServiceUnavailable || body != "web: too many streams open (at most 2): close this chat's page in another browser\n" {
		t.Fatalf("third stream: %d %q, want 503 and the reason", code, body)
	}
	cancels[0]()
	<-fake.left
	// The stream's token is given back as its handler returns, just
	// after Lines: retry within the bound.
	deadline := time.Now().Add(wait)
	for {
		code, body := refused()
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after closing a stream: %d %q", code, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStreamWriteFailsEndsLines checks that a stream whose reader is
// gone ends its subscription to the chat as soon as a write fails.
func TestStreamWriteFailsEndsLines(t *testing.T) {
	fake := newFakeChat()
	ts := serve(t, Config{Chat: fake})
	c := dialRaw(t, ts.addr)
	fmt.Fprintf(c, "GET /events HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\n\r\n", ts.addr, ts.cookie.Name, ts.secret)
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 200 ") {
		t.Fatalf("status line %q, %v", status, err)
	}
	c.Close()
	for fake.subscribers() > 0 {
		// Each line written to the closed connection fails at the
		// latest on the second write.
		fake.say(chat.Line{Kind: chat.Message, From: "bob", Text: strings.Repeat("x", 4096)})
		select {
		case <-fake.left:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestConnCap checks that connections beyond MaxConns wait, unserved,
// until one closes.
func TestConnCap(t *testing.T) {
	ts := serve(t, Config{Chat: newFakeChat(), MaxConns: 2})
	get := fmt.Sprintf("GET /app.css HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\n\r\n", ts.addr, ts.cookie.Name, ts.secret)
	first := dialRaw(t, ts.addr)
	second := dialRaw(t, ts.addr)
	for _, c := range []interface {
		Write([]byte) (int, error)
		Read([]byte) (int, error)
	}{first, second} {
		if _, err := c.Write([]byte(get)); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 12)
		if _, err := io.ReadFull(c, b); err != nil || string(b) != "HTTP/1.1 200" {
			t.Fatalf("served connection: %q, %v", b, err)
		}
	}
	third := dialRaw(t, ts.addr)
	third.Write([]byte(get))
	third.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	b := make([]byte, 12)
	if n, err := third.Read(b); err == nil {
		t.Fatalf("third connection served beyond the cap: %q", b[:n])
	}
	first.Close()
	third.SetReadDeadline(time.Now().Add(wait))
	if _, err := io.ReadFull(third, b); err != nil || string(b) != "HTTP/1.1 200" {
		t.Fatalf("third connection after the first closed: %q, %v", b, err)
	}
}
