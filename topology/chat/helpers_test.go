package chat

import (
	"testing"

	"scuttle/applog"
)

// newTestDB returns a database in a temp dir with entries in its own log.
func newTestDB(t testing.TB, entries ...string) *applog.DB {
	t.Helper()
	db, err := applog.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, e := range entries {
		if _, err := db.Append([]byte(e)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}
