package main

import (
	"context"
	"flag"
	"fmt"

	"scuttle/topology"
)

// network: make the key of a private network (topology/netkey.go), and
// read the key that chat and peers were given.

func networkCmd() *command {
	return &command{
		name:    "network",
		summary: "print a new random network key: chats started with --network KEY talk only to each other",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			return func(_ context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("takes no arguments")
				}
				key, err := topology.NewNetworkKey()
				if err != nil {
					return fmt.Errorf("making a key: %w", err)
				}
				_, err = fmt.Fprintln(st.stdout, key)
				return err
			}
		},
	}
}

// networkFlag returns the network key of --network (flagValue), else of
// SCUTTLE_NETWORK, else nil (the public network). A key that does not
// parse is a usage error naming where it came from.
func networkFlag(st *state, flagValue string) ([]byte, error) {
	key, from := flagValue, "--network"
	if key == "" {
		key, from = st.getenv("SCUTTLE_NETWORK"), "SCUTTLE_NETWORK"
	}
	if key == "" {
		return nil, nil
	}
	k, err := topology.ParseNetworkKey(key)
	if err != nil {
		return nil, usagef("%s: %v", from, err)
	}
	return k, nil
}
