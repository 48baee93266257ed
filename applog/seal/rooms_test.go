package seal

import (
	"slices"
	"testing"

	"scuttle/applog"
)

// TestRooms: a room is learned from its invitation, follows its
// rotations (newest key, members as listed), keeps every epoch to read
// history, and holds no more keys than its bound.
func TestRooms(t *testing.T) {
	us := newUsers(t, 4)
	alice, bob, carol, dave := us[0], us[1], us[2], us[3]
	ctx := Context{Author: alice.id}
	open := func(p []byte, err error) *Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		m, err := Open(p, ctx, bob.key)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	r0, _ := NewRoom("ops")
	rs := NewRooms(3)
	if !rs.Learn(alice.id, open(Invite(ctx, alice.key, recipients(bob), r0))) {
		t.Fatal("the invitation was not learned")
	}
	// Carol is invited: every member gets the key again, with the list.
	if rs.Learn(alice.id, open(Invite(ctx, alice.key, recipients(bob, carol), r0))) {
		t.Error("a key already held was new")
	}
	ri, ok := rs.Room(r0.ID)
	if !ok || ri.Current.Epoch != 0 || !slices.Equal(ri.Members, []applog.ID{alice.id, bob.id, carol.id}) {
		t.Fatalf("after the second invitation: %+v", ri)
	}
	old, _ := SealLine(ctx, r0, []byte("old"))
	// Carol is kicked.
	r1 := r0.Rotate()
	if !rs.Learn(alice.id, open(Invite(ctx, alice.key, recipients(bob), r1))) {
		t.Fatal("the rotation was not learned")
	}
	ri, _ = rs.Room(r0.ID)
	if ri.Current.Epoch != 1 || !slices.Equal(ri.Members, []applog.ID{alice.id, bob.id}) {
		t.Fatalf("after the rotation: epoch %d, members %v", ri.Current.Epoch, ri.Members)
	}
	if m, err := Open(old, ctx, rs.Identities()...); err != nil || string(m.Text) != "old" {
		t.Fatalf("the line of epoch 0: %v, %v", m, err)
	}
	if got := rs.Named("ops"); len(got) != 1 || got[0].Current != ri.Current {
		t.Errorf("Named(ops): %+v", got)
	}
	other, _ := NewRoom("ops")
	rs.Learn(alice.id, open(Invite(ctx, alice.key, recipients(bob, dave), other)))
	if got := rs.Named("ops"); len(got) != 2 || rs.Len() != 3 {
		t.Errorf("two rooms named ops: %d, %d keys", len(got), rs.Len())
	}
	if rs.Learn(alice.id, open(Invite(ctx, alice.key, recipients(bob), r1.Rotate()))) || rs.Len() != 3 {
		t.Errorf("a key past the bound was learned: %d keys", rs.Len())
	}
	if len(rs.List()) != 2 {
		t.Errorf("List: %d rooms, want 2", len(rs.List()))
	}
}
