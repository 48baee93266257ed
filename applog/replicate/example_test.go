package replicate_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"sync"

	"scuttle/applog"
	"scuttle/applog/replicate"
)

// Two databases replicate over one connection; an entry appended to one
// shows up in the other.
func Example() {
	dir, err := os.MkdirTemp("", "replicate-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	alice, err := applog.Open(dir+"/alice", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer alice.Close()
	bob, err := applog.Open(dir+"/bob", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer bob.Close()

	// In scuttle the topology package dials, handshakes and then hands
	// the connection to Serve; a pipe does here.
	ca, cb := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { replicate.Serve(ctx, ca, replicate.FromDB(alice), nil) })
	wg.Go(func() { replicate.Serve(ctx, cb, replicate.FromDB(bob), nil) })

	seq, err := alice.Append([]byte("hello bob"))
	if err != nil {
		log.Fatal(err)
	}
	for {
		changed := bob.Changed() // before the check, so no insert is missed
		if bob.Head(alice.ID()) >= seq {
			break
		}
		<-changed
	}
	e, err := bob.Get(alice.ID(), seq)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("bob holds alice's entry %d: %s\n", e.Seq, e.Data)

	cancel()
	wg.Wait()
	// Output: bob holds alice's entry 1: hello bob
}
