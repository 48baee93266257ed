package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The guards every request passes, outermost first (see handler): the
// security headers, the Host check, the origin check, the secret.

// secretParam is the URL's query parameter that carries the secret.
const secretParam = "s"

// securityHeaders are set on every response, errors included.
var securityHeaders = [][2]string{
	// Nothing but this server's own script, style and stream; no
	// inline script, so an injected element cannot run; no framing.
	{"Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"}, // the secret's URL never leaves in a Referer
	{"X-Frame-Options", "DENY"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"}, // no cross-origin no-cors reads
	{"Cache-Control", "no-store"},
}

// handler returns the server's handler for a server bound to addr:
// the guards, then the routes.
func (s *Server) handler(addr net.Addr) http.Handler {
	hosts := s.allowedHosts(addr)
	anyIP := addrPort(addr).Addr().IsUnspecified()
	cookie := cookieName(addr)
	cop := http.NewCrossOriginProtection()
	routes := s.routes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every answer is written within writeWait: a client that does
		// not read holds no connection for long (streams set their own
		// deadline per event).
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeWait))
		h := w.Header()
		for _, kv := range securityHeaders {
			h.Set(kv[0], kv[1])
		}
		if !hostAllowed(r.Host, hosts, anyIP) {
			// DNS rebinding: a page of another site whose name now
			// points here.
			http.Error(w, "web: host "+quote(r.Host)+" not served here", http.StatusMisdirectedRequest)
			return
		}
		if err := sameOrigin(r); err != "" {
			http.Error(w, "web: "+err, http.StatusForbidden)
			return
		}
		if err := cop.Check(r); err != nil {
			http.Error(w, "web: "+err.Error(), http.StatusForbidden)
			return
		}
		if r.URL.Query().Has(secretParam) {
			s.signIn(w, r, cookie)
			return
		}
		c, err := r.Cookie(cookie)
		if err != nil || !s.isSecret(c.Value) {
			http.Error(w, "web: not signed in: open the address that scuttle chat --web printed", http.StatusForbidden)
			return
		}
		routes.ServeHTTP(w, r)
	})
}

// signIn exchanges the secret of the URL for a cookie, and sends the
// browser to the page's plain address, so that the secret leaves the
// address bar and the history.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, cookie string) {
	if r.Method != http.MethodGet || r.URL.Path != "/" || !s.isSecret(r.URL.Query().Get(secretParam)) {
		http.Error(w, "web: wrong secret: open the address that scuttle chat --web printed", http.StatusForbidden)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     cookie,
		Value:    s.secret,
		Path:     "/",
		HttpOnly: true,                    // no script reads it
		SameSite: http.SameSiteStrictMode, // no other site's request carries it
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// isSecret says whether v is the secret, in a time that does not depend
// on how much of it is right.
func (s *Server) isSecret(v string) bool {
	return subtle.ConstantTimeCompare([]byte(v), []byte(s.secret)) == 1
}

// cookieName returns the cookie's name for a server bound to addr.
// Browsers keep cookies per host, not per port: two chats on one host
// need names of their own.
func cookieName(addr net.Addr) string {
	return "scuttle_" + strconv.Itoa(int(addrPort(addr).Port()))
}

// hostAllowed says whether the request's Host header, host, names this
// server: localhost, the bound address, a name the user gave, or, for a
// server bound to every address (anyIP), any IP address. A name of
// another site's is refused: it is what a DNS-rebinding page sends.
func hostAllowed(host string, allowed []string, anyIP bool) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.Unmap().String()
		if anyIP {
			return true // an address, not a name: nothing to rebind
		}
	}
	return slices.Contains(allowed, host)
}

// sameOrigin returns why r comes from another origin than the page's,
// or "": a Sec-Fetch-Site other than same-origin or none (a typed
// address, a bookmark), or an Origin other than the page's own. Reading
// a stream or the page is refused too, not only changing state.
func sameOrigin(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return "request from another site (Sec-Fetch-Site " + quote(site) + ")"
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
		return "request from another origin (" + quote(o) + ")"
	}
	return ""
}

// quote returns s quoted, cut to 64 bytes: a header echoed in an error.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + strings.ToValidUTF8(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return '?'
		}
		return r
	}, s), "?") + `"`
}
