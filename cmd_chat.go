package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"strconv"

	"scuttle/applog"
	"scuttle/applog/blob"
	"scuttle/applog/names"
	"scuttle/applog/seal"
	"scuttle/mdns"
	"scuttle/topology"
	"scuttle/topology/chat"
)

// chat: the command line of the chat, and the process's resources it
// runs with; the chat itself is package topology/chat.

// defaultMaxLogs is chat --max-logs: generous, but a bound on what a
// peer can make this database hold.
const defaultMaxLogs = 100_000

// defaultFetchMax is chat --fetch-max: a file up to 16 MiB, a photo or a
// document, is fetched as soon as its line shows; a larger one on /get.
const defaultFetchMax = 16 << 20

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
			networkFile := fs.String("network-file", "", networkFileUsage)
			maxLogs := fs.Int("max-logs", defaultMaxLogs, "refuse the records of new logs once the database holds `n` logs, but never those of the peers named, trusted or met directly (0: no limit)")
			fetchMax := fs.Int64("fetch-max", defaultFetchMax, "fetch each file shared in the chat of up to `N` bytes as soon as its line shows; larger ones on /get ID (0: none by itself)")
			blobOpts := blobFlags(fs) // --max-blob-bytes, as scuttle send
			noEdit := fs.Bool("no-edit", false, "on a terminal too, read and print lines as with a pipe: no line editing, no time, no colour")
			webAddr := fs.String("web", "", webUsage)
			discover := fs.Bool("discover", false, "also connect to every chat that multicast DNS finds in this network, and to new ones as they appear; without a network key that is everyone on the public default network of the LAN")
			st.verboseFlag(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return usagef("missing ME, the name to chat as")
				}
				if _, _, err := net.SplitHostPort(*webAddr); *webAddr != "" && err != nil {
					return usagef("--web %s: %v", *webAddr, err)
				}
				if *maxLogs < 0 {
					return usagef("--max-logs %d: not a number of logs", *maxLogs)
				}
				if *fetchMax < 0 {
					return usagef("--fetch-max %d: not a number of bytes", *fetchMax)
				}
				if blobOpts.MaxBytes < 0 {
					return usagef("--max-blob-bytes %d: want 0 (no quota) or more", blobOpts.MaxBytes)
				}
				o := chatOptions{me: args[0], peers: args[1:], db: *db, iface: splitList(*iface), discover: *discover, maxLogs: *maxLogs, noEdit: *noEdit, web: *webAddr, fetchMax: *fetchMax, blobs: *blobOpts}
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
				key, err := networkFlag(st, *network, *networkFile)
				if err != nil {
					return err
				}
				o.networkKey = key
				return runChat(ctx, st, o)
			}
		},
	}
}

// chatOptions is what "scuttle chat" was asked for on its command line.
type chatOptions struct {
	me         string
	peers      []string
	db         string       // database directory
	iface      []string     // mDNS interfaces
	listen     string       // TCP address to listen on
	networkKey []byte       // nil: the public default network
	discover   bool         // also connect to every chat browsing finds in the network
	maxLogs    int          // applog.Options.MaxLogs
	noEdit     bool         // never the terminal chat: the pipe's lines even on a terminal
	web        string       // --web ADDR: also serve the chat to a browser
	fetchMax   int64        // chat.Config.FetchMax
	blobs      blob.Options // the store of files' (--max-blob-bytes)
}

// runChat runs the chat o describes with the process's resources: the
// database (held for writing until the end), multicast DNS on o.iface to
// find NAME peers and to claim ME.local, and st's streams: the terminal
// chat (runTerminalChat) when they are a terminal, else the pipe.
func runChat(ctx context.Context, st *state, o chatOptions) (err error) {
	if err := topology.CheckNetworkKey(o.networkKey); err != nil {
		return err // before any socket: a private chat must not go public
	}
	log := st.log
	ttyIn, ttyOut := chatTerminal(st, o.noEdit)
	var diag *lineWriter // on the terminal: what the chat and its parts report
	if ttyIn != nil {
		diag = &lineWriter{direct: st.stderr}
		log = slog.New(slog.NewTextHandler(diag, &slog.HandlerOptions{Level: &st.level}))
	}
	db, err := applog.Open(o.db, &applog.Options{LockWait: -1, Logger: log.With("pkg", "applog"), MaxLogs: o.maxLogs})
	if err != nil {
		return err // names the lock holder's pid when another scuttle has the database
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	ns, err := names.Open(o.db, &names.Options{Logger: log.With("pkg", "names")})
	if err != nil {
		return err
	}

	// The store of shared files: the chat sends, serves and fetches
	// them.
	blobs, err := blob.Open(o.db, &o.blobs)
	if err != nil {
		return err
	}
	// One Store for the chat and its outbox: two would each keep their
	// own view of a file's sources.
	defer startOutbox(ctx, blobs, db, log.With("pkg", "blob"))() // stops before db closes

	// The encryption keys, under the database's writer lock: the chat
	// publishes the newest, and opens what is sealed to any.
	kr, err := seal.OpenKeyring(o.db)
	if err != nil {
		return err
	}

	// The port first: a chat that cannot have it claims no name, and
	// the name is advertised with the port the listener has.
	ln, err := topology.Listen(ctx, o.listen)
	if err != nil {
		return err
	}
	md, err := mdns.Listen(ctx, mdns.Config{Interfaces: o.iface, Logger: log.With("pkg", "mdns")})
	if err != nil {
		ln.Close()
		return err
	}
	defer func() { err = errors.Join(err, md.Close()) }()

	cfg := chat.Config{
		Me:         o.me,
		Peers:      o.peers,
		DB:         db,
		Names:      ns,
		Listener:   ln, // the swarm closes it
		Resolver:   chat.Resolver{Conn: md},
		NetworkKey: o.networkKey,
		Keys:       kr,
		Blobs:      blobs,
		FetchMax:   o.fetchMax,
		In:         st.stdin,
		Out:        st.stdout,
		Errs:       st.stderr,
		Log:        log,
		// Claim ME.local and advertise ME._scuttle._tcp.local while the
		// swarm already dials: probing takes 750 ms that a peer's
		// connection need not wait for. A taken name does not end the
		// chat (see chat.Advertise).
		Advertise: func(ctx context.Context, info func(string)) error {
			return chat.Advertise(ctx, md, o.me, ln.Addr().String(), string(db.ID()), o.networkKey, info)
		},
	}
	if o.discover {
		cfg.Discover = chat.Discoverer(md, o.me, o.peers, o.networkKey, log)
	}
	run := func(ctx context.Context, c *chat.Chat) error { return serveChat(ctx, c, o.web, log) }
	if ttyIn != nil {
		return runTerminalChat(ctx, st, cfg, ttyIn, ttyOut, diag, run)
	}
	return run(ctx, chat.New(cfg))
}
