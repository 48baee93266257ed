package topology_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
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
	// The keys the peers' names are known by.
	known := map[string]string{"bob": "fxm7e2vvhkbtknmj4jboyx5xkkn6eeeojmqplqphhgrlthxzzqmq"}
	_, key, err := ed25519.GenerateKey(rand.Reader) // the chat passes its log's key
	if err != nil {
		panic(err)
	}
	sw := &topology.Swarm{
		Key: key,
		// NetworkKey: the 32 bytes of a private network; nil joins the public one.
		Name:     "alice",
		Peers:    []string{"bob", "10.0.0.7:4000"},
		Resolver: net.DefaultResolver, // the chat passes its mdns resolver
		Handler: func(ctx context.Context, c *topology.Conn) error {
			// Replicate over c until ctx ends or the peer goes.
			_, err := io.Copy(io.Discard, c)
			return err
		},
		// Refuse a peer dialled as NAME that proves another key than
		// the one NAME is known by (the chat keeps name bindings).
		Authorize: func(p topology.Peer, c topology.ConnInfo) error {
			if want, ok := known[c.Target]; ok && p.KeyString() != want {
				return fmt.Errorf("key %s is not the %s you know", p.KeyString(), c.Target)
			}
			return nil
		},
		Events: func(e topology.Event) { fmt.Println(e) },
	}
	if err = sw.Run(ctx); err != nil {
		fmt.Println(err) // e.g. topology: listen on :55204: address already in use
	}
}
