package main

import (
	"context"
	"flag"
	"net"
	"strconv"

	"scuttle/mdns"
	"scuttle/topology"
)

// chat: the command line of the chat; the chat itself is chat.go.

// defaultMaxLogs is chat --max-logs: generous, but a bound on what a
// peer can make this database hold.
const defaultMaxLogs = 100_000

func chatCmd() *command {
	return &command{
		name:    "chat",
		args:    "ME [PEER...]",
		summary: "chat as ME with each PEER (NAME found by multicast DNS, or HOST:PORT), replicating every log",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, "")
			port := fs.Uint("port", 0, "TCP `port` to listen on (default: derived from ME, as hash-to-port does)")
			iface := st.ifaceFlag(fs)
			// The default is not shown: the environment's key is a secret.
			network := fs.String("network", "", "join the private network of `key` (from scuttle network; environment: SCUTTLE_NETWORK); default: the public one")
			maxLogs := fs.Int("max-logs", defaultMaxLogs, "refuse the records of new logs once the database holds `n` logs (0: no limit)")
			discover := fs.Bool("discover", false, "also connect to every chat that multicast DNS finds in this network, and to new ones as they appear; without a network key that is everyone on the public default network of the LAN")
			st.verboseFlag(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return usagef("missing ME, the name to chat as")
				}
				if *maxLogs < 0 {
					return usagef("--max-logs %d: not a number of logs", *maxLogs)
				}
				o := chatOptions{me: args[0], peers: args[1:], db: *db, iface: splitList(*iface), discover: *discover, maxLogs: *maxLogs}
				if o.db == "" {
					o.db = o.me + ".db"
				}
				if err := mdns.CheckName(o.me); err != nil {
					return usagef("%v", err)
				}
				switch {
				case *port > 65535:
					return usagef("--port %d: not a TCP port", *port)
				case *port != 0:
					o.listen = net.JoinHostPort("", strconv.FormatUint(uint64(*port), 10))
				default:
					o.listen = net.JoinHostPort("", strconv.Itoa(int(topology.HashToPort(o.me))))
				}
				key, from := *network, "--network"
				if key == "" {
					key, from = st.getenv("SCUTTLE_NETWORK"), "SCUTTLE_NETWORK"
				}
				if key != "" {
					k, err := parseNetworkKey(key)
					if err != nil {
						return usagef("%s: %v", from, err)
					}
					o.networkKey = k
				}
				return runChat(ctx, st, o)
			}
		},
	}
}
