package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestType checks POST /type: the line reaches the chat as typed, and
// what is not one line, or is too long, is refused with its status.
func TestType(t *testing.T) {
	fake := newFakeChat()
	ts := serve(t, Config{Chat: fake})
	for _, r := range []struct {
		name, body string
		want       int
		reply      string
	}{
		{"line", `hi <b>bob</b> & "you"`, 204, ""},
		{"command", "/who", 204, ""},
		{"largest", strings.Repeat("a", MaxBody), 204, ""},
		{"too long", strings.Repeat("a", MaxBody+1), 413, "web: line longer than 64 KiB: not sent\n"},
		{"empty", "", 400, "web: empty line: not sent\n"},
		{"blank", "  \t", 400, "web: empty line: not sent\n"},
		{"two lines", "a\nb", 400, "web: a line break in the line: not sent\n"},
		{"carriage return", "a\rb", 400, "web: a line break in the line: not sent\n"},
	} {
		t.Run(r.name, func(t *testing.T) {
			resp, err := ts.client.Do(ts.request(t, "POST", "/type", r.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != r.want || string(b) != r.reply {
				t.Fatalf("status %d %q, want %d %q", resp.StatusCode, b, r.want, r.reply)
			}
			if r.want == 204 {
				if got := <-fake.typed; got != r.body {
					t.Errorf("chat got %.40q, want %.40q", got, r.body)
				}
			}
			select {
			case got := <-fake.typed:
				t.Errorf("chat got %.40q, want nothing more", got)
			default:
			}
		})
	}
	fake.typeErr = errors.New("chat: ended")
	resp, err := ts.client.Do(ts.request(t, "POST", "/type", "late"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || string(b) != "web: the chat did not take the line: chat: ended\n" {
		t.Errorf("to an ended chat: %d %q", resp.StatusCode, b)
	}
}

// TestAssets checks the served files: their types, and that nothing in
// them can turn a peer's string into markup or code, or needs what the
// Content-Security-Policy forbids (inline script or style, another
// origin).
//
// The one URL the page makes is an image's, from a content id it checks
// first (imageSrc): that statement, and nothing else, may set a src.
func TestAssets(t *testing.T) {
	ts := serve(t, Config{Chat: newFakeChat()})
	const imageSrc = `if (l.image && /^[a-z2-7]{52}$/.test(l.image)) {` + "\n" +
		`    // An image the chat holds complete: a content id, from this server` + "\n" +
		`    // only (CSP img-src 'self'), the one URL the page makes.` + "\n" +
		`    const img = el("img", "image");` + "\n" +
		`    img.src = "/image/" + l.image;`
	forbidden := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|Function\(|setAttribute|\.src\s*=|\.href\s*=|https?://|//[a-z0-9.-]+\.[a-z]{2,}/|<script>|\sstyle=|\son[a-z]+=|@import|url\(`)
	for _, a := range assets {
		path := strings.TrimPrefix(strings.TrimSuffix(a.route, "{$}"), "GET ")
		resp, err := ts.client.Do(ts.request(t, "GET", path, ""))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != a.ctype || len(b) == 0 {
			t.Errorf("%s: %d %q, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
		}
		if path == "/app.js" {
			if bytes.Count(b, []byte(imageSrc)) != 1 {
				t.Errorf("/app.js: the image's src is not set as checked")
			}
			b = bytes.Replace(b, []byte(imageSrc), nil, 1)
		}
		if m := forbidden.Find(b); m != nil {
			t.Errorf("%s contains %q", path, m)
		}
	}
}

// TestImage checks GET /image/{id}: an image the chat hands out is
// served with its type and nosniff; an id the chat refuses, and an image
// of a type that can hold script (SVG) even if the chat handed it out,
// are 404 and nothing of them is sent.
func TestImage(t *testing.T) {
	ts := serve(t, Config{Chat: newFakeChat()})
	for _, r := range []struct {
		id, ctype, body string
		want            int
	}{
		{"png", "image/png", fakeImages["png"][1], 200},
		{"svg", "text/plain; charset=utf-8", "web: not an image shown inline\n", 404},
		{"nosuch", "text/plain; charset=utf-8", "web: no such image\n", 404},
		{"..%2Fapp.js", "text/plain; charset=utf-8", "web: no such image\n", 404},
	} {
		resp, err := ts.client.Do(ts.request(t, "GET", "/image/"+r.id, ""))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != r.want || string(b) != r.body || resp.Header.Get("Content-Type") != r.ctype ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %q %q nosniff %q, want %d %q %q", r.id, resp.StatusCode, resp.Header.Get("Content-Type"), b,
				resp.Header.Get("X-Content-Type-Options"), r.want, r.ctype, r.body)
		}
	}
}
