package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"scuttle/mdns"
)

// announce and resolve: the multicast DNS commands. Both open the shared
// port 5353 on the interfaces of --iface (default: every multicast
// interface that is up).

func announceCmd() *command {
	return &command{
		name:    "announce",
		args:    "NAME",
		summary: "answer multicast DNS queries for NAME.local until interrupted",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			iface := st.ifaceFlag(fs)
			st.verboseFlag(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return usagef("takes one NAME, got %d arguments", len(args))
				}
				c, err := mdns.Listen(ctx, mdns.Config{Interfaces: splitList(*iface), Logger: st.log})
				if err != nil {
					return err
				}
				if err := c.Register(ctx, args[0]); err != nil {
					c.Close()
					if ctx.Err() != nil && !errors.Is(err, mdns.ErrConflict) {
						return nil // interrupted while probing
					}
					return err
				}
				st.log.Info("announcing", "name", args[0])
				<-ctx.Done()
				// Close sends the goodbyes (TTL 0), so caches forget us.
				return c.Close()
			}
		},
	}
}

func resolveCmd() *command {
	return &command{
		name:    "resolve",
		args:    "NAME",
		summary: "look up NAME.local by multicast DNS and print its addresses",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			iface := st.ifaceFlag(fs)
			timeout := fs.Duration("timeout", 3*time.Second, "give up after `duration`")
			st.verboseFlag(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return usagef("takes one NAME, got %d arguments", len(args))
				}
				if *timeout <= 0 {
					return usagef("--timeout must be positive, got %v", *timeout)
				}
				ctx, cancel := context.WithTimeout(ctx, *timeout)
				defer cancel()
				c, err := mdns.Listen(ctx, mdns.Config{Interfaces: splitList(*iface), Logger: st.log})
				if err != nil {
					return err
				}
				defer c.Close()
				addrs, err := c.LookupHost(ctx, args[0])
				if errors.Is(err, mdns.ErrNoAnswer) {
					return fmt.Errorf("%s: no answer", mdns.FQDN(args[0]))
				}
				if err != nil {
					return err
				}
				for _, a := range addrs {
					if _, err := fmt.Fprintln(st.stdout, a); err != nil {
						return err
					}
				}
				return nil
			}
		},
	}
}
