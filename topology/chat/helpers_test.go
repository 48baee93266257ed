package chat

import (
	"slices"
	"strings"
	"testing"
	"time"

	"scuttle/applog"
)

// chatWait bounds every wait for a line of a chat.
const chatWait = 30 * time.Second

// isInfo says whether l is one of the chat's "info> " lines.
func isInfo(l string) bool { return strings.HasPrefix(l, "info> ") }

// expectLines reads lines, appending each to *seen, until every line of
// want has come, in any order. A line not in want is skipped if skip
// says so, and fails the test otherwise; so does the end of lines or
// chatWait passing first. name is the chat's, for failure messages.
func expectLines(t *testing.T, name string, lines <-chan string, seen *[]string, skip func(string) bool, want []string) {
	t.Helper()
	want = slices.Clone(want)
	deadline := time.After(chatWait)
	for len(want) > 0 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("%s ended while waiting for %q; output: %q", name, want, *seen)
			}
			*seen = append(*seen, l)
			if i := slices.Index(want, l); i >= 0 {
				want = slices.Delete(want, i, i+1)
			} else if !skip(l) {
				t.Fatalf("%s printed %q while waiting for %q; output: %q", name, l, want, *seen)
			}
		case <-deadline:
			t.Fatalf("%s: no %q within %v; output: %q", name, want, chatWait, *seen)
		}
	}
}

// newTestDB returns a database in a temp dir with entries in its own log.
func newTestDB(t *testing.T, entries ...string) *applog.DB {
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
