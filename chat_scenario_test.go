//go:build linux

package main

import (
	"strings"
	"testing"
)

// The exchanges that the end-to-end chat tests share with the in-process
// ones of topology/chat (chat_test.go there), written against any chat
// a test can type into and read.

// A chatter is a running chat a test types into and reads: a lab host's
// chat process (chatProc).
type chatter interface {
	say(line string)
	expect(want ...string)
}

// forwardThroughBob is the exchange of TestChatForwarding (and of
// topology/chat's TestUnitChatForward), where alice and carol each name
// only bob: once both are connected to bob, each one's line reaches the
// other, and bob prints both.
func forwardThroughBob(alice, bob, carol chatter) {
	alice.expect("info> direct connection to bob")
	carol.expect("info> direct connection to bob")

	alice.say("from alice")
	alice.expect("alice> from alice")
	carol.expect("alice> from alice")
	carol.say("from carol")
	carol.expect("carol> from carol")
	alice.expect("carol> from carol")
	bob.expect("alice> from alice", "carol> from carol")
}

// checkAliceNeverMetCarol fails the test if alice's output, seen, tells
// of a connection to carol: after forwardThroughBob, their lines went
// through bob only.
func checkAliceNeverMetCarol(t *testing.T, seen []string) {
	t.Helper()
	for _, l := range seen {
		if isInfo(l) && strings.Contains(l, "carol") {
			t.Errorf("alice connected to carol, whom neither names: %q", l)
		}
	}
}
