package topology

import (
	"net"
	"testing"
)

func TestParsePeer(t *testing.T) {
	tests := []struct {
		in         string
		name, addr string
	}{
		{"bob", "bob", ""},
		{"zoë", "zoë", ""},
		{"10.0.0.7:4000", "", "10.0.0.7:4000"},
		{"[::1]:4000", "", "[::1]:4000"},
		{"[fe80::1%lo]:4000", "", "[fe80::1%lo]:4000"},
		{"host.example:65535", "", "host.example:65535"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parsePeer(tt.in)
			if err != nil {
				t.Fatalf("parsePeer(%q): %v", tt.in, err)
			}
			if got.name != tt.name || got.addr != tt.addr || got.spec != tt.in {
				t.Errorf("parsePeer(%q) = %+v, want name %q addr %q", tt.in, *got, tt.name, tt.addr)
			}
		})
	}
}

// TestIPv6Peer: a HOST:PORT peer on ::1.
func TestIPv6Peer(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	w := newWorld(t)
	k := testKeys(2)
	a := w.newNode(k[0], "alice", ln).start()
	b := w.newNode(k[1], "bob", nil, ln.Addr().String()).start()
	w.waitFor("alice and bob connected over ::1", func() bool { return same(a, b) })
}
