package names

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"scuttle/applog"
)

// The attacks of issue 19 on the store, made as a stranger makes them:
// look-alike names, and floods of made-up usernames and logs.

// TestLookAlikes: names that print alike are one name. A stranger who
// writes or connects as a look-alike of a bound name meets that name's
// binding, so the chat prints its lines as NAME~SHORT and refuses its
// connection.
func TestLookAlikes(t *testing.T) {
	s := openTest(t, t.TempDir(), 0)
	bob := testID(1)
	mustBind(t, s, "bob", bob, Direct)
	for _, alike := range []string{
		"bоb",        // Cyrillic о
		"bob\u200b",  // zero-width space
		"bob\u200d",  // zero-width joiner
		"b\u2060ob",  // word joiner
		"\u202ebob",  // right-to-left override
		"bob\ufeff",  // zero-width no-break space
		"BOB", "B0B", // case, digit zero
		"ｂｏｂ",                            // fullwidth
		"\U0001d41b\U0001d428\U0001d41b", // mathematical bold
		"βοβ",                            // Greek beta and omicron
	} {
		b, ok := s.Lookup(alike)
		if !ok || b.ID != bob || b.Name != "bob" {
			t.Errorf("Lookup(%+q) = %v %v, want bob's binding", alike, b, ok)
		}
		if b := mustBind(t, s, alike, testID(2), Direct); b.ID != bob {
			t.Errorf("Bind(%+q, stranger, Direct) = %s, want bob's binding", alike, b.ID.Short())
		}
	}
	for _, other := range []string{"bobby", "rob", "bab"} {
		if b, ok := s.Lookup(other); ok {
			t.Errorf("Lookup(%q) = %v, want no binding", other, b)
		}
	}
	if n := len(s.Bindings()); n != 1 {
		t.Errorf("%d bindings after the look-alikes, want 1: %v", n, s.Bindings())
	}
}

// TestClaimNeverBlocksDirect: a stranger's log, reached through a relay,
// claims "alice" first; the real alice then connects. The connection is
// stronger evidence: alice is hers, and the claim is gone.
func TestClaimNeverBlocksDirect(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, 0)
	stranger, alice := testID(1), testID(2)
	mustBind(t, s, "alice", stranger, Claimed)
	if b := mustBind(t, s, "alice", alice, Direct); b.ID != alice || b.How != Direct {
		t.Fatalf("direct binding over a claim: %s %v, want alice's, direct", b.ID.Short(), b.How)
	}
	if b, _ := openTest(t, dir, 0).Lookup("alice"); b.ID != alice {
		t.Errorf("replayed: alice is %s, want the direct binding", b.ID.Short())
	}
	// And a claim never replaces a direct binding.
	if b := mustBind(t, s, "alice", stranger, Claimed); b.ID != alice {
		t.Errorf("claim over a direct binding: %s, want alice's", b.ID.Short())
	}
}

// TestOneClaimPerLog: one log whose entries carry 10,000 usernames
// claims the first only.
func TestOneClaimPerLog(t *testing.T) {
	s := openTest(t, t.TempDir(), 0)
	flood := testID(1)
	for i := range 10000 {
		b, err := s.Bind("user"+strconv.Itoa(i), flood, Claimed)
		if err != nil {
			t.Fatal(err)
		}
		if want := i == 0; (b.ID == flood) != want {
			t.Fatalf("claim %d: bound to %s, want bound %v", i, b.ID.Short(), want)
		}
	}
	if n := len(s.Bindings()); n != 1 {
		t.Errorf("%d bindings, want 1", n)
	}
	// A log with a binding claims nothing more.
	mustBind(t, s, "carol", testID(2), Direct)
	if b, _ := s.Bind("carol2", testID(2), Claimed); b.ID == testID(2) {
		t.Errorf("carol's log claimed a second name")
	}
}

