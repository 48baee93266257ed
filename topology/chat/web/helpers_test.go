package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"scuttle/topology/chat"
)

// wait bounds every wait of these tests.
const wait = 10 * time.Second

// fakeChat is a chat of lines a test makes up: its history, then each
// line passed to say, to every subscriber of Lines.
type fakeChat struct {
	mu      sync.Mutex
	history []chat.Line
	subs    map[chan chat.Line]bool
	status  chat.Status
	who     []chat.Presence
	names   []chat.NameBinding
	typed   chan string
	left    chan struct{} // a subscriber's Lines returned
	typeErr error
}

func newFakeChat(history ...chat.Line) *fakeChat {
	return &fakeChat{
		history: history,
		subs:    map[chan chat.Line]bool{},
		status:  chat.Status{Me: "alice", Peers: 1},
		typed:   make(chan string, 16),
		left:    make(chan struct{}, 16),
	}
}

func (f *fakeChat) Lines(ctx context.Context, show func(chat.Line) error) error {
	ch := make(chan chat.Line, 64)
	f.mu.Lock()
	history := append([]chat.Line(nil), f.history...)
	f.subs[ch] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
		f.left <- struct{}{}
	}()
	for _, l := range history {
		if err := show(l); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case l := <-ch:
			if err := show(l); err != nil {
				return err
			}
		}
	}
}

// say shows l to every subscriber.
func (f *fakeChat) say(l chat.Line) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.history = append(f.history, l)
	for ch := range f.subs {
		ch <- l
	}
}

// subscribers returns how many Lines calls run.
func (f *fakeChat) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *fakeChat) Type(ctx context.Context, line string) error {
	if f.typeErr != nil {
		return f.typeErr
	}
	select {
	case f.typed <- line:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeChat) Who() []chat.Presence {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chat.Presence(nil), f.who...)
}

func (f *fakeChat) Names() []chat.NameBinding {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chat.NameBinding(nil), f.names...)
}

func (f *fakeChat) Status() chat.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeChat) setStatus(st chat.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = st
}

// testServer is a Server serving on a loopback port for one test.
type testServer struct {
	*Server
	fake   *fakeChat // cfg.Chat, if a fake
	addr   string    // 127.0.0.1:PORT
	cookie *http.Cookie
	client *http.Client
}

// serve starts a server of cfg (its Addr is 127.0.0.1:0 if empty) and
// stops it when the test ends.
func serve(t *testing.T, cfg Config) *testServer {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := s.Listen(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	fake, _ := cfg.Chat.(*fakeChat)
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testServer{
		Server: s,
		fake:   fake,
		addr:   ln.Addr().String(),
		cookie: &http.Cookie{Name: cookieName(ln.Addr()), Value: s.secret},
		client: &http.Client{Transport: tr, Timeout: wait, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// request returns a request to the server, signed in.
func (ts *testServer) request(t *testing.T, method, path, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+ts.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(ts.cookie)
	return req
}

// stream opens GET /events and returns its events as they come.
func (ts *testServer) stream(t *testing.T, ctx context.Context) (*http.Response, *events) {
	t.Helper()
	req := ts.request(t, "GET", "/events", "")
	req = req.WithContext(ctx)
	c := &http.Client{Transport: ts.client.Transport} // no timeout: a stream
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, &events{r: bufio.NewReader(resp.Body)}
}

// events reads Server-Sent Events.
type events struct{ r *bufio.Reader }

// next returns the next event's name and data; comments and retry
// fields are skipped.
func (e *events) next() (name, data string, err error) {
	for {
		line, err := e.r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && name != "" {
				err = io.ErrUnexpectedEOF
			}
			return "", "", err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if name != "" {
				return name, data, nil
			}
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

// dialRaw opens a TCP connection to addr, closed when the test ends.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustAddrPort(t testing.TB, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

func mustAddr(t testing.TB, s string) net.Addr {
	t.Helper()
	return net.TCPAddrFromAddrPort(mustAddrPort(t, s))
}

// fakeImages are the images of every fakeChat, by id: a PNG, and an SVG
// that a chat should never hand out, to check the server refuses it.
var fakeImages = map[string][2]string{
	"png": {"image/png", "\x89PNG\r\n\x1a\nfake"},
	"svg": {"image/svg+xml", "<svg><script>alert(1)</script></svg>"},
}

func (f *fakeChat) Image(id string) (string, io.ReadCloser, error) {
	im, ok := fakeImages[id]
	if !ok {
		return "", nil, chat.ErrNoImage
	}
	return im[0], io.NopCloser(strings.NewReader(im[1])), nil
}
