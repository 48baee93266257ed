//go:build linux

package web

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	pngenc "image/png"
	"os"
	"path/filepath"
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

	// An image bob sends shows under the line of its fetch's completion,
	// decoded (so served with its type, within the page's CSP); an SVG
	// shows as a line alone.
	dir := t.TempDir()
	pngPath, svgPath := filepath.Join(dir, "dot.png"), filepath.Join(dir, "dot.svg")
	var png bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{200, 0, 0, 255})
	if err := pngenc.Encode(&png, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pngPath, png.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(svgPath, []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="3" height="2"><script>document.title="owned"</script></svg>`), 0o600); err != nil {
		t.Fatal(err)
	}
	bob.say("/send " + svgPath)
	alice.expect("info> dot.svg complete: scuttle get ")
	bob.say("/send " + pngPath)
	alice.expect("info> dot.png complete: scuttle get ")
	var images []string
	tb.waitFor(`[...document.querySelectorAll("#lines img.image")].some(e => e.complete && e.naturalWidth > 0)`,
		`[...document.querySelectorAll("#lines img.image")].map(e => e.closest("li").querySelector(".text").textContent.split(":")[0] + " " + e.naturalWidth + "x" + e.naturalHeight)`, &images)
	if want := []string{"dot.png complete 3x2"}; fmt.Sprint(images) != fmt.Sprint(want) {
		t.Errorf("images shown: %q, want %q", images, want)
	}
	var title string
	tb.waitFor(`true`, `document.title`, &title)
	if title != "alice · scuttle chat" {
		t.Errorf("title %q after the SVG", title)
	}
}