// TestClaimFloodEvicted: 20,000 one-entry logs, each with its own
// username, fill the claims, which are evicted oldest first; the names
// that connect afterwards are bound all the same, and a claim never
// takes a direct binding's room.
func TestClaimFloodEvicted(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, 0)
	for i := range 20000 {
		if _, err := s.Bind("u"+strconv.Itoa(i), testID(1000+i), Claimed); err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
	}
	for i := range 100 {
		name := "peer" + strconv.Itoa(i)
		b, err := s.Bind(name, testID(100+i), Direct)
		if err != nil || b.ID != testID(100+i) {
			t.Fatalf("Bind(%s, Direct) after the flood = %s, %v; want it bound", name, b.ID.Short(), err)
		}
	}
	if _, ok := s.Lookup("u0"); ok {
		t.Error("the oldest claim is still held")
	}
	if b, ok := s.Lookup("u19999"); !ok || b.ID != testID(20999) {
		t.Error("the newest claim is not held")
	}
	if n := len(s.Bindings()); n > DefaultMaxClaimed+100 {
		t.Errorf("%d bindings, want at most %d claims and the 100 direct", n, DefaultMaxClaimed)
	}
	// A full store of direct bindings: the error says so, and a claim
	// still goes in.
	small := openTest(t, t.TempDir(), 1)
	mustBind(t, small, "a", testID(1), Direct)
	if _, err := small.Bind("b", testID(2), Direct); !errors.Is(err, ErrFull) {
		t.Errorf("second direct binding, max 1: %v, want ErrFull", err)
	}
	mustBind(t, small, "c", testID(3), Claimed)
}

// TestNamedRoom: a stranger connects with 50 fresh keys, each under a
// fresh name, and fills the Direct bindings. The names the user asked
// for are bound all the same when dialled (Named), on replay too, and
// such a binding of a log bound Direct frees that Direct room.
func TestNamedRoom(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, 10)
	for i := range 50 {
		_, err := s.Bind("fresh"+strconv.Itoa(i), floodID(i), Direct)
		if i < 10 && err != nil || i >= 10 && !errors.Is(err, ErrFull) {
			t.Fatalf("direct binding %d of a flood, max 10: %v", i, err)
		}
	}
	for i, name := range []string{"alice", "bob", "carol"} {
		if b := mustBind(t, s, name, testID(1+i), Named); b.ID != testID(1+i) || b.How != Named {
			t.Errorf("Bind(%s, Named) in a store full of direct bindings = %s %v, want it bound", name, b.ID.Short(), b.How)
		}
	}
	mustBind(t, s, "fresh0", floodID(0), Named) // the user dialled fresh0 after all
	if b := mustBind(t, s, "dave", testID(4), Direct); b.ID != testID(4) {
		t.Errorf("Bind(dave, Direct) after a Named binding freed a place = %s, want it bound", b.ID.Short())
	}
	again := openTest(t, dir, 10)
	for _, name := range []string{"alice", "bob", "carol", "fresh0", "dave", "fresh9"} {
		if _, ok := again.Lookup(name); !ok {
			t.Errorf("replayed: %s is not bound", name)
		}
	}
	if b, _ := again.Lookup("fresh0"); b.How != Named {
		t.Errorf("replayed: fresh0 is %v, want named", b.How)
	}
}

// TestFloodFigures measures the names store after a 100,000-username
// flood, both ways: one log writing 100,000 usernames, and 100,000
// one-entry logs. It is the figure of issue 19's closing note:
//
//	go test ./applog/names -run TestFloodFigures -v
func TestFloodFigures(t *testing.T) {
	const flood = 100000
	for _, logs := range []int{1, flood} {
		dir := t.TempDir()
		s := openTest(t, dir, 0)
		for i := range flood {
			id := testID(1 + i%logs)
			if logs > 1 {
				id = floodID(i)
			}
			if _, err := s.Bind("user"+strconv.Itoa(i), id, Claimed); err != nil {
				t.Fatal(err)
			}
		}
		fi, err := os.Stat(filepath.Join(dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		held := len(s.Bindings())
		t.Logf("%d usernames from %d logs: names file %d bytes, %d records held", flood, logs, fi.Size(), held)
		if max := int64(DefaultMaxClaimed * maxLine); fi.Size() > max {
			t.Errorf("names file of %d bytes, want at most %d", fi.Size(), max)
		}
		if held > DefaultMaxClaimed {
			t.Errorf("%d bindings held, want at most %d", held, DefaultMaxClaimed)
		}
	}
}

// floodID returns a distinct valid ID for each i below 2^24.
func floodID(i int) applog.ID {
	k := make([]byte, 32)
	k[0], k[1], k[2], k[3] = byte(i), byte(i>>8), byte(i>>16), 0xf1
	return applog.IDOf(k)
}
