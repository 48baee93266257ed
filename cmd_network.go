package main

import (
	"context"
	"flag"
	"fmt"
)

// network: make the key of a private network (see netkey.go).

func networkCmd() *command {
	return &command{
		name:    "network",
		summary: "print a new random network key: chats started with --network KEY talk only to each other",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			return func(_ context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("takes no arguments")
				}
				key, err := newNetworkKey()
				if err != nil {
					return fmt.Errorf("making a key: %w", err)
				}
				_, err = fmt.Fprintln(st.stdout, key)
				return err
			}
		},
	}
}
