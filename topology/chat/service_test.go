package chat

import (
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
