package names

import (
	"strings"
	"testing"

	"scuttle/applog"
)

// TestTrust: Trust binds a name by trust and tells what it was bound to
// before, if anything.
func TestTrust(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := applog.IDOf([]byte(strings.Repeat("a", 32)))
	b := applog.IDOf([]byte(strings.Repeat("b", 32)))
	ch, err := s.Trust("carol", a)
	if err != nil || ch.Had || ch.New.Name != "carol" || ch.New.ID != a || ch.New.How != Trusted {
		t.Fatalf("Trust of a new name: %+v, %v", ch, err)
	}
	ch, err = s.Trust("Carol", b)
	if err != nil || !ch.Had || ch.Old.ID != a || ch.Old.How != Trusted || ch.New.ID != b || ch.New.Name != "Carol" {
		t.Fatalf("Trust of a bound name: %+v, %v", ch, err)
	}
	if got, _ := s.Lookup("carol"); got.ID != b {
		t.Errorf("carol is %s after Trust, want %s", got.ID, b)
	}
	if _, err := s.Trust("", a); err == nil {
		t.Error("Trust of an empty name: no error")
	}
}
