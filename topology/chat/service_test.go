package chat

import (
	"io"
	"net"
	"slices"
	"strconv"
	"testing"

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
