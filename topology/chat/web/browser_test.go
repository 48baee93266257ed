//go:build linux

package web

import (
	"fmt"
	"testing"
	"time"

	"scuttle/topology/chat"
)

// TestBrowserFake drives headless Chromium, in a network namespace of its
// own, through the page of a made-up chat: the sign-in, the history with
// a line of markup shown as text, a typed line reaching the chat, a line
// arriving live, and ten tabs sharing one stream.
func TestBrowserFake(t *testing.T) {
	chromium, ok := inNetns(t)
	if !ok {
		return
	}
	fake := newFakeChat(history...)
	fake.who = []chat.Presence{{Name: "bob", Log: "@bob.ed25519", Connected: true, Since: t0}}
	fake.names = []chat.NameBinding{{Name: "alice", Log: "@alice.ed25519", How: "trusted", Own: true}}
	ts := serve(t, Config{Chat: fake, StateEvery: 10 * time.Millisecond})
	b := startBrowser(t, chromium)
	tb := b.open(t, ts.URL(mustAddr(t, ts.addr)))
	var texts []string
	tb.waitFor(`document.querySelectorAll("#lines li").length == 3`,
		`[...document.querySelectorAll("#lines li")].map(li => li.className + "|" + li.textContent)`, &texts)
	hhmm := func(d time.Duration) string { return t0.Add(d).Local().Format("15:04") }
	want := []string{
		"info|" + hhmm(0) + "infodirect connection to bob",
		"peer|" + hhmm(time.Minute) + `bob<script>alert("x")</script>`,
		"own|" + hhmm(2*time.Minute) + `alicehi \n bob`,
	}
	if fmt.Sprint(texts) != fmt.Sprint(want) {
		t.Errorf("lines shown:\n%q\nwant\n%q", texts, want)
	}
	var page struct {
		Href, Cookie, Me, Status, Who, Names string
		Scripts                              int
	}
	tb.waitFor(`document.getElementById("who").textContent != ""`, `({
		href: location.href, cookie: document.cookie,
		me: document.getElementById("me").textContent,
		status: document.getElementById("status").textContent,
		who: document.getElementById("who").textContent,
		names: document.getElementById("names").textContent,
		scripts: document.scripts.length,
	})`, &page)
	if want := "http://" + ts.addr + "/"; page.Href != want || page.Cookie != "" || page.Scripts != 1 {
		t.Errorf("page at %q with cookie %q and %d scripts; want %q, none visible, one script", page.Href, page.Cookie, page.Scripts, want)
	}
	if page.Me != "alice" || page.Status != "public room · public network · 1 peer" ||
		page.Who != "bob here@bob.ed25519" || page.Names != "alice (you) trusted@alice.ed25519" {
		t.Errorf("page shows %+v", page)
	}

	tb.typeLine(`<img src=x onerror=alert(1)> hi`)
	select {
	case got := <-fake.typed:
		if got != `<img src=x onerror=alert(1)> hi` {
			t.Errorf("typed %q", got)
		}
	case <-time.After(wait):
		t.Fatal("the typed line did not reach the chat")
	}
	fake.say(chat.Line{Kind: chat.Message, Time: t0, From: "bob", Log: "@bob.ed25519", Text: "<b>live</b>"})
	var last string
	tb.waitFor(`document.querySelectorAll("#lines li").length == 4`, `document.querySelector("#lines li:last-child .text").textContent + "|" + document.querySelectorAll("#lines b").length`, &last)
	if last != "<b>live</b>|0" {
		t.Errorf("live line shown as %q, want its text", last)
	}

	// Ten tabs: one stream, through the shared worker.
	for range 9 {
		b.open(t, "http://"+ts.addr+"/").waitFor(`document.querySelectorAll("#lines li").length == 4`, "", nil)
	}
	if n := fake.subscribers(); n != 1 {
		t.Errorf("%d streams for ten tabs, want 1", n)
	}
}
