package testkit

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// ChatWait bounds every wait for a line of a chat, in process or not.
const ChatWait = 30 * time.Second

// IsInfo says whether l is one of the chat's "info> " lines.
func IsInfo(l string) bool { return strings.HasPrefix(l, "info> ") }

// ExpectLines reads lines, appending each to *seen, until every line of
// want has come, in any order. A line not in want is skipped if skip
// says so, and fails the test otherwise; so does the end of lines or
// ChatWait passing first. name is the chat's, for failure messages.
func ExpectLines(t testing.TB, name string, lines <-chan string, seen *[]string, skip func(string) bool, want []string) {
	t.Helper()
	want = slices.Clone(want)
	deadline := time.After(ChatWait)
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
			t.Fatalf("%s: no %q within %v; output: %q", name, want, ChatWait, *seen)
		}
	}
}

// ExpectPrefix reads lines, appending each to *seen, until one starts
// with prefix, and returns it; the lines before it are skipped. The end
// of lines or ChatWait passing first fails the test. name is the
// chat's, for failure messages.
func ExpectPrefix(t testing.TB, name string, lines <-chan string, seen *[]string, prefix string) string {
	t.Helper()
	deadline := time.After(ChatWait)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("%s ended while waiting for %q…; output: %q", name, prefix, *seen)
			}
			*seen = append(*seen, l)
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("%s: no %q… within %v; output: %q", name, prefix, ChatWait, *seen)
		}
	}
}

// A Chat is a running chat as an exchange sees it: a chat process of the
// end-to-end tests or an in-process one of topology/chat's.
type Chat struct {
	Say    func(line string)    // types line into the chat
	Expect func(want ...string) // waits for lines, as ExpectLines
}

// ForwardThroughBob is the exchange where alice and carol each name only
// bob: once both are connected to bob, each one's line reaches the
// other, and bob prints both.
func ForwardThroughBob(alice, bob, carol Chat) {
	alice.Expect("info> direct connection to bob")
	carol.Expect("info> direct connection to bob")

	alice.Say("from alice")
	alice.Expect("alice> from alice")
	carol.Expect("alice> from alice")
	carol.Say("from carol")
	carol.Expect("carol> from carol")
	alice.Expect("carol> from carol")
	bob.Expect("alice> from alice", "carol> from carol")
}

// CheckAliceNeverMetCarol fails the test if alice's output, seen, tells
// of a connection to carol: after ForwardThroughBob, their lines went
// through bob only.
func CheckAliceNeverMetCarol(t testing.TB, seen []string) {
	t.Helper()
	for _, l := range seen {
		if IsInfo(l) && strings.Contains(l, "carol") {
			t.Errorf("alice connected to carol, whom neither names: %q", l)
		}
	}
}
