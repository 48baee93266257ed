//go:build linux

package web

import (
	"fmt"
	"regexp"
	"testing"
)

// TestBrowser is the end-to-end test of the web interface: two real chats
// on 127.0.0.1 and headless Chromium, all in a network namespace of their
// own. The page signs in with the printed address, shows the history
// (bob's line of markup as text), sends a typed line that bob prints, and
// shows bob's next line as it arrives, then a private message each way.
func TestBrowser(t *testing.T) {
	chromium, ok := inNetns(t)
	if !ok {
		return
	}
	alice, bob, url := twoChats(t)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/\?s=[A-Za-z0-9_-]{43}$`).MatchString(url) {
		t.Fatalf("printed address %q", url)
	}
	tb := startBrowser(t, chromium).open(t, url)

	var shown []string
	tb.waitFor(`[...document.querySelectorAll("#lines li.peer .text")].some(e => e.textContent.startsWith("history from bob"))`,
		`[...document.querySelectorAll("#lines li:not(.info)")].map(li => li.className + " " + li.querySelector(".from").textContent + "> " + li.querySelector(".text").textContent)`, &shown)
	want := []string{"own alice> history from alice", `peer bob> history from bob <script>document.title="owned"</script>`}
	if fmt.Sprint(shown) != fmt.Sprint(want) {
		t.Errorf("history shown: %q, want %q", shown, want)
	}
	var page struct{ Title, Status, Who, Scripts string }
	tb.waitFor(`document.getElementById("status").textContent.endsWith("1 peer")`, `({
		title: document.title,
		status: document.getElementById("status").textContent,
		who: document.getElementById("who").textContent,
		scripts: String(document.querySelectorAll("script").length),
	})`, &page)
	if page.Title != "alice · scuttle chat" || page.Status != "public room · public network · 1 peer" || page.Scripts != "1" {
		t.Errorf("page: %+v", page)
	}

	tb.typeLine("typed in the page")
	bob.expect("alice> typed in the page")
	bob.say("live from bob")
	tb.waitFor(`[...document.querySelectorAll("#lines li.peer .text")].some(e => e.textContent == "live from bob")`, "", nil)

	// A private message each way: shown apart, as the terminal shows it.
	bob.say("/msg alice for alice only")
	bob.expect("bob → alice> for alice only")
	var private []string
	tb.waitFor(`[...document.querySelectorAll("#lines li.private .text")].some(e => e.textContent == "for alice only")`,
		`[...document.querySelectorAll("#lines li.private")].map(li => li.className + " " + li.querySelector(".from").textContent + "> " + li.querySelector(".text").textContent)`, &private)
	if want := []string{"peer private bob → alice> for alice only"}; fmt.Sprint(private) != fmt.Sprint(want) {
		t.Errorf("private lines shown: %q, want %q", private, want)
	}
	tb.typeLine("/msg bob for bob only")
	bob.expect("alice → bob> for bob only")
	_ = alice
}
