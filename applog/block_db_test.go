package applog

import (
	"errors"
	"testing"
)

// TestDBBlock: DB.Block refuses the own log, and blocks another at once:
// Blocked says so and Insert refuses it, with no wait for the re-reading
// of the list.
func TestDBBlock(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, dir, nil)
	if err := db.Block(db.ID()); !errors.Is(err, ErrOwnLog) {
		t.Errorf("Block of the own log: %v, want ErrOwnLog", err)
	}
	if db.Blocked(db.ID()) {
		t.Error("the own log is blocked")
	}
	spam, srecs := authorLog(t)
	if err := db.Block(spam.ID()); err != nil {
		t.Fatal(err)
	}
	if !db.Blocked(spam.ID()) {
		t.Error("not Blocked right after DB.Block")
	}
	if n, err := db.Insert(spam.ID(), srecs); !errors.Is(err, ErrBlocked) || n != 0 {
		t.Errorf("Insert after DB.Block: %d, %v; want 0, ErrBlocked", n, err)
	}
}
