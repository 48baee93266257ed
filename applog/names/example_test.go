package names_test

import (
	"crypto/ed25519"
	"fmt"
	"log"
	"os"

	"scuttle/applog"
	"scuttle/applog/names"
)

func Example() {
	dir, err := os.MkdirTemp("", "names-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bob := applog.IDOf(ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey))
	mallory := applog.IDOf(make(ed25519.PublicKey, 32))

	s, err := names.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	// Trust on first use: the first key seen for bob is bob.
	s.Bind("bob", bob, names.Direct)
	b, _ := s.Bind("bob", mallory, names.Direct)
	fmt.Println("bob is", b.ID.Short(), b.How, b.ID == bob)

	// Only the user changes it, and another process sees the change.
	other, _ := names.Open(dir, nil)
	other.Bind("bob", mallory, names.Trusted)
	s.Reload()
	b, _ = s.Lookup("BOB")
	fmt.Println("bob is", b.ID.Short(), b.How, b.ID == mallory)
	// Output:
	// bob is hnvcppgo direct true
	// bob is aaaaaaaa trusted true
}
