package mdns

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// sinkConn records what is written and never delivers anything, so
// handlePacket can be driven synchronously.
type sinkConn struct {
	mu     sync.Mutex
	writes [][]byte
	done   chan struct{}
	once   sync.Once
}

func (s *sinkConn) readFrom([]byte) (int, netip.AddrPort, netip.Addr, int, error) {
	<-s.done
	return 0, netip.AddrPort{}, netip.Addr{}, 0, net.ErrClosed
}

func (s *sinkConn) writeTo(b []byte, _ netip.AddrPort, _ int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, append([]byte(nil), b...))
	return nil
}

func (s *sinkConn) group() netip.AddrPort { return groupV4 }
func (s *sinkConn) close() error          { s.once.Do(func() { close(s.done) }); return nil }

func (s *sinkConn) take() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.writes
	s.writes = nil
	return w
}

// FuzzHandlePacket feeds arbitrary datagrams to a Conn that owns
// alice.local and the service instance alice._scuttle._tcp.local and
// browses _scuttle._tcp (so queries for it are weighed as duplicates of
// its own, dupquestion.go, and responses cached). It
// must never panic, and may only reply to a well-formed query (OPCODE
// and RCODE zero) asking for alice.local's addresses or for the
// service's records, or to a response from port 5353 claiming
// alice.local or the instance (which it defends).
func FuzzHandlePacket(f *testing.F) {
	for _, m := range malformed {
		f.Add(m.msg, true)
	}
	for _, m := range sdSeeds {
		f.Add(m.msg, m.port5353)
	}
	f.Add(cat(hdr(7, 0, 1, 0, 0, 0), qAliceA), false)

	sink := &sinkConn{done: make(chan struct{})}
	hh := (&hub{}).host(iface("lan0", 0, 1))
	tm := testTiming
	tm.rateLimit = 0 // no deferred sends: every reply is synchronous
	tm.sharedDelayMin, tm.sharedDelayMax = 0, 0
	c := newConn(slog.New(slog.DiscardHandler), []packetConn{sink}, hh.ifnames(), hh.addrsOf, hh.hostAddrs, tm)
	f.Cleanup(func() { c.Close() })
	alice := &registration{fq: "alice.local.", name: mustName("alice.local."), established: true,
		conflict: make(chan *ConflictError, 1), lost: make(chan struct{}, 1)}
	c.names[alice.fq] = alice
	c.services["alice._scuttle._tcp.local."] = &serviceReg{fq: "alice._scuttle._tcp.local.", typeFQ: "_scuttle._tcp.local.",
		instance: mustName("alice._scuttle._tcp.local."), typ: mustName("_scuttle._tcp.local."), host: alice, port: 4242,
		txt: []string{"id=abc"}, established: true, conflict: make(chan *ConflictError, 1), lost: make(chan struct{}, 1)}

	c.svcCache.want("_scuttle._tcp.local.", 1)

	f.Fuzz(func(t *testing.T, data []byte, port5353 bool) {
		src := netip.MustParseAddrPort("10.0.0.9:40000")
		if port5353 {
			src = netip.MustParseAddrPort("10.0.0.9:5353")
		}
		c.handlePacket(sink, data, src, groupV4.Addr(), 1)
		if w := sink.take(); len(w) > 0 {
			if why := mayReply(data, port5353); why != "" {
				t.Fatalf("replied %d packets to a message of %d octets that %s: %x…", len(w), len(data), why, data[:min(len(data), 64)])
			}
		}
	})
}

// mayReply returns why data deserves no reply, or "" if it may get one.
// It reads data with its own dnsmessage.Parser walk.
func mayReply(data []byte, port5353 bool) string {
	if len(data) > maxPacket {
		return "is over 9000 octets"
	}
	var p dnsmessage.Parser
	h, err := p.Start(data)
	if err != nil {
		return "has no header"
	}
	if h.OpCode != 0 || h.RCode != 0 {
		return fmt.Sprintf("has OPCODE %d, RCODE %d", h.OpCode, h.RCode)
	}
	if h.Response {
		if !port5353 {
			return "is a response from a port other than 5353"
		}
		// Defending alice.local or the instance against a claim is a
		// reply.
		if err := p.SkipAllQuestions(); err != nil {
			return "is a response with bad questions"
		}
		for {
			rh, err := p.AnswerHeader()
			if err != nil {
				break
			}
			if n := rh.Name.String(); strings.EqualFold(n, "alice.local.") || strings.EqualFold(n, "alice._scuttle._tcp.local.") {
				return ""
			}
			if p.SkipAnswer() != nil {
				break
			}
		}
		return "is a response that claims no answer for alice.local or its service in its answers"
	}
	for {
		q, err := p.Question()
		if err != nil {
			return "is a query with no question for alice.local's addresses or its service"
		}
		n, any := q.Name.String(), q.Type == dnsmessage.TypeALL
		switch {
		case strings.EqualFold(n, "alice.local.") && (q.Type == dnsmessage.TypeA || q.Type == dnsmessage.TypeAAAA || any),
			strings.EqualFold(n, "_scuttle._tcp.local.") && (q.Type == dnsmessage.TypePTR || any),
			strings.EqualFold(n, "_services._dns-sd._udp.local.") && (q.Type == dnsmessage.TypePTR || any),
			strings.EqualFold(n, "alice._scuttle._tcp.local.") && (q.Type == dnsmessage.TypeSRV || q.Type == dnsmessage.TypeTXT || any):
			return ""
		}
	}
}

// TestFuzzSeeds checks that the committed corpus holds every malformed
// message of the table; SCUTTLE_WRITE_FUZZ_SEEDS=1 (re)writes it.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzHandlePacket")
	write := os.Getenv("SCUTTLE_WRITE_FUZZ_SEEDS") == "1"
	type seed struct {
		name     string
		msg      []byte
		port5353 bool
	}
	var seeds []seed
	for _, m := range malformed {
		seeds = append(seeds, seed{m.name, m.msg, true})
	}
	for _, m := range sdSeeds {
		seeds = append(seeds, seed{m.name, m.msg, m.port5353})
	}
	for _, m := range seeds {
		file := filepath.Join(dir, strings.ReplaceAll(m.name, " ", "_"))
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(%v)\n", m.msg, m.port5353)
		if write {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			t.Errorf("seed %s missing; run with SCUTTLE_WRITE_FUZZ_SEEDS=1", file)
			continue
		}
		if err != nil || string(got) != want {
			t.Errorf("seed %s differs from the table (%v)", file, err)
		}
	}
}
