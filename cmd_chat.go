package main

import (
	"context"
	"errors"
	"flag"
)

// Placeholder: the chat issue replaces this file.

func chatCmd() *command {
	return &command{
		name:    "chat",
		args:    "ME [PEER...]",
		summary: "chat as ME with PEERs found by multicast DNS, replicating every log",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			return func(context.Context, []string) error { return errors.New("not implemented yet") }
		},
	}
}
