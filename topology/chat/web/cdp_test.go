//go:build linux

package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A minimal client of the Chrome DevTools Protocol over
// --remote-debugging-pipe: the browser reads commands on its fd 3 and
// writes answers and events on its fd 4, each a JSON object ended by a
// NUL byte. No port is opened for it.

// browser is a headless Chromium the test drives.
type browser struct {
	cmd *exec.Cmd
	w   io.WriteCloser

	mu      sync.Mutex
	next    int
	pending map[int]chan cdpReply
	err     error // the reader's end
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// startBrowser starts Chromium at path, headless, with a profile of its
// own; it is closed, then killed with its process group, when the test
// ends.
func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	toBrowser, fromTest, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromBrowser, toTest, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path,
		"--headless", "--no-sandbox", "--remote-debugging-pipe",
		"--user-data-dir="+t.TempDir(),
		"--no-first-run", "--no-default-browser-check", "--disable-gpu",
		"--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--disable-default-apps", "--disable-component-update", "--mute-audio",
		"about:blank")
	cmd.ExtraFiles = []*os.File{toBrowser, toTest} // fd 3, fd 4
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	toBrowser.Close()
	toTest.Close()
	b := &browser{cmd: cmd, w: fromTest, pending: map[int]chan cdpReply{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.read(fromBrowser)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b.call(ctx, "", "Browser.close", nil)
		cancel()
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the browser's own group
			<-exited
		}
		fromTest.Close()
		fromBrowser.Close()
		<-done
		if t.Failed() {
			t.Logf("chromium's stderr:\n%s", lastBytes(stderr.Bytes(), 4096))
		}
	})
	return b
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// read hands each answer to its caller until the pipe ends; events are
// dropped (the test polls the page instead).
func (b *browser) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	var err error
	for {
		var msg []byte
		msg, err = br.ReadBytes(0)
		if err != nil {
			break
		}
		var m struct {
			ID int `json:"id"`
			cdpReply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue
		}
		b.mu.Lock()
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.cdpReply
		}
	}
	b.mu.Lock()
	b.err = fmt.Errorf("devtools pipe: %w", err)
	for id, ch := range b.pending {
		close(ch)
		delete(b.pending, id)
	}
	b.mu.Unlock()
}

// call sends method with params (to the page session, if not ""), and
// returns the result.
func (b *browser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	ch := make(chan cdpReply, 1)
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return nil, b.err
	}
	b.next++
	id := b.next
	b.pending[id] = ch
	msg, err := json.Marshal(struct {
		ID        int    `json:"id"`
		SessionID string `json:"sessionId,omitempty"`
		Method    string `json:"method"`
		Params    any    `json:"params,omitempty"`
	}{id, session, method, params})
	if err == nil {
		_, err = b.w.Write(append(msg, 0))
	}
	b.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%s: browser gone", method)
		}
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %s (%d)", method, r.Error.Message, r.Error.Code)
		}
		return r.Result, nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// A tab is one page of the browser.
type tab struct {
	b       *browser
	t       *testing.T
	session string
}

// open opens url in a new tab.
func (b *browser) open(t *testing.T, url string) *tab {
	t.Helper()
	return b.openIn(t, "", url)
}

// newContext returns a new browser context: a profile of its own, with
// its own cookies and shared workers, as another browser would be.
func (b *browser) newContext(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	res, err := b.call(ctx, "", "Target.createBrowserContext", nil)
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ BrowserContextID string }
	json.Unmarshal(res, &r)
	return r.BrowserContextID
}

// closeContext closes the browser context id and its tabs.
func (b *browser) closeContext(t *testing.T, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if _, err := b.call(ctx, "", "Target.disposeBrowserContext", map[string]any{"browserContextId": id}); err != nil {
		t.Fatal(err)
	}
}

