package seal

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"

	"scuttle/applog"
)

func TestRoundTrip(t *testing.T) {
	us := newUsers(t, 4)
	alice, others := us[0], us[1:]
	ctx := Context{Author: alice.id, Network: NetworkID([]byte("0123456789abcdef0123456789abcdef"))}
	for _, tc := range []struct {
		name string
		to   []user
		text string
	}{
		{"to self only", nil, "note to self"},
		{"one", others[:1], "hello bob"},
		{"three", others, "hello all"},
		{"empty text", others[:1], ""},
		{"recipient twice and the author among them", []user{others[0], others[0], alice}, "once each"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Seal(ctx, alice.key, recipients(tc.to...), []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			var wantRcpts []applog.ID
			for _, u := range tc.to {
				if u.id != alice.id && !slices.Contains(wantRcpts, u.id) {
					wantRcpts = append(wantRcpts, u.id)
				}
			}
			h, err := ParseHeader(p)
			if err != nil {
				t.Fatal(err)
			}
			if h.Kind != Direct || h.Stanzas != len(wantRcpts)+1 || !h.Sender.Equal(alice.key.Public()) {
				t.Errorf("header %+v, want direct with %d stanzas from alice's key", h, len(wantRcpts)+1)
			}
			for _, u := range append([]user{alice}, tc.to...) {
				m, err := Open(p, ctx, u.key)
				if err != nil {
					t.Fatalf("open by %s: %v", u.id[:8], err)
				}
				if m.Kind != Direct || string(m.Text) != tc.text || !slices.Equal(m.Recipients, wantRcpts) || m.RoomKey != nil {
					t.Errorf("open by %s: got %+v, want text %q to %v", u.id[:8], m, tc.text, wantRcpts)
				}
			}
		})
	}
}

func TestNonRecipientCannotOpen(t *testing.T) {
	us := newUsers(t, 4)
	alice, bob, carol, dave := us[0], us[1], us[2], us[3]
	ctx := Context{Author: alice.id}
	p, err := Seal(ctx, alice.key, recipients(bob, carol), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(p, ctx, dave.key); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("open by a non-recipient: %v, want ErrNotForMe", err)
	}
	if n := dave.key.opens.Load(); n != 0 {
		t.Errorf("a non-recipient made %d HPKE opens, want 0", n)
	}
	if bytes.Contains(p, []byte("secret")) {
		t.Error("the payload holds the plaintext")
	}
	// A room key never opens a direct payload, whatever it is.
	r, _ := NewRoom("r")
	if _, err := Open(p, ctx, r); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("open with a room key: %v, want ErrNotForMe", err)
	}
}

// TestRecognitionOpensOne: a recipient finds its stanza by its tag
// among 100 and opens it alone: one HPKE open, whatever its position.
func TestRecognitionOpensOne(t *testing.T) {
	us := newUsers(t, 101)
	alice, rs := us[0], us[1:]
	ctx := Context{Author: alice.id}
	p, err := Seal(ctx, alice.key, recipients(rs...), []byte("to a hundred"))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 49, 99} {
		u := rs[i]
		before := u.key.opens.Load()
		if _, err := Open(p, ctx, u.key); err != nil {
			t.Fatalf("recipient %d: %v", i, err)
		}
		if n := u.key.opens.Load() - before; n != 1 {
			t.Errorf("recipient %d made %d HPKE opens, want 1", i, n)
		}
	}
	// With two generations, the old one first, still one open.
	old := newUser(t).key
	before := rs[3].key.opens.Load()
	if _, err := Open(p, ctx, old, rs[3].key); err != nil {
		t.Fatal(err)
	}
	if n := old.opens.Load(); n != 0 {
		t.Errorf("a key not sealed to made %d HPKE opens, want 0", n)
	}
	if n := rs[3].key.opens.Load() - before; n != 1 {
		t.Errorf("the key sealed to made %d HPKE opens, want 1", n)
	}
}

