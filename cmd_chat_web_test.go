//go:build linux

package main

import (
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"scuttle/topology/testkit"
)

// TestChatWeb runs scuttle chat --web on loopback: it prints the page's
// address once, as an info line; the address signs a client in, and a
// line posted to the page is the chat's.
func TestChatWeb(t *testing.T) {
	dir := t.TempDir()
	me := uniqueName("alice")
	p := startChat(t, exec.CommandContext, dir, me, "--iface", "lo", "--port", "0", "--web", "127.0.0.1:0", me)
	line := p.expectPrefix("info> web interface at ")
	url := strings.TrimPrefix(line, "info> web interface at ")
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/\?s=[A-Za-z0-9_-]{43}$`).MatchString(url) {
		t.Fatalf("printed %q", line)
	}
	client := &http.Client{Timeout: testkit.ChatWait, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("sign-in: %d, cookies %v; want 303 and one cookie", resp.StatusCode, resp.Cookies())
	}
	page := strings.SplitN(url, "?", 2)[0]
	req, err := http.NewRequest("POST", page+"type", strings.NewReader("from the page"))
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(resp.Cookies()[0])
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /type: %d %q", resp.StatusCode, b)
	}
	p.expectPrefix(me + "> from the page")
	p.stop(syscall.SIGTERM)
	n := 0
	for _, l := range p.seen {
		if strings.HasPrefix(l, "info> web interface at ") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d lines of the address, want 1: %q", n, p.seen)
	}
}

// TestChatWebUsage checks that a --web ADDR that is not HOST:PORT is a
// usage error, and that chat -h tells of --web.
func TestChatWebUsage(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := scuttle(t, dir, "", nil, "chat", "--web", "8080", "alice")
	if want := "scuttle chat: --web 8080: address 8080: missing port in address"; code != 2 || firstLine(stderr) != want {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
	}
	stdout, _, code := scuttle(t, dir, "", nil, "chat", "-h")
	if code != 0 || !strings.Contains(stdout, "-web ADDR") || !strings.Contains(stdout, "print the page's address") {
		t.Errorf("chat -h: exit %d, stdout %q; want 0 and --web told of", code, stdout)
	}
}
