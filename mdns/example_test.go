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

// Advertise alice's chat as the DNS-SD service alice._scuttle._tcp.local
// on port 4242, where avahi-browse -rt _scuttle._tcp and Bonjour
// browsers list it. (Not run as a test: it sends on the host's
// loopback.)
func ExampleConn_RegisterService() {
	ctx := context.Background()
	c, err := mdns.Listen(ctx, mdns.Config{Interfaces: []string{"lo"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close() // goodbyes for the service, then for the name

	if err := c.Register(ctx, "alice"); err != nil { // the SRV record's target
		log.Fatal(err)
	}
	err = c.RegisterService(ctx, mdns.Service{
		Instance: "alice",
		Type:     "_scuttle._tcp",
		Host:     "alice",
		Port:     4242,
		TXT:      []string{"id=0123abcd", "v=2"},
	})
	if err != nil {
		log.Fatal(err) // e.g. mdns: alice._scuttle._tcp.local is taken: host 10.0.0.7 answered on lo
	}
}

// List the scuttle peers of the network for two seconds, as they come
// and go; then find one peer's port.
func ExampleConn_Browse() {
	ctx := context.Background()
	c, err := mdns.Listen(ctx, mdns.Config{Interfaces: []string{"lo"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c.Browse(bctx, "_scuttle._tcp", func(e mdns.ServiceEntry) {
		if e.Gone {
			fmt.Println("gone:", e.Instance)
			return
		}
		fmt.Println(e.Instance, e.Addrs, e.Port, e.TXT) // alice [10.0.0.7] 4242 [id=0123abcd v=2]
	})

	lctx, lcancel := context.WithTimeout(ctx, 3*time.Second)
	defer lcancel()
	e, err := c.LookupService(lctx, "bob", "_scuttle._tcp")
	if err != nil {
		log.Fatal(err) // lookup bob._scuttle._tcp.local: no answer
	}
	fmt.Println(e.Host, e.Port)
}
