package topology_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"scuttle/topology"
)

func ExampleHashToPort() {
	for _, name := range []string{"alice", "bob"} {
		fmt.Println(name, topology.HashToPort(name))
	}
	// Output:
	// alice 55204
	// bob 62474
}

// A chat peer "alice" keeps connections to bob (found as bob.local by
// multicast DNS) and to a peer at a fixed address, and serves each
// connection until it ends.
func ExampleSwarm() {
	ctx := context.Background()
	sw := &topology.Swarm{
		ID:       "alice's log id",
		Name:     "alice",
		Peers:    []string{"bob", "10.0.0.7:4000"},
		Resolver: net.DefaultResolver, // the chat passes its mdns resolver
		Handler: func(ctx context.Context, c *topology.Conn) error {
			// Replicate over c until ctx ends or the peer goes.
			_, err := io.Copy(io.Discard, c)
			return err
		},
		Events: func(e topology.Event) { fmt.Println(e) },
	}
	if err := sw.Run(ctx); err != nil {
		fmt.Println(err) // e.g. topology: listen on :55204: address already in use
	}
}
