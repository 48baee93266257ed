package mdns_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"scuttle/mdns"
)

// Claim alice.local on the loopback interface and look it up. (Not run
// as a test: its output depends on the host.)
func Example() {
	ctx := context.Background()
	c, err := mdns.Listen(ctx, mdns.Config{Interfaces: []string{"lo"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close() // sends goodbyes

	if err := c.Register(ctx, "alice"); err != nil {
		log.Fatal(err) // e.g. mdns: alice.local is taken: host 10.0.0.7 answered on lo
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := c.LookupHost(ctx, "bob.local")
	if err != nil {
		log.Fatal(err) // lookup bob.local: no answer
	}
	for _, a := range addrs {
		fmt.Println(a)
	}
}
