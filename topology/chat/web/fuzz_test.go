package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzGuards sends the handler requests made of arbitrary bytes, none
// with the secret or the cookie: whatever their method, path, Host,
// origin headers and body, the answer is a refusal (421 or 403) with the
// security headers, and the chat is never reached.
func FuzzGuards(f *testing.F) {
	f.Add("GET", "/", "127.0.0.1:8080", "", "", "scuttle_8080=x", "")
	f.Add("POST", "/type", "localhost", "same-origin", "http://localhost", "", "hello")
	f.Add("GET", "/events?s=", "[::1]:1", "none", "null", "scuttle_1=", "")
	f.Add("GET", "/?s=AAAA", "evil.example", "cross-site", "http://evil.example", "", "")
	f.Add("PUT", "/type/../type", "LOCALHOST.", "same-site", "http://127.0.0.1:1", "a=b; scuttle_8080=y", "\x00")
	s, err := New(Config{Chat: newFakeChat(), Addr: "127.0.0.1:8080"})
	if err != nil {
		f.Fatal(err)
	}
	h := s.handler(mustAddr(f, "127.0.0.1:8080"))
	f.Fuzz(func(t *testing.T, method, path, host, site, origin, cookie, body string) {
		if strings.Contains(path, s.secret) || strings.Contains(cookie, s.secret) {
			t.Skip()
		}
		req, err := http.NewRequest(method, "http://127.0.0.1:8080/", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.RequestURI = path
		if u, err := req.URL.Parse(path); err == nil {
			req.URL = u
		}
		req.Host = host
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Origin", origin)
		req.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusForbidden && w.Code != http.StatusMisdirectedRequest {
			t.Fatalf("%s %q Host %q Sec-Fetch-Site %q Origin %q Cookie %q: status %d, want 403 or 421", method, path, host, site, origin, cookie, w.Code)
		}
		for _, kv := range securityHeaders {
			if got := w.Header().Get(kv[0]); got != kv[1] {
				t.Errorf("%s: %q, want %q", kv[0], got, kv[1])
			}
		}
		select {
		case line := <-s.cfg.Chat.(*fakeChat).typed:
			t.Fatalf("the chat was typed %q", line)
		default:
		}
	})
}
