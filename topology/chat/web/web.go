package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"scuttle/topology/chat"
)

// Chat is what the web interface needs of a chat: *chat.Chat, or a fake
// in tests. Every string it hands out is escaped already (chat.Escape).
type Chat interface {
	// Lines calls show for each line of the history, then for each new
	// line, until ctx ends or show fails.
	Lines(ctx context.Context, show func(chat.Line) error) error
	// Type handles line as if it was typed in the terminal.
	Type(ctx context.Context, line string) error
	Who() []chat.Presence
	Names() []chat.NameBinding
	Status() chat.Status
}

// *chat.Chat is the Chat a Server serves outside tests.
var _ Chat = (*chat.Chat)(nil)

// Config is what a Server serves, and where.
type Config struct {
	Chat Chat
	// Addr is HOST:PORT to listen on. An empty HOST is 127.0.0.1: the
	// page is served to this machine alone unless the user names another
	// address; PORT 0 takes a free port.
	Addr string
	// Hosts are more names the page may be asked for under (the Host
	// header), beside localhost, the bound IP address and Addr's HOST.
	Hosts []string
	// Info, if set, prints one escaped line to the user (chat.Chat.Info);
	// Run tells the page's URL through it.
	Info func(line string)
	Log  *slog.Logger // diagnostics; nil discards them

	MaxStreams int           // streams of lines served at once; 0 means DefaultMaxStreams
	MaxConns   int           // connections open at once; 0 means DefaultMaxConns
	StateEvery time.Duration // how often a stream checks the status, who and names; 0 means 1 s
}

// The defaults of Config's bounds. One browser holds one stream however
// many of its tabs show the page (see the package comment), so
// DefaultMaxStreams is a number of browsers.
const (
	DefaultMaxStreams = 8
	DefaultMaxConns   = 64
)

// Bounds of what one request can make the server do.
const (
	// MaxBody bounds the body of a typed line.
	MaxBody = 64 << 10
	// maxHeader bounds a request's header.
	maxHeader = 16 << 10
	// writeWait bounds each write of a response, each event of a stream
	// included: a reader that stops reading loses its stream, never
	// holds the chat.
	writeWait = 10 * time.Second
	// pingEvery is how often an idle stream sends a comment, so a gone
	// reader is noticed.
	pingEvery = 30 * time.Second
)

// A Server serves one chat to browsers. Make it with New.
type Server struct {
	cfg     Config
	secret  string        // the URL's secret, and the cookie's value
	streams chan struct{} // one token per open stream
}

// New returns a server of cfg, with a new secret.
func New(cfg Config) (*Server, error) {
	if cfg.Chat == nil {
		return nil, errors.New("web: no chat to serve")
	}
	if _, _, err := splitAddr(cfg.Addr); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.StateEvery <= 0 {
		cfg.StateEvery = time.Second
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("web: making the secret: %w", err)
	}
	return &Server{
		cfg:     cfg,
		secret:  base64.RawURLEncoding.EncodeToString(key[:]),
		streams: make(chan struct{}, cfg.MaxStreams),
	}, nil
}

// splitAddr splits addr as Config.Addr, an empty host becoming 127.0.0.1.
func splitAddr(addr string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("web: address %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, port, nil
}

// Listen listens on Config.Addr.
func (s *Server) Listen(ctx context.Context) (net.Listener, error) {
	host, port, _ := splitAddr(s.cfg.Addr)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return ln, nil
}

// URL returns the address that signs a browser in, for a server
// listening on addr: http://HOST:PORT/?s=SECRET, HOST being Config.Addr's
// if it is a name, else the bound IP address (127.0.0.1 when that is
// every address). It carries the secret: whoever has it can chat as the
// user.
func (s *Server) URL(addr net.Addr) string {
	return "http://" + s.hostPort(addr) + "/?" + secretParam + "=" + s.secret
}

func (s *Server) hostPort(addr net.Addr) string {
	host, _, _ := splitAddr(s.cfg.Addr)
	ap := addrPort(addr)
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ap.Addr().String()
		if ip.IsUnspecified() {
			host = "127.0.0.1"
			if ip.Is6() {
				host = "::1"
			}
		}
	}
	return net.JoinHostPort(host, fmt.Sprint(ap.Port()))
}

// addrPort returns addr's IP address and port, or the zero value.
func addrPort(addr net.Addr) netip.AddrPort {
	if t, ok := addr.(*net.TCPAddr); ok {
		return t.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(addr.String())
	return ap
}

// Run listens on Config.Addr, tells the page's URL through Config.Info
// as one line "web interface at URL", and serves the page while run
// runs (the chat's Run): it returns run's error, once the server has
// stopped. A failure to listen returns before run is called.
func (s *Server) Run(ctx context.Context, run func(context.Context) error) error {
	ln, err := s.Listen(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var serveErr error
	wg.Go(func() {
		serveErr = s.Serve(ctx, ln)
		if serveErr != nil {
			cancel() // the chat without its page would not be what was asked
		}
	})
	if s.cfg.Info != nil {
		s.cfg.Info("web interface at " + s.URL(ln.Addr()))
	}
	err = run(ctx)
	cancel()
	wg.Wait()
	return errors.Join(err, serveErr)
}

// Serve serves the page on ln until ctx ends, then closes ln and the
// open connections. It returns nil after ctx's end, else the failure.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler(ln.Addr()),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second, // a typed line's body; streams clear it
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	err := srv.Serve(netutil.LimitListener(ln, s.cfg.MaxConns))
	if ctx.Err() != nil && errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("web: serving on %v: %w", ln.Addr(), err)
}

// allowedHosts returns the names and addresses the page may be asked for
// under, lower case, for a server bound to addr; see hostAllowed.
func (s *Server) allowedHosts(addr net.Addr) []string {
	hosts := []string{"localhost"}
	if ip := addrPort(addr).Addr(); ip.IsValid() {
		hosts = append(hosts, ip.Unmap().String())
	}
	host, _, _ := splitAddr(s.cfg.Addr)
	hosts = append(hosts, strings.ToLower(strings.Trim(host, "[]")))
	for _, h := range s.cfg.Hosts {
		hosts = append(hosts, strings.ToLower(h))
	}
	return hosts
}
