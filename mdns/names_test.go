package mdns

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckName: a peer's name is one DNS label that prints as itself:
// no invisible, bidi or control character may make it read as another
// name ("bob\u2060" as bob) or reorder the line it is printed in.
func TestCheckName(t *testing.T) {
	for _, ok := range []string{"bob", "Bob-2", "zoë", "bоb", "日本", strings.Repeat("a", 63)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%+q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{
		"", "a.b", "a b", "a\\b", "a\x00", "a\x7f", strings.Repeat("a", 64),
		"bob\u200b", "bob\u200d", "bob\u2060", "\u202ebob", "bob\ufeff", "b\u00adob", "bob\u034f",
		"c\u009b", "bob\u0085", "bob\u2028", "bob\u3000", "bob\u00a0", "bob\xff",
	} {
		if err := CheckName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("CheckName(%+q) = %v, want ErrBadName", bad, err)
		}
	}
}
