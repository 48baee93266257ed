package web

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestGuards sends every route requests that forge the Host, Origin and
// Sec-Fetch-Site headers, or lack or forge the cookie or the secret, and
// checks the exact status and the security headers of each answer.
func TestGuards(t *testing.T) {
	ts := serve(t, Config{Chat: newFakeChat()})
	_, port, _ := net.SplitHostPort(ts.addr)
	type row struct {
		name, method, path string
		host               string            // "" is 127.0.0.1:PORT
		header             map[string]string // set on the request
		cookie             string            // "none", "wrong" or "" (the right one)
		want               int
	}
	var rows []row
	routes := []struct{ method, path, body string }{
		{"GET", "/", ""},
		{"GET", "/app.js", ""},
		{"GET", "/app.css", ""},
		{"GET", "/worker.js", ""},
		{"GET", "/events", ""},
		{"POST", "/type", "hi"},
		{"GET", "/image/png", ""},
	}
	for _, r := range routes {
		ok := http.StatusOK
		if r.method == "POST" {
			ok = http.StatusNoContent
		}
		rows = append(rows,
			row{"signed in", r.method, r.path, "", nil, "", ok},
			row{"as localhost", r.method, r.path, "localhost:" + port, nil, "", ok},
			row{"as LOCALHOST.", r.method, r.path, "LOCALHOST.:" + port, nil, "", ok},
			row{"same-origin fetch", r.method, r.path, "", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:" + port}, "", ok},
			row{"typed address", r.method, r.path, "", map[string]string{"Sec-Fetch-Site": "none"}, "", ok},
			row{"no cookie", r.method, r.path, "", nil, "none", http.StatusForbidden},
			row{"wrong cookie", r.method, r.path, "", nil, "wrong", http.StatusForbidden},
			row{"rebinding name", r.method, r.path, "evil.example:" + port, nil, "", http.StatusMisdirectedRequest},
			row{"rebinding name without port", r.method, r.path, "evil.example", nil, "", http.StatusMisdirectedRequest},
			row{"name of the address", r.method, r.path, "127.0.0.1.nip.io:" + port, nil, "", http.StatusMisdirectedRequest},
			row{"other address", r.method, r.path, "10.1.2.3:" + port, nil, "", http.StatusMisdirectedRequest},
			row{"cross-site", r.method, r.path, "", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", http.StatusForbidden},
			row{"same-site, other port", r.method, r.path, "", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"}, "", http.StatusForbidden},
			row{"foreign Origin", r.method, r.path, "", map[string]string{"Origin": "http://evil.example"}, "", http.StatusForbidden},
			row{"null Origin", r.method, r.path, "", map[string]string{"Origin": "null"}, "", http.StatusForbidden},
		)
		if r.path != "/" {
			rows = append(rows, row{"secret on another route", r.method, r.path + "?s=" + ts.secret, "", nil, "none", http.StatusForbidden})
		}
	}
	rows = append(rows,
		row{"secret exchanged", "GET", "/?s=" + ts.secret, "", map[string]string{"Sec-Fetch-Site": "none"}, "none", http.StatusSeeOther},
		row{"wrong secret", "GET", "/?s=" + ts.secret[1:], "", nil, "none", http.StatusForbidden},
		row{"wrong secret, signed in", "GET", "/?s=x", "", nil, "", http.StatusForbidden},
		row{"empty secret", "GET", "/?s=", "", nil, "none", http.StatusForbidden},
		row{"secret by POST", "POST", "/?s=" + ts.secret, "", nil, "none", http.StatusForbidden},
		row{"secret, rebinding name", "GET", "/?s=" + ts.secret, "evil.example", nil, "none", http.StatusMisdirectedRequest},
		row{"secret, cross-site", "GET", "/?s=" + ts.secret, "", map[string]string{"Sec-Fetch-Site": "cross-site"}, "none", http.StatusForbidden},
		row{"cookie from secret of the URL", "GET", "/", "", nil, "secret", http.StatusOK},
		row{"unknown route", "GET", "/nope", "", nil, "", http.StatusNotFound},
		row{"unknown route, no cookie", "GET", "/nope", "", nil, "none", http.StatusForbidden},
		row{"GET /type", "GET", "/type", "", nil, "", http.StatusMethodNotAllowed},
		row{"PUT /type", "PUT", "/type", "", nil, "", http.StatusMethodNotAllowed},
		row{"POST /", "POST", "/", "", nil, "", http.StatusMethodNotAllowed},
	)
	for _, r := range rows {
		t.Run(r.method+" "+strings.SplitN(r.path, "?", 2)[0]+": "+r.name, func(t *testing.T) {
			body := ""
			if r.method == "POST" {
				body = "hi"
			}
			req := ts.request(t, r.method, r.path, body)
			req.Header.Del("Cookie")
			switch r.cookie {
			case "":
				req.AddCookie(ts.cookie)
			case "wrong":
				req.AddCookie(&http.Cookie{Name: ts.cookie.Name, Value: strings.Repeat("A", len(ts.secret))})
			case "secret":
				req.AddCookie(&http.Cookie{Name: ts.cookie.Name, Value: ts.secret})
			}
			if r.host != "" {
				req.Host = r.host
			}
			for k, v := range r.header {
				req.Header.Set(k, v)
			}
			resp, err := ts.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != r.want {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, b, r.want)
			}
			for _, kv := range securityHeaders {
				if got := resp.Header.Get(kv[0]); got != kv[1] {
					t.Errorf("%s: %q, want %q", kv[0], got, kv[1])
				}
			}
			for k := range resp.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("CORS header %s: %q", k, resp.Header.Get(k))
				}
			}
			if r.want == http.StatusNoContent {
				<-ts.fake.typed
			}
		})
	}
}

