//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"scuttle/mdns/netlab"
)

// The end-to-end tests of issue 20, private messages and private rooms:
// the built binary on three netlab hosts, alice, bob and carol, each
// naming the other two. Every log reaches every peer, sealed entries
// included; what a peer was not sealed to shows in none of its output,
// its database files or "scuttle read", which prints the entry as
// sealed. Each private text is made of words of its own (see words),
// which the checks look for one by one.

// privateLab is a lab of three peers, alice, bob and carol, on its
// hosts 0, 1 and 2, each with a database directory of its own.
type privateLab struct {
	t     *testing.T
	lab   *netlab.Lab
	names []string    // the peers' names, in the order of the hosts
	dirs  []string    // database directories, as names
	procs []*chatProc // the running chats, as names; nil once stopped
}

// newPrivateLab makes the lab and starts the three chats.
func newPrivateLab(t *testing.T) *privateLab {
	t.Helper()
	l := &privateLab{t: t, names: []string{"alice", "bob", "carol"}}
	l.lab = netlab.New(t, len(l.names))
	for i := range l.names {
		l.dirs = append(l.dirs, t.TempDir())
		l.procs = append(l.procs, nil)
		l.start(i)
	}
	return l
}

// start starts peer i naming the peers others, or every other peer if
// others is nil.
func (l *privateLab) start(i int, others ...string) *chatProc {
	l.t.Helper()
	if others == nil {
		others = slices.Concat(l.names[:i], l.names[i+1:])
	}
	p := labChat(l.t, l.lab.Hosts[i], l.dirs[i], append([]string{l.names[i]}, others...)...)
	l.procs[i] = p
	return p
}

// stop stops peer i with SIGTERM, which must end it cleanly.
func (l *privateLab) stop(i int) {
	l.t.Helper()
	l.procs[i].stop(syscall.SIGTERM)
	l.procs[i] = nil
}

// stopAll stops the peers still running.
func (l *privateLab) stopAll() {
	l.t.Helper()
	for i, p := range l.procs {
		if p != nil {
			l.stop(i)
		}
	}
}

// db is the database of peer i, as "scuttle chat NAME" makes it.
func (l *privateLab) db(i int) string {
	return filepath.Join(l.dirs[i], l.names[i]+".db")
}

// everyoneSays has each running peer type "public from NAME" and waits
// until each prints all of them. A chat publishes its encryption key
// before it sends its first line, and a log reaches a peer in order, so
// afterwards each knows the others' keys. It returns the lines.
func (l *privateLab) everyoneSays() []string {
	l.t.Helper()
	var want []string
	for i, p := range l.procs {
		if p != nil {
			p.say("public from " + l.names[i])
			want = append(want, l.names[i]+"> public from "+l.names[i])
		}
	}
	for _, p := range l.procs {
		if p != nil {
			p.expect(want...)
		}
	}
	return want
}

// sameDBs fails the test unless the databases of the stopped peers hold
// the same entries, sealed ones and keys included: every peer stores
// every log, whoever can read it. It returns them, as "scuttle read
// --json" prints them, sorted.
func (l *privateLab) sameDBs() []string {
	l.t.Helper()
	all := func(db string) []string {
		out := mustScuttle(l.t, "", "", "read", "--json", "--db", db)
		return slices.Sorted(strings.Lines(out))
	}
	first := all(l.db(0))
	for i := 1; i < len(l.names); i++ {
		if got := all(l.db(i)); !slices.Equal(got, first) {
			l.t.Errorf("%s and %s differ:\n%s\n%s", l.names[i], l.names[0], strings.Join(got, ""), strings.Join(first, ""))
		}
	}
	return first
}

// words returns a private text of n words no other text of the tests
// holds, tag keeping the texts of one test apart.
func words(tag string, n int) string {
	pool := []string{"quokka", "marmalade", "zeppelin", "obsidian", "tamarind", "walrus", "cobalt", "fjord"}
	var ws []string
	for i := range n {
		ws = append(ws, fmt.Sprintf("%s%s%d", pool[i%len(pool)], tag, i))
	}
	return strings.Join(ws, " ")
}

// noWords fails the test if text, from where, holds any word of secret.
func noWords(t *testing.T, where, text, secret string) {
	t.Helper()
	for _, w := range strings.Fields(secret) {
		if strings.Contains(text, w) {
			t.Errorf("%s holds %q, a word of a text sealed to others:\n%s", where, w, text)
		}
	}
}

