package applog

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// madeUpLog returns the one signed record of a log with a fresh key, as
// a stranger makes them up by the thousand: seq 1, payload text.
func madeUpLog(t testing.TB, text string) (ID, []byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	var prev [hashSize]byte
	rec, _ := appendRecord(nil, 1, time.Now().UnixNano(), &prev, []byte(text), &signer{priv: priv, pub: pub})
	return IDOf(pub), rec
}

// TestWantedBeyondMaxLogs: a flood of made-up logs fills MaxLogs, and
// later new logs are refused, unless SetWanted's function wants them:
// a wanted log is stored, through Insert and through Check and
// InsertRuns, Refuses says so, and the flood stays at the limit.
func TestWantedBeyondMaxLogs(t *testing.T) {
	db := openT(t, t.TempDir(), &Options{MaxLogs: 4})
	for i := range 3 { // the own log and 3 made up: at the limit
		id, rec := madeUpLog(t, fmt.Sprint("flood ", i))
		if _, err := db.Insert(id, [][]byte{rec}); err != nil {
			t.Fatalf("flood log %d: %v", i, err)
		}
	}
	flood, frec := madeUpLog(t, "flood past the limit")
	alice, arec := madeUpLog(t, "alice")
	bob, brec := madeUpLog(t, "bob")
	var mu sync.Mutex
	asked := map[ID]int{}
	db.SetWanted(func(id ID) bool {
		mu.Lock()
		defer mu.Unlock()
		asked[id]++
		return id == alice || id == bob
	})
	if _, err := db.Insert(flood, [][]byte{frec}); !errors.Is(err, ErrLogLimit) {
		t.Fatalf("a made-up log past the limit: %v, want ErrLogLimit", err)
	}
	if db.Refuses(alice) || db.Refuses(bob) || !db.Refuses(flood) {
		t.Errorf("Refuses: alice %v, bob %v, flood %v; want false, false, true", db.Refuses(alice), db.Refuses(bob), db.Refuses(flood))
	}
	if n, err := db.Insert(alice, [][]byte{arec}); n != 1 || err != nil {
		t.Fatalf("Insert of a wanted log past the limit: %d, %v; want 1, nil", n, err)
	}
	if n, err := db.InsertRuns(db.Check(bob, [][]byte{brec}), db.Check(flood, [][]byte{frec})); n != 1 || !errors.Is(err, ErrLogLimit) {
		t.Fatalf("InsertRuns of a wanted log and a made-up one: %d, %v; want 1, ErrLogLimit", n, err)
	}
	if db.Head(alice) != 1 || db.Head(bob) != 1 || db.Head(flood) != 0 {
		t.Errorf("heads alice %d, bob %d, flood %d; want 1, 1, 0", db.Head(alice), db.Head(bob), db.Head(flood))
	}
	if n := len(db.Heads()); n != 6 {
		t.Errorf("%d logs held, want 6: the limit (4) and two wanted logs", n)
	}
	mu.Lock()
	if asked[db.ID()] != 0 {
		t.Errorf("wanted was asked about the own log")
	}
	mu.Unlock()

	db.SetWanted(nil)
	carol, crec := madeUpLog(t, "carol")
	if _, err := db.Insert(carol, [][]byte{crec}); !errors.Is(err, ErrLogLimit) {
		t.Errorf("with no wanted function: %v, want ErrLogLimit", err)
	}
	if _, err := db.Insert(alice, [][]byte{arec}); err != nil {
		t.Errorf("a log held past the limit, again: %v", err)
	}
}
