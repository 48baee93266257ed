package names

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"scuttle/applog"
)

// testID returns a valid ID that differs for each n.
func testID(n int) applog.ID {
	k := make([]byte, 32)
	k[0], k[1] = byte(n), byte(n>>8)
	return applog.IDOf(k)
}

var t0 = time.Date(2026, 12, 1, 9, 10, 11, 0, time.UTC)

func openTest(t *testing.T, dir string, max int) *Store {
	t.Helper()
	s, err := Open(dir, &Options{MaxBindings: max, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustBind(t *testing.T, s *Store, name string, id applog.ID, how How) Binding {
	t.Helper()
	b, err := s.Bind(name, id, how)
	if err != nil {
		t.Fatalf("Bind(%q, %s, %v): %v", name, id.Short(), how, err)
	}
	return b
}

// TestRules checks the binding rules on a sequence of Binds per row:
// the ID in force for the name after each step.
func TestRules(t *testing.T) {
	type step struct {
		name string
		id   int
		how  How
		want int // the ID in force for name afterwards
		how2 How // and how it was learned
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first binding wins", []step{{"bob", 1, Direct, 1, Direct}, {"bob", 2, Direct, 1, Direct}, {"bob", 3, Claimed, 1, Direct}}},
		{"a connection replaces a claim", []step{{"bob", 1, Claimed, 1, Claimed}, {"bob", 2, Direct, 2, Direct}, {"bob", 1, Claimed, 2, Direct}}},
		{"trusted replaces", []step{{"bob", 1, Direct, 1, Direct}, {"bob", 2, Trusted, 2, Trusted}, {"bob", 1, Direct, 2, Trusted}}},
		{"trusted again", []step{{"bob", 1, Trusted, 1, Trusted}, {"bob", 2, Trusted, 2, Trusted}, {"bob", 1, Trusted, 1, Trusted}}},
		{"trusted over nothing", []step{{"bob", 4, Trusted, 4, Trusted}, {"bob", 1, Claimed, 4, Trusted}}},
		{"case-insensitive", []step{{"Bob", 1, Direct, 1, Direct}, {"bob", 2, Claimed, 1, Direct}, {"BOB", 3, Direct, 1, Direct}}},
		{"non-ASCII case too", []step{{"zoë", 1, Direct, 1, Direct}, {"zoË", 2, Direct, 1, Direct}}},
		{"look-alikes", []step{{"bob", 1, Direct, 1, Direct}, {"bоb", 2, Direct, 1, Direct}, {"b0b\u200b", 3, Trusted, 3, Trusted}, {"bob", 1, Direct, 3, Trusted}}},
		{"names independent", []step{{"bob", 1, Direct, 1, Direct}, {"alice", 3, Claimed, 3, Claimed}, {"carol", 2, Direct, 2, Direct}}},
		{"named replaces a claim", []step{{"bob", 1, Claimed, 1, Claimed}, {"bob", 2, Named, 2, Named}, {"bob", 1, Claimed, 2, Named}}},
		{"named first wins", []step{{"bob", 1, Named, 1, Named}, {"bob", 2, Named, 1, Named}, {"bob", 2, Direct, 1, Named}}},
		{"named keeps another's direct", []step{{"bob", 1, Direct, 1, Direct}, {"bob", 2, Named, 1, Direct}}},
		{"named upgrades its own direct", []step{{"bob", 1, Direct, 1, Direct}, {"bob", 1, Named, 1, Named}, {"bob", 1, Direct, 1, Named}}},
		{"trusted replaces named", []step{{"bob", 1, Named, 1, Named}, {"bob", 2, Trusted, 2, Trusted}, {"bob", 1, Named, 2, Trusted}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir, 0)
			for i, st := range tt.steps {
				b := mustBind(t, s, st.name, testID(st.id), st.how)
				if b.ID != testID(st.want) || b.How != st.how2 {
					t.Fatalf("step %d: Bind(%q, %d, %v) = %s %v, want %d %v", i, st.name, st.id, st.how, b.ID.Short(), b.How, st.want, st.how2)
				}
				if l, ok := s.Lookup(st.name); !ok || l != b {
					t.Fatalf("step %d: Lookup(%q) = %+v, %v; want %+v", i, st.name, l, ok, b)
				}
			}
			// A fresh replay of the file agrees.
			again := openTest(t, dir, 0)
			if got, want := again.Bindings(), s.Bindings(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("replayed: %v\nwant      %v", got, want)
			}
		})
	}
}

func TestNameOf(t *testing.T) {
	s := openTest(t, t.TempDir(), 0)
	if _, ok := s.NameOf(testID(1)); ok {
		t.Error("NameOf found a name in an empty store")
	}
	mustBind(t, s, "Bob", testID(1), Claimed)
	mustBind(t, s, "zed", testID(1), Direct)
	mustBind(t, s, "yan", testID(1), Direct)
	mustBind(t, s, "alice", testID(2), Direct)
	if b, ok := s.NameOf(testID(1)); !ok || b.Name != "yan" {
		t.Errorf("NameOf = %+v, %v; want yan, the first of the direct yan and zed, over the claimed Bob", b, ok)
	}
}

func TestBindRejects(t *testing.T) {
	s := openTest(t, t.TempDir(), 0)
	tests := []struct {
		name string
		id   applog.ID
		how  How
		want string
	}{
		{"", testID(1), Direct, "names: bad name: empty name"},
		{"a b", testID(1), Direct, `names: bad name "a b": byte 0x20 at offset 1: no spaces or control characters`},
		{"a\nb", testID(1), Direct, `names: bad name "a\nb": byte 0x0a at offset 1: no spaces or control characters`},
		{"\xff", testID(1), Direct, `names: bad name "\xff": not UTF-8`},
		{strings.Repeat("x", MaxName+1), testID(1), Direct, "names: bad name: name of 256 bytes, max 255"},
		{"bob", "nope", Direct, `names: bind "bob": applog: bad id "nope": length 4, want 52`},
		{"bob", testID(1), How(9), `names: bind "bob": unknown how 9`},
	}
	for _, tt := range tests {
		if _, err := s.Bind(tt.name, tt.id, tt.how); err == nil || err.Error() != tt.want {
			t.Errorf("Bind(%q, %q, %v) = %v, want %q", tt.name, tt.id, tt.how, err, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(s.path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("rejected binds created the file: %v", err)
	}
	if _, err := s.Bind(strings.Repeat("x", MaxName), testID(1), Trusted); err != nil {
		t.Errorf("a name of MaxName bytes: %v", err)
	}
}

// TestNoFile: a database without the file has no bindings, and neither
// Open nor Lookup nor Bindings creates it.
func TestNoFile(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, 0)
	if _, ok := s.Lookup("bob"); ok {
		t.Error("Lookup found a binding in an empty store")
	}
	if b := s.Bindings(); len(b) != 0 {
		t.Errorf("Bindings = %v, want none", b)
	}
	if err := s.Reload(); err != nil {
		t.Error(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the directory holds %d files, want none", len(ents))
	}
	if _, err := Open(filepath.Join(dir, "missing"), nil); err != nil {
		t.Errorf("Open of a missing directory: %v", err)
	}
}

func TestMaxBindings(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, &Options{MaxBindings: 2, MaxClaimed: 2})
	if err != nil {
		t.Fatal(err)
	}
	mustBind(t, s, "a", testID(1), Direct)
	mustBind(t, s, "b", testID(2), Direct)
	if _, err := s.Bind("c", testID(3), Direct); !errors.Is(err, ErrFull) {
		t.Errorf("third direct binding: %v, want ErrFull", err)
	}
	// Claims have room of their own, the oldest evicted.
	for i, name := range []string{"c", "d", "e"} {
		mustBind(t, s, name, testID(10+i), Claimed)
	}
	if _, ok := s.Lookup("c"); ok {
		t.Error("the oldest of three claims, max 2, is held")
	}
	// The user can always trust; a trusted binding over a direct one
	// frees its slot.
	mustBind(t, s, "f", testID(4), Trusted)
	mustBind(t, s, "a", testID(5), Trusted)
	mustBind(t, s, "g", testID(6), Direct)
	if n := len(s.Bindings()); n != 6 {
		t.Errorf("%d bindings, want 6 (a f trusted, b g direct, d e claimed): %v", n, s.Bindings())
	}
	// A file with more direct records than the bound (written by a
	// store with a larger one) replays only the first ones.
	big := openTest(t, dir, 10)
	mustBind(t, big, "h", testID(7), Direct)
	small := openTest(t, dir, 2)
	if _, ok := small.Lookup("h"); ok {
		t.Error("replay applied a direct record beyond MaxBindings")
	}
}

// TestTwoProcesses: two stores on one directory (as a chat and "scuttle
// trust" are) see each other's records, and binding one name at once
// gives both the same winner.
func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	a, b := openTest(t, dir, 0), openTest(t, dir, 0)
	mustBind(t, a, "bob", testID(1), Direct)
	if got := mustBind(t, b, "bob", testID(2), Direct); got.ID != testID(1) {
		t.Errorf("b bound bob to %s after a bound it to %s", got.ID.Short(), testID(1).Short())
	}
	mustBind(t, b, "bob", testID(3), Trusted)
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Lookup("bob"); got.ID != testID(3) || got.How != Trusted {
		t.Errorf("a after b's trust: %s %v, want %s trusted", got.ID.Short(), got.How, testID(3).Short())
	}

	// Lookup notices on its own, once Recheck has passed.
	mustBind(t, b, "carol", testID(4), Direct)
	a.mu.Lock()
	a.checked = time.Now().Add(-Recheck)
	a.mu.Unlock()
	if got, ok := a.Lookup("carol"); !ok || got.ID != testID(4) {
		t.Errorf("Lookup after Recheck: %v %v, want carol bound to %s", got, ok, testID(4).Short())
	}

	var wg sync.WaitGroup
	res := make([]Binding, 8)
	for i := range res {
		wg.Go(func() {
			s := openTest(t, dir, 0)
			b, err := s.Bind("race", testID(10+i), Claimed)
			if err != nil {
				t.Error(err)
			}
			res[i] = b
		})
	}
	wg.Wait()
	for i, r := range res {
		if r.ID != res[0].ID {
			t.Errorf("store %d says race is %s, store 0 says %s", i, r.ID.Short(), res[0].ID.Short())
		}
	}
	if got, _ := openTest(t, dir, 0).Lookup("race"); got.ID != res[0].ID {
		t.Errorf("replay says race is %s, the binders said %s", got.ID.Short(), res[0].ID.Short())
	}
}

// TestRecovery damages the file in the ways a crash or a disk can, and
// checks that exactly the damaged records are skipped, never those after.
func TestRecovery(t *testing.T) {
	recs := func(bs ...Binding) []byte {
		var b []byte
		for _, x := range bs {
			b = appendRecord(b, x)
		}
		return b
	}
	a := Binding{"alice", testID(1), Direct, t0}
	b := Binding{"bob", testID(2), Claimed, t0}
	c := Binding{"carol", testID(3), Trusted, t0}
	tests := []struct {
		name    string
		file    []byte
		want    []Binding
		damaged int
	}{
		{"intact", recs(a, b, c), []Binding{a, b, c}, 0},
		{"torn middle record", concat(recs(a), recs(b)[:20], recs(c)), []Binding{a, c}, 1},
		{"torn last record", concat(recs(a, b), recs(c)[:30]), []Binding{a, b}, 0},
		{"flipped byte", flip(recs(a, b, c), len(recs(a))+10), []Binding{a, c}, 1},
		{"flipped CRC digit", flip(recs(a, b, c), len(recs(a, b))-3), []Binding{a, c}, 1},
		{"garbage line", concat(recs(a), []byte("\nhello world\n"), recs(b)), []Binding{a, b}, 1},
		{"binary junk", concat(recs(a), []byte("\x00\xff\x01\x02"), recs(b, c)), []Binding{a, b, c}, 1},
		{"overlong line", concat(recs(a), bytes.Repeat([]byte("x"), 10000), recs(b)), []Binding{a, b}, 1},
		{"overlong across reads", concat(recs(a), bytes.Repeat([]byte("z"), 200000), recs(b)), []Binding{a, b}, 1},
		{"no newlines at all", bytes.Repeat([]byte("y"), 100000), nil, 1},
		{"zeroed record", concat(recs(a), make([]byte, len(recs(b))), recs(c)), []Binding{a, c}, 1},
		{"other version", concat(bytes.Replace(recs(a), []byte("n1 "), []byte("n2 "), 1), recs(b)), []Binding{b}, 1},
		{"empty", nil, nil, 0},
		{"blank lines", []byte("\n\n\n"), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			s := openTest(t, dir, 0)
			if got := s.Bindings(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("bindings %v\nwant     %v", got, tt.want)
			}
			if s.Damaged() != tt.damaged {
				t.Errorf("%d damaged records reported, want %d", s.Damaged(), tt.damaged)
			}
			// The next record appended is read whole, whatever came before.
			d := Binding{"dave", testID(4), Direct, t0}
			if got := mustBind(t, s, d.Name, d.ID, d.How); got != d {
				t.Errorf("Bind after the damage: %+v, want %+v", got, d)
			}
			if got, ok := openTest(t, dir, 0).Lookup("dave"); !ok || got != d {
				t.Errorf("replay after the damage: dave is %+v, %v", got, ok)
			}
		})
	}
}

// TestReplaced: a file that shrank or was replaced is replayed anew.
func TestReplaced(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, 0)
	mustBind(t, s, "alice", testID(1), Direct)
	mustBind(t, s, "bob", testID(2), Direct)
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path+".new", appendRecord(nil, Binding{"carol", testID(3), Direct, t0}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := s.Bindings(); len(got) != 1 || got[0].Name != "carol" {
		t.Errorf("after the file was replaced: %v, want only carol", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := s.Bindings(); len(got) != 0 {
		t.Errorf("after the file was removed: %v, want none", got)
	}
}

func TestRecordFormat(t *testing.T) {
	b := Binding{"bob", applog.ID("7hq2xk3a" + strings.Repeat("a", 44)), Direct, t0}
	got := string(appendRecord(nil, b))
	want := "\nn1 direct bob 7hq2xk3a" + strings.Repeat("a", 44) + " 2026-12-01T09:10:11Z "
	if !strings.HasPrefix(got, want) || len(got) != len(want)+9 || got[len(got)-1] != '\n' {
		t.Fatalf("record %q, want %q + 8 hex digits + newline", got, want)
	}
	back, err := parseRecord([]byte(got[1 : len(got)-1]))
	if err != nil || back != b {
		t.Errorf("parsed back as %+v, %v; want %+v", back, err, b)
	}
	if maxLine != 349 {
		t.Errorf("maxLine is %d; doc.go says 349", maxLine)
	}
	if n := len(appendRecord(nil, Binding{strings.Repeat("x", MaxName), b.ID, Claimed, t0})) - 2; n != maxLine {
		t.Errorf("the longest record is %d bytes, maxLine %d", n, maxLine)
	}
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0x01
	return b
}
