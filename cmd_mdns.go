package main

import (
	"context"
	"errors"
	"flag"
)

// Placeholder: the mdns issue replaces this file.

func announceCmd() *command {
	return &command{
		name:    "announce",
		args:    "NAME",
		summary: "answer multicast DNS queries for NAME.local until interrupted",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			return func(context.Context, []string) error { return errors.New("not implemented yet") }
		},
	}
}

func resolveCmd() *command {
	return &command{
		name:    "resolve",
		args:    "NAME",
		summary: "look up NAME.local by multicast DNS and print its addresses",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			return func(context.Context, []string) error { return errors.New("not implemented yet") }
		},
	}
}