// TestReplayRefused: a payload opened as an entry of another log, in
// another network, or as a line of another room (or epoch) is refused.
func TestReplayRefused(t *testing.T) {
	us := newUsers(t, 3)
	alice, bob, mallory := us[0], us[1], us[2]
	netA, netB := NetworkID([]byte("network A key, 32 bytes long...")), NetworkID([]byte("network B key, 32 bytes long..."))
	ctx := Context{Author: alice.id, Network: netA}
	p, err := Seal(ctx, alice.key, recipients(bob), []byte("for bob, from alice, in A"))
	if err != nil {
		t.Fatal(err)
	}
	room, _ := NewRoom("ops")
	line, err := SealLine(ctx, room, []byte("a line of #ops"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewRoom("ops") // same name, another room
	rotated := room.Rotate()
	sameKeyOtherRoom := &Room{ID: other.ID, Name: room.Name, key: room.key}
	sameKeyOtherEpoch := &Room{ID: room.ID, Epoch: 1, Name: room.Name, key: room.key}
	for _, tc := range []struct {
		name    string
		payload []byte
		ctx     Context
		id      Identity
		want    error
	}{
		{"direct into another log", p, Context{Author: mallory.id, Network: netA}, bob.key, ErrTampered},
		{"direct into another network", p, Context{Author: alice.id, Network: netB}, bob.key, ErrTampered},
		{"direct into the public network", p, Context{Author: alice.id}, bob.key, ErrTampered},
		{"line into another log", line, Context{Author: mallory.id, Network: netA}, room, ErrTampered},
		{"line into another network", line, Context{Author: alice.id, Network: netB}, room, ErrTampered},
		{"line into another room", line, ctx, other, ErrNotForMe},
		{"line into the next epoch", line, ctx, rotated, ErrNotForMe},
		{"line under another room's ID, same key", line, ctx, sameKeyOtherRoom, ErrNotForMe},
		{"line under another epoch, same key", line, ctx, sameKeyOtherEpoch, ErrNotForMe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Open(tc.payload, tc.ctx, tc.id)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: %v, %v; want %v", m, err, tc.want)
			}
		})
	}
	// And in its own context, each opens.
	if _, err := Open(p, ctx, bob.key); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(line, ctx, room); err != nil {
		t.Fatal(err)
	}
}

// TestTamperedRefused: changing any one byte of a payload, or cutting
// or extending it, makes Open fail; it never yields a message.
func TestTamperedRefused(t *testing.T) {
	us := newUsers(t, 2)
	alice, bob := us[0], us[1]
	ctx := Context{Author: alice.id}
	direct, err := Seal(ctx, alice.key, recipients(bob), []byte("do not change me"))
	if err != nil {
		t.Fatal(err)
	}
	room, _ := NewRoom("r")
	line, err := SealLine(ctx, room, []byte("nor me"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		id      Identity
	}{
		{"direct", direct, bob.key},
		{"room line", line, room},
	} {
		t.Run(tc.name, func(t *testing.T) {
			try := func(what string, b []byte) {
				if m, err := Open(b, ctx, tc.id); err == nil {
					t.Errorf("%s: opened into %q", what, m.Text)
				}
			}
			for i := range tc.payload {
				for _, bit := range []byte{0x01, 0x80} {
					b := bytes.Clone(tc.payload)
					b[i] ^= bit
					try("byte "+strconv.Itoa(i), b)
				}
			}
			try("cut by one", tc.payload[:len(tc.payload)-1])
			try("one more byte", append(bytes.Clone(tc.payload), 0))
		})
	}
}

// TestKickRotation: after a rotation given to the remaining members, the
// removed member opens neither the new key nor a line sealed with it,
// though it still holds the old key; the others read on.
func TestKickRotation(t *testing.T) {
	us := newUsers(t, 3)
	alice, bob, carol := us[0], us[1], us[2]
	ctx := Context{Author: alice.id}
	r0, err := NewRoom("ops")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Invite(ctx, alice.key, recipients(bob, carol), r0)
	if err != nil {
		t.Fatal(err)
	}
	held := map[applog.ID][]Identity{}
	for _, u := range us {
		m, err := Open(inv, ctx, u.key)
		if err != nil {
			t.Fatalf("%s opens the invitation: %v", u.id[:8], err)
		}
		if m.RoomKey == nil || m.RoomKey.ID != r0.ID || m.RoomKey.Epoch != 0 || m.RoomKey.Name != "ops" || m.Text != nil {
			t.Fatalf("invitation opened into %+v", m)
		}
		if !slices.Equal(m.Recipients, []applog.ID{bob.id, carol.id}) {
			t.Errorf("members %v, want bob and carol", m.Recipients)
		}
		held[u.id] = append(held[u.id], m.RoomKey)
	}
	before, _ := SealLine(ctx, r0, []byte("before the kick"))
	for _, u := range us {
		if m, err := Open(before, ctx, held[u.id]...); err != nil || string(m.Text) != "before the kick" {
			t.Fatalf("%s reads the line before the kick: %v, %v", u.id[:8], m, err)
		}
	}

	r1 := r0.Rotate() // kick carol
	rot, err := Invite(ctx, alice.key, recipients(bob), r1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(rot, ctx, carol.key); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("carol opens the new key: %v, want ErrNotForMe", err)
	}
	m, err := Open(rot, ctx, bob.key)
	if err != nil || m.RoomKey == nil || m.RoomKey.Epoch != 1 || m.RoomKey.ID != r0.ID {
		t.Fatalf("bob opens the new key: %+v, %v", m, err)
	}
	held[bob.id] = append(held[bob.id], m.RoomKey)

	after, _ := SealLine(ctx, r1, []byte("after the kick"))
	if _, err := Open(after, ctx, held[carol.id]...); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("carol opens a line after the kick: %v, want ErrNotForMe", err)
	}
	for _, id := range []Identity{r1, held[bob.id][1]} {
		if m, err := Open(after, ctx, id); err != nil || string(m.Text) != "after the kick" || m.Room.Epoch != 1 {
			t.Fatalf("a remaining member reads the line after: %+v, %v", m, err)
		}
	}
	// Bob, holding both epochs, still reads the line before.
	if m, err := Open(before, ctx, held[bob.id]...); err != nil || m.Room.Epoch != 0 {
		t.Fatalf("bob reads the line before the kick: %+v, %v", m, err)
	}
}