// openIn opens url in a new tab of the browser context id ("" is the
// default one). Each script of setup runs in the page before any of its
// own.
func (b *browser) openIn(t *testing.T, id, url string, setup ...string) *tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	first := url
	if len(setup) > 0 {
		first = "about:blank"
	}
	params := map[string]any{"url": first}
	if id != "" {
		params["browserContextId"] = id
	}
	res, err := b.call(ctx, "", "Target.createTarget", params)
	if err != nil {
		t.Fatal(err)
	}
	var target struct{ TargetID string }
	json.Unmarshal(res, &target)
	res, err = b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})
	if err != nil {
		t.Fatal(err)
	}
	var att struct{ SessionID string }
	json.Unmarshal(res, &att)
	if len(setup) > 0 {
		if _, err := b.call(ctx, att.SessionID, "Page.enable", nil); err != nil {
			t.Fatal(err)
		}
		for _, src := range setup {
			if _, err := b.call(ctx, att.SessionID, "Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": src}); err != nil {
				t.Fatal(err)
			}
		}
		// Page.navigate answers once the page's response has come,
		// which may be never when the browser has no connection left
		// for it: then the tab is left loading.
		nctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := b.call(nctx, att.SessionID, "Page.navigate", map[string]any{"url": url}); err != nil && nctx.Err() == nil {
			t.Fatal(err)
		}
	}
	return &tab{b: b, t: t, session: att.SessionID}
}

// eval returns the value of the JavaScript expression expr in the page,
// awaited if a promise, into v.
func (tb *tab) eval(ctx context.Context, expr string, v any) error {
	res, err := tb.b.call(ctx, tb.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "awaitPromise": true, "returnByValue": true,
	})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if e := r.ExceptionDetails; e != nil {
		return fmt.Errorf("%s: %s", e.Text, e.Exception.Description)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, v)
}

// waitFor waits until the expression cond is truthy in the page, then
// stores the value of result into v (if not nil). It polls in the page,
// and evaluates again when a navigation destroyed the context.
func (tb *tab) waitFor(cond, result string, v any) {
	tb.t.Helper()
	if err := tb.waitWithin(wait, cond, result, v); err != nil {
		var now any
		tb.eval(context.Background(), `document.documentElement ? document.documentElement.outerHTML.slice(0, 2000) : location.href`, &now)
		tb.t.Fatalf("%v; page: %v", err, now)
	}
}

// waitWithin is waitFor, bounded by d, returning an error.
func (tb *tab) waitWithin(d time.Duration, cond, result string, v any) error {
	ctx, cancel := context.WithTimeout(tb.t.Context(), d)
	defer cancel()
	expr := fmt.Sprintf(`new Promise((resolve) => {
		const poll = () => {
			let ok = false;
			try { ok = (%s); } catch (e) {}
			if (ok) return resolve(%s);
			setTimeout(poll, 5);
		};
		poll();
	})`, cond, orNull(result))
	for {
		err := tb.eval(ctx, expr, v)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("no %s within %v", cond, d)
		}
		if m := err.Error(); !strings.Contains(m, "context") && !strings.Contains(m, "Cannot find") && !strings.Contains(m, "navigated") {
			return fmt.Errorf("waiting for %s: %v", cond, err)
		}
	}
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// typeLine types text into the page's input as keys would, and presses
// Enter.
func (tb *tab) typeLine(text string) {
	tb.t.Helper()
	tb.fill(text)
	tb.enter()
}

// fill types text into the page's input.
func (tb *tab) fill(text string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.t.Context(), wait)
	defer cancel()
	if err := tb.eval(ctx, `document.getElementById("line").focus()`, nil); err != nil {
		tb.t.Fatal(err)
	}
	if _, err := tb.b.call(ctx, tb.session, "Input.insertText", map[string]any{"text": text}); err != nil {
		tb.t.Fatal(err)
	}
}

// enter presses Enter in the page.
func (tb *tab) enter() {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.t.Context(), wait)
	defer cancel()
	steps := []struct {
		method string
		params map[string]any
	}{
		{"Input.dispatchKeyEvent", map[string]any{"type": "keyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"}},
		{"Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}},
	}
	for _, s := range steps {
		if _, err := tb.b.call(ctx, tb.session, s.method, s.params); err != nil {
			tb.t.Fatal(err)
		}
	}
}
