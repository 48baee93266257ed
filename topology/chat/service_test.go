package chat

import (
	"context"
	"io"
	"net"
	"net/netip"
	"scuttle/mdns"
	"slices"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"scuttle/topology"
)

func TestServiceTXT(t *testing.T) {
	key := make([]byte, topology.NetworkKeySize)
	v := "v=" + strconv.Itoa(topology.ProtocolVersion)
	if got, want := serviceTXT("abc", nil), []string{"id=abc", v}; !slices.Equal(got, want) {
		t.Errorf("public: %q, want %q", got, want)
	}
	if got, want := serviceTXT("abc", key), []string{"id=abc", v, "net=" + topology.NetworkTag(key)}; !slices.Equal(got, want) {
		t.Errorf("keyed: %q, want %q", got, want)
	}
}

func TestTXTValue(t *testing.T) {
	txt := []string{"id=abc", "ID=second", "flag", "empty=", "v=2=x"}
	tests := []struct {
		key, want string
		ok        bool
	}{
		{"id", "abc", true}, // the first occurrence counts (RFC 6763 §6.4)
		{"Id", "abc", true},
		{"flag", "", true},
		{"empty", "", true},
		{"v", "2=x", true},
		{"net", "", false},
	}
	for _, tt := range tests {
		if got, ok := TXTValue(txt, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("TXTValue(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

// TestUnitChatNoScuttle: bob.local resolves (as a forged A record and
// SRV port would make it) to a port that runs something else, which
// answers a line of HTTP and hangs up. The chat says so in one info
// line, however often it redials.
func TestUnitChatNoScuttle(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.0 400 Bad Request\r\n\r\n")
			c.Close()
		}
	}()
	fn := newFakeNet()
	fn.set("bob", ln.Addr().String())
	a := startUnitChat(t, fn, "", "alice", "bob")
	// fakeNet dials bob.test at bob's listener whatever the port; the
	// chat dials bob's name's port, as it would without an SRV record.
	port := strconv.Itoa(int(topology.HashToPort("bob")))
	want := "info> no scuttle answers at bob.test:" + port + ", where bob.local resolved: dialling it less often, up to a minute apart"
	a.expect(want)
	fn.awaitDials(t, ln.Addr().String(), 2)
	a.drain()
	if n := a.count(want); n != 1 {
		t.Errorf("%d lines %q, want 1; output: %q", n, want, a.seen)
	}
}

// takenRegistrar is a Registrar on a LAN where another host answers
// for the name (scuttle announce ME, or a forged answer) for the first
// taken claims.
type takenRegistrar struct {
	taken  int
	claims []time.Duration // when each claim came, from the start
	start  time.Time
}

func (r *takenRegistrar) RegisterService(ctx context.Context, s mdns.Service) error {
	r.claims = append(r.claims, time.Since(r.start))
	if len(r.claims) <= r.taken {
		return &mdns.ConflictError{Name: mdns.FQDN(s.Instance), Host: netip.MustParseAddr("10.0.0.66"), Iface: "lan0"}
	}
	return nil
}

// TestAdvertiseTaken: a taken name does not end the chat: Advertise
// says so once, tries again 30 s later, then 60 s, 120 s…, and says when
// the name is free (before, the chat exited with "bob.local is taken").
func TestAdvertiseTaken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &takenRegistrar{taken: 3, start: time.Now()}
		var lines []string
		info := func(l string) { lines = append(lines, l) }
		if err := Advertise(t.Context(), r, "bob", "[::]:4321", "abc", nil, info); err != nil {
			t.Fatalf("Advertise: %v", err)
		}
		want := []string{
			"bob.local is taken: host 10.0.0.66 answered for it on lan0; running without it: peers reach this chat as HOST:4321, it still dials its peers, and it claims the name once it is free",
			"bob.local is free now: this chat is advertised, and peers find it by name",
		}
		if !slices.Equal(lines, want) {
			t.Errorf("info lines:\n%q\nwant\n%q", lines, want)
		}
		if want := []time.Duration{0, 30 * time.Second, 90 * time.Second, 210 * time.Second}; !slices.Equal(r.claims, want) {
			t.Errorf("claims at %v, want %v", r.claims, want)
		}
	})
}

// TestAdvertiseTakenForever: against a spoofer that answers for every
// name, Advertise keeps the chat running, claims at most every 10
// minutes, and returns nil when the chat ends.
func TestAdvertiseTakenForever(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &takenRegistrar{taken: 1 << 30, start: time.Now()}
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		var lines []string
		if err := Advertise(ctx, r, "bob", "[::]:4321", "abc", nil, func(l string) { lines = append(lines, l) }); err != nil {
			t.Fatalf("Advertise: %v", err)
		}
		if len(lines) != 1 {
			t.Errorf("info lines %q, want the one of the conflict", lines)
		}
		// 0, 30 s, 1m30, 3m30, 7m30, 15m30, then every 10 minutes.
		if len(r.claims) != 10 {
			t.Errorf("%d claims in an hour (%v), want 10", len(r.claims), r.claims)
		}
	})
}