// TestNoRecipientInClear: a payload holds neither a recipient's log key
// nor its encryption key, and two messages to the same recipient share
// no tag, so an outsider cannot tell who they are for, nor that they go
// to the same person.
func TestNoRecipientInClear(t *testing.T) {
	us := newUsers(t, 2)
	alice, bob := us[0], us[1]
	ctx := Context{Author: alice.id}
	p1, err := Seal(ctx, alice.key, recipients(bob), []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Seal(ctx, alice.key, recipients(bob), []byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	bobLog, _ := bob.id.PublicKey()
	for _, p := range [][]byte{p1, p2} {
		if bytes.Contains(p, bobLog) || bytes.Contains(p, bob.key.Public().Bytes()) {
			t.Fatal("a payload holds bob's key")
		}
	}
	e1, _ := parse(p1)
	e2, _ := parse(p2)
	for i := range e1.count() {
		t1, _ := e1.stanza(i)
		for j := range e2.count() {
			if t2, _ := e2.stanza(j); bytes.Equal(t1, t2) {
				t.Errorf("stanza %d of one message and %d of the other share the tag %x", i, j, t1)
			}
		}
	}
	if bytes.Equal(e1.nonce, e2.nonce) {
		t.Error("two messages share a nonce")
	}
}

// TestConcurrentOpen: a key and a room are used by several goroutines at
// once (run with -race).
func TestConcurrentOpen(t *testing.T) {
	us := newUsers(t, 2)
	ctx := Context{Author: us[0].id}
	room, _ := NewRoom("r")
	var ps [][]byte
	for i := range 8 {
		p, err := Seal(ctx, us[0].key, recipients(us[1]), []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		l, _ := SealLine(ctx, room, []byte{byte(i)})
		ps = append(ps, p, l)
	}
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			if _, err := Open(p, ctx, us[1].key, room); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestParseHeaderBounds: every length a payload states is checked
// before it is used.
func TestParseHeaderBounds(t *testing.T) {
	us := newUsers(t, 2)
	ctx := Context{Author: us[0].id}
	p, err := Seal(ctx, us[0].key, recipients(us[1]), nil)
	if err != nil {
		t.Fatal(err)
	}
	headerEnd := offStanza + 2*stanzaSize // the author's stanza and the recipient's
	with := func(i int, v byte) []byte { b := bytes.Clone(p); b[i] = v; return b }
	for _, tc := range []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"as sealed", p, true},
		{"no stanza", with(offCount, 0), false},
		{"more stanzas than bytes", with(offCount, 3), false},
		{"255 stanzas, too short", with(offCount, 255), false},
		{"version 2", with(len(magic), 2), false},
		{"kind 3", with(offKind, 3), false},
		{"cut into the body's tag", p[:headerEnd+aeadOver-1], false},
		{"the magic only", []byte(magic + "\x01"), false},
		{"room line, no body", append([]byte(magic+"\x01\x02"), make([]byte, nonceSize+tagSize+aeadOver-1)...), false},
		{"room line, empty body", append([]byte(magic+"\x01\x02"), make([]byte, nonceSize+tagSize+aeadOver)...), true},
		{"longer than an entry", append(bytes.Clone(p), make([]byte, MaxPayload)...), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHeader(tc.b)
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseHeader: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