// TestSignIn checks the exchange of the URL's secret for a cookie: its
// attributes, and the redirection to "/" that takes the secret out of the
// address bar.
func TestSignIn(t *testing.T) {
	ts := serve(t, Config{Chat: newFakeChat()})
	req := ts.request(t, "GET", "/?s="+ts.secret, "")
	req.Header.Del("Cookie")
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("status %d, Location %q; want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	cs := resp.Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies %v, want one", cs)
	}
	c := cs[0]
	if c.Name != ts.cookie.Name || c.Value != ts.secret || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure || c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("cookie %+v, want %s=SECRET; Path=/; HttpOnly; SameSite=Strict, for the session", c, ts.cookie.Name)
	}
}

// TestHostAllowed checks the Host rule of a server bound to one address
// and of one bound to all.
func TestHostAllowed(t *testing.T) {
	allowed := []string{"localhost", "127.0.0.1", "mybox.lan"}
	for _, r := range []struct {
		host  string
		anyIP bool
		want  bool
	}{
		{"127.0.0.1:80", false, true},
		{"127.0.0.1", false, true},
		{"localhost:1", false, true},
		{"LocalHost", false, true},
		{"mybox.lan:8080", false, true},
		{"mybox.lan.", false, true},
		{"[::ffff:127.0.0.1]:80", false, true},
		{"", false, false},
		{":80", false, false},
		{"[::1]:80", false, false},
		{"127.0.0.2", false, false},
		{"evil.localhost", false, false},
		{"localhost.evil.example", false, false},
		{"evil.example", true, false},
		{"10.0.0.7:80", true, true},
		{"[fe80::1]:80", true, true},
		{"10.0.0.7:80", false, false},
	} {
		if got := hostAllowed(r.host, allowed, r.anyIP); got != r.want {
			t.Errorf("hostAllowed(%q, anyIP %v) = %v, want %v", r.host, r.anyIP, got, r.want)
		}
	}
}

// TestURL checks the signed-in address printed for each form of Addr,
// and that each server has a secret of its own: 32 random bytes.
func TestURL(t *testing.T) {
	for _, r := range []struct{ addr, bound, want string }{
		{":0", "127.0.0.1:4000", "http://127.0.0.1:4000/?s="},
		{"127.0.0.1:4000", "127.0.0.1:4000", "http://127.0.0.1:4000/?s="},
		{"[::1]:0", "[::1]:4000", "http://[::1]:4000/?s="},
		{"0.0.0.0:4000", "0.0.0.0:4000", "http://127.0.0.1:4000/?s="},
		{"[::]:4000", "[::]:4000", "http://[::1]:4000/?s="},
		{"localhost:0", "127.0.0.1:4000", "http://localhost:4000/?s="},
	} {
		s, err := New(Config{Chat: newFakeChat(), Addr: r.addr})
		if err != nil {
			t.Fatal(err)
		}
		got := s.URL(net.TCPAddrFromAddrPort(mustAddrPort(t, r.bound)))
		if got != r.want+s.secret {
			t.Errorf("Addr %q bound to %s: URL %q, want %q", r.addr, r.bound, got, r.want+"SECRET")
		}
	}
	a, _ := New(Config{Chat: newFakeChat(), Addr: ":0"})
	b, _ := New(Config{Chat: newFakeChat(), Addr: ":0"})
	if len(a.secret) != 43 || a.secret == b.secret || strings.Trim(a.secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Errorf("secrets %q and %q: want two different 43-character base64url strings", a.secret, b.secret)
	}
	if _, err := New(Config{Chat: newFakeChat(), Addr: "8080"}); err == nil {
		t.Error(`New with Addr "8080": no error`)
	}
}

// TestGuardsNamedHost checks that a name the user passed (Config.Hosts)
// is served, and another name is not.
func TestGuardsNamedHost(t *testing.T) {
	ts := serve(t, Config{Chat: newFakeChat(), Hosts: []string{"MyBox.lan"}})
	for host, want := range map[string]int{
		"mybox.lan":      http.StatusOK,
		"mybox.lan:1":    http.StatusOK,
		"other.lan":      http.StatusMisdirectedRequest,
		"mybox.lan.evil": http.StatusMisdirectedRequest,
	} {
		req := ts.request(t, "GET", "/", "")
		req.Host = host
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: status %d, want %d", host, resp.StatusCode, want)
		}
	}
}

// TestGuardsIPv6 checks the Host rule of a server bound to [::1]: its
// address and localhost are served, another loopback address is not.
func TestGuardsIPv6(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		ln.Close()
	}
	ts := serve(t, Config{Chat: newFakeChat(), Addr: "[::1]:0"})
	_, port, _ := net.SplitHostPort(ts.addr)
	for host, want := range map[string]int{
		"[::1]:" + port:     http.StatusOK,
		"localhost:" + port: http.StatusOK,
		"127.0.0.1:" + port: http.StatusMisdirectedRequest,
		"evil.example":      http.StatusMisdirectedRequest,
	} {
		req := ts.request(t, "GET", "/", "")
		req.Host = host
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: status %d, want %d", host, resp.StatusCode, want)
		}
	}
}
