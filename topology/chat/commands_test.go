package chat

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/mdns"
	"scuttle/topology"
	"scuttle/topology/testkit"
)

// typeLine types line into u's chat through Type.
func (u *unitChat) typeLine(line string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.t.Context(), testkit.ChatWait)
	defer cancel()
	if err := u.c.Type(ctx, line); err != nil {
		u.t.Fatalf("%s: Type(%q): %v", u.name, line, err)
	}
}

// expectNext waits for the next lines of output and fails the test
// unless they are want, exactly and in order.
func (u *unitChat) expectNext(want ...string) {
	u.t.Helper()
	deadline := time.After(testkit.ChatWait)
	var got []string
	for len(got) < len(want) {
		select {
		case l := <-u.out.lines:
			got = append(got, l)
			u.seen = append(u.seen, l)
		case <-deadline:
			u.t.Fatalf("%s: %d lines within %v: %q, want %q", u.name, len(got), testkit.ChatWait, got, want)
		}
	}
	if !slices.Equal(got, want) {
		u.t.Fatalf("%s printed\n%s\nwant\n%s", u.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// wantHelp is what /help prints.
var wantHelp = []string{
	"info> /help: list the commands",
	"info> /who: who is connected now, and who was seen this run and when",
	"info> /names: the names this chat knows, the log each is bound to, and how it was learned",
	"info> /trust NAME ID: bind NAME to the log ID, replacing what the chat knew (as scuttle trust)",
	"info> /block NAME: delete the log bound to NAME (or the log ID) and refuse it from every peer from now on (as scuttle block)",
	"info> /msg NAME TEXT...: send TEXT to NAME alone, sealed to NAME's encryption key: both see it as you → NAME> TEXT",
	"info> /join [#ROOM]: make the private room #ROOM, or go to it if you are a member: your lines go to it; /join alone: back to the public room",
	"info> /invite NAME: give NAME the key of the room you are in",
	"info> /kick NAME: give the room you are in a new key, without NAME: NAME reads nothing written after",
	"info> /leave: stop showing the room you are in, for this run, and go back to the public room",
	"info> /rooms: the private rooms you hold a key of, and their members",
	"info> /send PATH...: share the file at PATH where your lines go (the public room, or the room you are in, sealed); it shows as [file] NAME (SIZE) ID",
	"info> /get ID: fetch the file of content id ID from the peers that hold it; scuttle get ID writes it out",
	"info> /quit: send the lines typed before, and end the chat",
	"info> //TEXT: send a line that starts with /",
}

// TestUnitChatCommands: each command typed through the pipe prints
// exactly its info lines and sends nothing; an unknown command or one
// with the wrong arguments says so in one line; "//" sends the line
// from its second "/". bob sees only the two messages.
func TestUnitChatCommands(t *testing.T) {
	fn := newFakeNet()
	clock := &fakeClock{now: time.Date(2026, 12, 6, 18, 30, 0, 0, time.Local)}
	a := startUnitChatWith(t, fn, nil, nil, func(c *Chat) { c.clock = clock.get }, "", "alice", "bob")
	b := startUnitChat(t, fn, "", "bob", "alice")
	a.expect("info> direct connection to bob")
	b.expect("info> direct connection to alice")
	aID, bID := a.db.ID(), b.db.ID()
	carol, dave := newTestDB(t).ID(), newTestDB(t).ID()

	a.say("/help")
	a.expectNext(wantHelp...)

	a.say("/who")
	a.expectNext("info> bob connected since 18:30")

	a.say("/names")
	lines := []string{"info> alice " + string(aID) + " named (you)", "info> bob " + string(bID) + " named"}
	a.expectNext(lines...)

	a.say("/trust carol " + string(carol))
	a.expectNext("info> carol is " + string(carol) + " (trusted)")
	was, _ := a.names.Lookup("carol")
	a.say("/trust Carol " + string(dave))
	a.expectNext(fmt.Sprintf("info> Carol is now %s (trusted), was %s (trusted since %s)", dave, carol, was.Time.UTC().Format(time.RFC3339)))
	if b, _ := a.names.Lookup("carol"); b.ID != dave || b.How != names.Trusted {
		t.Errorf("carol bound to %v after /trust", b)
	}

	a.say("/block carol")
	a.expectNext("info> blocked Carol " + string(dave) + ": its entries are deleted within a second, and it is refused from every peer from now on; scuttle unblock undoes it")
	if !a.db.Blocked(dave) {
		t.Errorf("dave's log is not blocked after /block carol")
	}
	a.say("/block alice")
	a.expectNext(fmt.Sprintf("info> /block: applog: the database's own log %s: not blocked", aID))
	a.say("/block " + string(carol))
	a.expectNext("info> blocked " + string(carol) + ": its entries are deleted within a second, and it is refused from every peer from now on; scuttle unblock undoes it")

	for _, tt := range []struct{ typed, want string }{
		{"/block nobody", "info> /block: no log is bound to nobody; /names lists the names"},
		{"/trust carol", "info> usage: /trust NAME ID"},
		{"/trust carol x y", "info> usage: /trust NAME ID"},
		{"/trust ca\x1brol " + string(carol), "info> /trust: " + Escape(mdns.CheckName("ca\x1brol").Error())},
		{"/trust carol nonsense", "info> /trust: " + Escape(parseIDErr("nonsense"))},
		{"/who am i", "info> usage: /who"},
		{"/nosuch thing", "info> unknown command /nosuch: not sent; /help lists the commands, //nosuch sends the line"},
		{"/", "info> unknown command /: not sent; /help lists the commands, // sends the line"},
		{"/\x1b[2J", `info> unknown command /\x1b[2J: not sent; /help lists the commands, //\x1b[2J sends the line`},
	} {
		a.say(tt.typed)
		a.expectNext(tt.want)
	}

	a.say("//nosuch thing")
	a.expectNext("alice> /nosuch thing")
	b.expect("alice> /nosuch thing")
	a.say("last")
	a.expectNext("alice> last")
	b.expectNext("alice> last") // nothing between: no command reached bob
	a.stop(fn)
	b.stop(fn)
}

// parseIDErr is applog.ParseID's error for s.
func parseIDErr(s string) string {
	_, err := applog.ParseID(s)
	return err.Error()
}

// TestUnitChatQuit: /quit ends the chat as an interrupt does (Run
// returns nil) once the lines typed before it are stored; the lines
// after it are neither sent nor stored, and Type is refused from then on.
func TestUnitChatQuit(t *testing.T) {
	fn := newFakeNet()
	a := startUnitChat(t, fn, "", "alice")
	if _, err := a.in.Write([]byte("before\n/quit\nafter\n")); err != nil {
		t.Fatal(err)
	}
	if err := await(t, a.done, "the chat's end after /quit"); err != nil {
		t.Errorf("Run after /quit: %v, want nil", err)
	}
	a.cancel()
	a.cancel = nil // stopped
	a.in.Close()
	defer a.db.Close()
	own := a.db.ID()
	if h := a.db.Head(own); h != 1 {
		t.Fatalf("own log holds %d entries after /quit, want 1", h)
	}
	e, err := a.db.Get(own, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"username":"alice","message":"before"}`; string(e.Data) != want {
		t.Errorf("stored %q, want %q", e.Data, want)
	}
	if err := a.c.Type(t.Context(), "too late"); err != ErrEnded {
		t.Errorf("Type after /quit: %v, want ErrEnded", err)
	}
}

// TestUnitChatType: Type before Run waits for it, then types each line
// of what it is given, commands too; a line too long for a message is
// refused whole at once.
func TestUnitChatType(t *testing.T) {
	idle := newIdleChat()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := idle.Type(ctx, "hi"); err != context.DeadlineExceeded {
		t.Errorf("Type on a chat not run: %v, want it to wait until its context ends", err)
	}
	if n := len(idle.typed); n != 0 {
		t.Errorf("%d lines queued by a Type that gave up", n)
	}
	if err := idle.Type(t.Context(), "ok\n"+strings.Repeat("x", maxMessage+1)); err != errLineTooLong {
		t.Errorf("Type of a line too long: %v, want errLineTooLong", err)
	}

	fn := newFakeNet()
	typed := make(chan error, 1)
	a := startUnitChatWith(t, fn, nil, nil, func(c *Chat) {
		go func() { typed <- c.Type(t.Context(), "early\r\n\n/who\nsecond") }()
	}, "", "alice")
	if err := await(t, typed, "Type's return"); err != nil {
		t.Fatalf("Type: %v", err)
	}
	a.expect("alice> early", "info> no peer connected or seen this run", "alice> second")
	a.stop(fn)
	if err := a.c.Type(t.Context(), "late"); err != ErrEnded {
		t.Errorf("Type after the end: %v, want ErrEnded", err)
	}
}

// TestComplete: commands complete from "/", names from the names bound
// by a connection or by trust and the peers' names, regardless of ASCII
// case; never a name only claimed, nor NAME~SHORT.
func TestComplete(t *testing.T) {
	ns, err := names.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := func(c byte) applog.ID { return applog.IDOf([]byte(strings.Repeat(string(c), 32))) }
	for _, b := range []struct {
		name string
		id   applog.ID
		how  names.How
	}{{"alice", id('a'), names.Direct}, {"bob", id('b'), names.Direct}, {"Bobby", id('c'), names.Trusted}, {"bobcat", id('d'), names.Claimed}} {
		if _, err := ns.Bind(b.name, b.id, b.how); err != nil {
			t.Fatal(err)
		}
	}
	c := New(Config{Me: "alice", Names: ns})
	now := time.Now()
	c.presence.note(topology.Connected, id('e'), "boris", now)
	c.presence.note(topology.Connected, id('f'), "bob~"+id('f').Short(), now)
	for _, tt := range []struct {
		prefix string
		want   []string
	}{
		{"/", []string{"/block", "/get", "/help", "/invite", "/join", "/kick", "/leave", "/msg", "/names", "/quit", "/rooms", "/send", "/trust", "/who"}},
		{"/he", []string{"/help"}},
		{"/help", []string{"/help"}},
		{"/x", nil},
		{"//", nil},
		{"b", []string{"Bobby", "bob", "boris"}},
		{"BOB", []string{"Bobby", "bob"}},
		{"bobc", nil},
		{"", []string{"Bobby", "alice", "bob", "boris"}},
	} {
		if got := c.Complete(tt.prefix); !slices.Equal(got, tt.want) {
			t.Errorf("Complete(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

// TestParseTyped: what a typed line means.
func TestParseTyped(t *testing.T) {
	tests := []struct {
		line string
		want typedLine
	}{
		{"hello", typedLine{text: "hello"}},
		{" /help", typedLine{text: " /help"}},
		{"//help", typedLine{text: "/help"}},
		{"//", typedLine{text: "/"}},
		{"/", typedLine{command: true}},
		{"/help", typedLine{command: true, name: "help"}},
		{"/trust  bob\tID  ", typedLine{command: true, name: "trust", rest: "bob\tID"}},
		{"/trust\tbob", typedLine{command: true, name: "trust", rest: "bob"}},
		{"/ trust", typedLine{command: true, rest: "trust"}},
	}
	for _, tt := range tests {
		if got := parseTyped(tt.line); got != tt.want {
			t.Errorf("parseTyped(%q) = %+v, want %+v", tt.line, got, tt.want)
		}
	}
}

// TestSplitArgs: a command's arguments, and one that takes the rest of
// the line (as /msg NAME TEXT... will).
func TestSplitArgs(t *testing.T) {
	tests := []struct {
		rest, args string
		want       []string
		ok         bool
	}{
		{"", "", nil, true},
		{"x", "", []string{"x"}, false},
		{"bob ID", "NAME ID", []string{"bob", "ID"}, true},
		{"bob", "NAME ID", []string{"bob"}, false},
		{"bob  hello  there ", "NAME TEXT...", []string{"bob", "hello  there"}, true},
		{"bob", "NAME TEXT...", nil, false},
		{"bob ", "NAME TEXT...", []string{"bob", ""}, false},
		{"hello there", "TEXT...", []string{"hello there"}, true},
	}
	for _, tt := range tests {
		got, ok := splitArgs(tt.rest, tt.args)
		if ok != tt.ok || ok && !slices.Equal(got, tt.want) {
			t.Errorf("splitArgs(%q, %q) = %q, %v, want %q, %v", tt.rest, tt.args, got, ok, tt.want, tt.ok)
		}
	}
}
