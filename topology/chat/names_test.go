package chat

import (
	"errors"
	"net"
	"strings"
	"testing"

	"scuttle/applog"
	"scuttle/applog/names"
)

// TestAuthorize calls authorize as the swarm will, in both directions,
// and checks each verdict, the bindings it makes and the exact lines it
// prints: one per (name, key) per run, however often a peer redials.
func TestAuthorize(t *testing.T) {
	dir := t.TempDir()
	db := newTestDB(t)
	ns, err := names.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := newLineWriter()
	c := New(Config{Me: "alice", Peers: []string{"carol"}, DB: db, Names: ns, Out: out})
	k1, k2, k3, k4, k5 := newTestDB(t).ID(), newTestDB(t).ID(), newTestDB(t).ID(), newTestDB(t).ID(), newTestDB(t).ID()
	lan := &net.TCPAddr{IP: net.IPv4(10, 99, 0, 4), Port: 4000}
	v6 := &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 4000, Zone: "lan0"}
	refusedLine := func(name, host string, key, bound applog.ID) string {
		return "info> refused " + name + " at " + host + ": key " + key.Short() + " is not the " + name + " you know (" + bound.Short() + "); to accept it: scuttle trust " + name + " " + string(key)
	}
	tests := []struct {
		name            string
		claimed, target string
		key             applog.ID
		remote          net.Addr
		dialed          bool
		ok              bool
		printed         string // the line printed, "" for none
	}{
		{"accepted, new name: bound", "bob", "", k1, lan, false, true, ""},
		{"accepted, same key", "bob", "", k1, lan, false, true, ""},
		{"accepted, other key", "bob", "", k2, lan, false, false, refusedLine("bob", "10.99.0.4", k2, k1)},
		{"accepted, other key again: not printed again", "bob", "", k2, lan, false, false, ""},
		{"case does not make another name", "BOB", "", k2, lan, false, false, ""},
		{"dialled NAME the user gave, new: bound to the target", "bob", "carol", k2, lan, true, true, ""},
		{"dialled NAME the user gave: the target is judged", "robert", "carol", k3, v6, true, false, refusedLine("carol", "fe80::1", k3, k2)},
		{"dialled NAME the user gave, other key", "carol", "carol", k3, v6, true, false, ""},
		{"accepted as a NAME the user gave, proven before", "carol", "", k2, lan, false, true, ""},
		{"dialled NAME discovery found: the given name is judged", "robert", "dave", k4, lan, true, true, ""},
		{"dialled HOST:PORT: the claimed name is judged", "bob", "10.99.0.4:4000", k3, lan, true, false, refusedLine("bob", "10.99.0.4", k3, k1)},
		{"the own name", "alice", "", k3, lan, false, true, ""}, // unbound here: this chat did not bindSelf
		{"no name", "", "", k3, lan, false, false, `info> refused a peer at 10.99.0.4 with key ` + k3.Short() + `: mdns: bad name "": empty`},
		{"a name no chat can have", "a.b", "", k3, lan, false, false, `info> refused a peer at 10.99.0.4 with key ` + k3.Short() + `: mdns: bad name "a.b": '.' at offset 1: a name is one DNS label, with no dots, spaces, control characters or backslashes`},
		{"not a key", "dave", "", "nope", lan, false, false, ""},
		{"no address", "bob", "", k4, nil, false, false, refusedLine("bob", "an unknown address", k4, k1)},
		{"a C1 control in the name", "c\u009b", "", k1, lan, false, false, `info> refused a peer at 10.99.0.4 with key ` + k1.Short() + `: mdns: bad name "c\u009b": U+009B at offset 1: a name has no invisible, bidi, blank or control characters`},
		{"a fourth key as bob (a look-alike): counted, not printed", "bоb", "", k5, lan, false, false, ""},
	}
	for _, tt := range tests {
		err := c.authorize(tt.claimed, tt.target, tt.key, tt.remote, tt.dialed)
		if (err == nil) != tt.ok {
			t.Errorf("%s: authorize = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, errRefused) {
			t.Errorf("%s: %v does not wrap errRefused", tt.name, err)
		}
		var got string
		select {
		case got = <-out.lines:
		default:
		}
		if got != tt.printed {
			t.Errorf("%s: printed %q, want %q", tt.name, got, tt.printed)
		}
	}
	want := map[string]string{"alice": "direct " + string(k3), "bob": "direct " + string(k1), "carol": "named " + string(k2), "robert": "direct " + string(k4)}
	checkBindings(t, ns, want)
	// scuttle trust from another process: the next authorization applies it.
	other, err := names.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Bind("bob", k2, names.Trusted); err != nil {
		t.Fatal(err)
	}
	if err := c.authorize("bob", "", k2, lan, false); err != nil {
		t.Errorf("after trust bob k2: %v", err)
	}
	if err := c.authorize("bob", "", k1, lan, false); err == nil {
		t.Error("after trust bob k2, the old key k1 is still accepted")
	}
	if got := <-out.lines; got != refusedLine("bob", "10.99.0.4", k1, k2) {
		t.Errorf("printed %q, want %q", got, refusedLine("bob", "10.99.0.4", k1, k2))
	}
	if s := out.String(); strings.Count(s, "\n") != 8 {
		t.Errorf("%d lines printed in all, want 8:\n%s", strings.Count(s, "\n"), s)
	}
}

// TestAuthorizeRefusalsBounded: a peer that makes up keys cannot grow
// the memory of refusals past maxRefusals.
func TestAuthorizeRefusalsBounded(t *testing.T) {
	db := newTestDB(t)
	ns, err := names.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := New(Config{Me: "alice", DB: db, Names: ns, Out: discardLines{}})
	if err := c.authorize("bob", "", db.ID(), nil, false); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	for i := range maxRefusals + 10 {
		key[0], key[1] = byte(i), byte(i>>8)
		c.authorize("bob", "", applog.IDOf(key), nil, false)
	}
	if n := len(c.refused.seen); n > maxRefusals {
		t.Errorf("%d refusals remembered, max %d", n, maxRefusals)
	}
}

type discardLines struct{}

func (discardLines) Write(b []byte) (int, error) { return len(b), nil }

func TestPeerName(t *testing.T) {
	db := newTestDB(t)
	ns, err := names.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := New(Config{Me: "alice", DB: db, Names: ns, Out: discardLines{}})
	k1, k2 := newTestDB(t).ID(), newTestDB(t).ID()
	ns.Bind("bob", k1, names.Direct)
	ns.Bind("robert", k2, names.Direct)
	tests := []struct {
		claimed string
		id      applog.ID
		want    string
	}{
		{"bob", k1, "bob"},
		{"robert", k1, "bob"}, // the bound name, not the claim
		{"bob", k2, "robert"}, // k2 is robert here
		{"carol", db.ID(), "carol~" + db.ID().Short()},
		{"", db.ID(), db.ID().Short()},
	}
	for _, tt := range tests {
		if got := c.peerName(tt.claimed, tt.id); got != tt.want {
			t.Errorf("peerName(%q, %s) = %q, want %q", tt.claimed, tt.id.Short(), got, tt.want)
		}
	}
}
