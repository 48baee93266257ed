package seal_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"scuttle/applog"
	"scuttle/applog/seal"
)

// Alice seals a message to Bob as an entry of her log; Bob opens it with
// his key, and Carol, who is not a recipient, cannot.
func Example() {
	newID := func() applog.ID {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		return applog.IDOf(pub)
	}
	alice, bob := newID(), newID()
	aliceKey, _ := seal.GenerateKey()
	bobKey, _ := seal.GenerateKey()
	carolKey, _ := seal.GenerateKey()

	ctx := seal.Context{Author: alice} // an entry of alice's log, public network
	payload, err := seal.Seal(ctx, aliceKey, []seal.Recipient{{Log: bob, Key: bobKey.Public()}}, []byte("hello bob"))
	if err != nil {
		panic(err)
	}
	m, err := seal.Open(payload, ctx, bobKey)
	fmt.Printf("bob: %s, %v\n", m.Text, err)
	_, err = seal.Open(payload, ctx, carolKey)
	fmt.Println("carol:", err)
	// Output:
	// bob: hello bob, <nil>
	// carol: seal: not sealed to any of these keys
}

// Alice makes a room, gives its key to Bob and Carol, and writes a line;
// then she removes Carol: the key is rotated and given to Bob alone, and
// Carol cannot read the next line.
func ExampleRoom() {
	newID := func() applog.ID {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		return applog.IDOf(pub)
	}
	alice, bob, carol := newID(), newID(), newID()
	aliceKey, _ := seal.GenerateKey()
	bobKey, _ := seal.GenerateKey()
	carolKey, _ := seal.GenerateKey()
	ctx := seal.Context{Author: alice}

	room, _ := seal.NewRoom("ops")
	invite, _ := seal.Invite(ctx, aliceKey, []seal.Recipient{{Log: bob, Key: bobKey.Public()}, {Log: carol, Key: carolKey.Public()}}, room)
	bobRooms, carolRooms := seal.NewRooms(0), seal.NewRooms(0)
	m, _ := seal.Open(invite, ctx, bobKey)
	bobRooms.Learn(alice, m)
	m, _ = seal.Open(invite, ctx, carolKey)
	carolRooms.Learn(alice, m)

	line, _ := seal.SealLine(ctx, room, []byte("standup at ten"))
	m, _ = seal.Open(line, ctx, carolRooms.Identities()...)
	fmt.Printf("carol reads #%s: %s\n", m.Room.Name, m.Text)

	next := room.Rotate() // Carol is removed
	rotation, _ := seal.Invite(ctx, aliceKey, []seal.Recipient{{Log: bob, Key: bobKey.Public()}}, next)
	m, _ = seal.Open(rotation, ctx, bobKey)
	bobRooms.Learn(alice, m)
	_, err := seal.Open(rotation, ctx, carolKey)
	fmt.Println("carol opens the new key:", err)

	line, _ = seal.SealLine(ctx, next, []byte("carol is gone"))
	m, _ = seal.Open(line, ctx, bobRooms.Identities()...)
	fmt.Printf("bob reads #%s epoch %d: %s\n", m.Room.Name, m.Room.Epoch, m.Text)
	_, err = seal.Open(line, ctx, carolRooms.Identities()...)
	fmt.Println("carol reads it:", err)
	// Output:
	// carol reads #ops: standup at ten
	// carol opens the new key: seal: not sealed to any of these keys
	// bob reads #ops epoch 1: carol is gone
	// carol reads it: seal: not sealed to any of these keys
}