// readOut is the output of "scuttle read --db db", with --open if open.
func readOut(t *testing.T, db string, open bool) string {
	t.Helper()
	args := []string{"read", "--db", db}
	if open {
		args = append(args, "--open")
	}
	return mustScuttle(t, "", "", args...)
}

// sealedSeq returns the log ID of the database db and the seq of the
// entry of its own log whose opened text is text, as "scuttle read
// --json --open" tells them.
func sealedSeq(t *testing.T, db, text string) (string, uint64) {
	t.Helper()
	id := strings.TrimSpace(mustScuttle(t, "", "", "id", "--db", db))
	out := mustScuttle(t, "", "", "read", "--json", "--open", "--db", db)
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var e struct {
			Peer   string  `json:"peer"`
			Seq    uint64  `json:"seq"`
			Sealed bool    `json:"sealed"`
			Entry  *string `json:"entry"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("read --json --open --db %s: line %q: %v", db, l, err)
		}
		if e.Peer == id && e.Sealed && e.Entry != nil && *e.Entry == text {
			return id, e.Seq
		}
	}
	t.Fatalf("read --json --open --db %s: no sealed entry of its own log opens to %q:\n%s", db, text, out)
	return "", 0
}

// printsLine fails the test unless out, the output of what, holds the line
// want.
func printsLine(t *testing.T, what, out, want string) {
	t.Helper()
	if !slices.Contains(strings.Split(out, "\n"), want) {
		t.Errorf("%s has no line %q:\n%s", what, want, out)
	}
}

// TestChatPrivateReplicate: the three peers replicate everything: each
// prints every public line, and once stopped their databases hold the
// same entries, the three encryption keys among them.
func TestChatPrivateReplicate(t *testing.T) {
	l := newPrivateLab(t)
	l.everyoneSays()
	l.stopAll()
	first := l.sameDBs()
	keys := 0
	for _, e := range first {
		if strings.Contains(e, `"key":`) {
			keys++
		}
	}
	if len(first) != 6 || keys != 3 {
		t.Errorf("%s holds %d entries, %d of them keys; want 6, 3: a key and a line of each peer:\n%s", l.names[0], len(first), keys, strings.Join(first, ""))
	}
}

// TestChatPrivateMessage: alice's /msg bob prints on alice's and bob's
// screens only. carol stores the entry (the three databases end equal),
// and it is sealed to her: her output, her database files, "scuttle
// read" and "read --open" show none of its words, and read prints the
// entry as sealed.
func TestChatPrivateMessage(t *testing.T) {
	l := newPrivateLab(t)
	a, b, c := l.procs[0], l.procs[1], l.procs[2]
	l.everyoneSays()

	secret := words("m", 6)
	a.say("/msg bob " + secret)
	a.expect("alice → bob> " + secret)
	b.expect("alice → bob> " + secret)
	// alice's next line comes after it in her log: once carol prints
	// it, she has been given the sealed entry, and printed nothing of
	// it (expect fails on any line but info lines).
	a.say("public after the message")
	for _, p := range l.procs {
		p.expect("alice> public after the message")
	}
	noWords(t, "carol's output", strings.Join(c.seen, "\n"), secret)
	l.stopAll()
	l.sameDBs()

	id, seq := sealedSeq(t, l.db(0), secret)
	sealed := fmt.Sprintf("{peer: '%s', seq: %d, sealed: true}", id, seq)
	for _, open := range []bool{false, true} {
		out := readOut(t, l.db(2), open)
		what := fmt.Sprintf("carol's read (open %v)", open)
		printsLine(t, what, out, sealed)
		noWords(t, what, out, secret)
	}
	checkFilesLack(t, l.db(2), "public after the message", strings.Fields(secret)...)

	// The control: bob's read prints it sealed too, and his read --open
	// prints its text.
	bobID := strings.TrimSpace(mustScuttle(t, "", "", "id", "--db", l.db(1)))
	printsLine(t, "bob's read", readOut(t, l.db(1), false), sealed)
	printsLine(t, "bob's read --open", readOut(t, l.db(1), true),
		fmt.Sprintf("{peer: '%s', seq: %d, to: ['%s'], entry: '%s'}", id, seq, bobID, secret))
}

// TestChatPrivateRoom: alice makes #r and invites bob (both list it in
// /rooms): her room line prints for both and not for carol. She kicks
// bob: her next room line prints for her alone, and neither bob's output
// nor his read --open holds its words; carol's output, files and reads
// hold the words of neither. The three databases end equal: all hold
// both lines, sealed.
func TestChatPrivateRoom(t *testing.T) {
	l := newPrivateLab(t)
	a, b, c := l.procs[0], l.procs[1], l.procs[2]
	l.everyoneSays()

	before, after := words("r", 5), words("k", 5)
	a.say("/join #r")
	a.say("/invite bob")
	a.say("/rooms")
	a.expect("info> #r: alice, bob (your lines go here)")
	a.say(before)
	a.expect("#r alice> " + before)
	b.expect("#r alice> " + before)
	b.say("/rooms")
	b.expect("info> #r: alice, bob")
	a.say("/join")
	a.say("public after the first room line")
	for _, p := range l.procs {
		p.expect("alice> public after the first room line")
	}

	a.say("/join #r")
	a.say("/kick bob")
	a.say("/rooms")
	a.expect("info> #r: alice (your lines go here)")
	a.say(after)
	a.expect("#r alice> " + after)
	a.say("/join")
	a.say("public after the kick")
	for _, p := range l.procs {
		p.expect("alice> public after the kick")
	}
	noWords(t, "bob's output", strings.Join(b.seen, "\n"), after)
	noWords(t, "carol's output", strings.Join(c.seen, "\n"), before+" "+after)
	l.stopAll()
	l.sameDBs()

	aliceID, seqBefore := sealedSeq(t, l.db(0), before)
	_, seqAfter := sealedSeq(t, l.db(0), after)
	sealedLine := func(seq uint64) string { return fmt.Sprintf("{peer: '%s', seq: %d, sealed: true}", aliceID, seq) }

	bobOpen := readOut(t, l.db(1), true)
	printsLine(t, "bob's read --open", bobOpen, fmt.Sprintf("{peer: '%s', seq: %d, room: 'r', entry: '%s'}", aliceID, seqBefore, before))
	printsLine(t, "bob's read --open", bobOpen, sealedLine(seqAfter))
	noWords(t, "bob's read --open", bobOpen, after)
	for _, open := range []bool{false, true} {
		out := readOut(t, l.db(2), open)
		what := fmt.Sprintf("carol's read (open %v)", open)
		printsLine(t, what, out, sealedLine(seqBefore))
		printsLine(t, what, out, sealedLine(seqAfter))
		noWords(t, what, out, before+" "+after)
	}
	checkFilesLack(t, l.db(2), "public after the kick", strings.Fields(before+" "+after)...)
	checkFilesLack(t, l.db(1), "public after the kick", strings.Fields(after)...)
}

// TestChatPrivateOffline: bob is stopped; alice's /msg bob reaches carol,
// sealed; alice is stopped; bob, restarted naming only carol, prints it:
// it came through carol, who could not read it.
func TestChatPrivateOffline(t *testing.T) {
	l := newPrivateLab(t)
	a, c := l.procs[0], l.procs[2]
	history := l.everyoneSays()
	l.stop(1)
	a.expect("info> lost connection to bob")

	secret := words("o", 6)
	a.say("/msg bob " + secret)
	a.expect("alice → bob> " + secret)
	// alice's next line comes after it in her log: once carol prints
	// it, she holds the sealed entry.
	a.say("public while bob is away")
	a.expect("alice> public while bob is away")
	c.expect("alice> public while bob is away")
	l.stop(0)
	c.expect("info> lost connection to alice")

	b := l.start(1, "carol")
	b.expect(slices.Concat(history, []string{"alice> public while bob is away", "alice → bob> " + secret})...)
	if slices.Contains(b.seen, "info> direct connection to alice") {
		t.Errorf("bob connected to alice, who was stopped: %q", b.seen)
	}
	noWords(t, "carol's output", strings.Join(c.seen, "\n"), secret)
	l.stopAll()

	id, seq := sealedSeq(t, l.db(0), secret)
	printsLine(t, "carol's read --open", readOut(t, l.db(2), true), fmt.Sprintf("{peer: '%s', seq: %d, sealed: true}", id, seq))
	checkFilesLack(t, l.db(2), "public while bob is away", strings.Fields(secret)...)
}
