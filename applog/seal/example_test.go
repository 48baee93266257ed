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
