package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/applog/replicate"
	"scuttle/mdns"
	"scuttle/topology"
)

// The chat of exercise 11: every user's messages are its own log, every
// peer replicates every log it holds, and what is printed is the store's
// change feed, so history and live messages come out the same way.
//
// A chat is a unit: runChat gives it the real database, multicast DNS and
// standard streams; the tests (chat_test.go) give it a database in a
// temporary directory, a listener on 127.0.0.1, a resolver of their own
// and pipes, and run two or three chats in one process.

// chatOptions is what "scuttle chat" was asked for on its command line.
type chatOptions struct {
	me         string
	peers      []string
	db         string   // database directory
	iface      []string // mDNS interfaces
	listen     string   // TCP address to listen on
	networkKey []byte   // nil: the public default network
	discover   bool     // also connect to every chat browsing finds in the network
	maxLogs    int      // applog.Options.MaxLogs
}

// runChat runs the chat o describes with the process's resources: the
// database (held for writing until the end), multicast DNS on o.iface to
// find NAME peers and to claim ME.local, and st's streams.
func runChat(ctx context.Context, st *state, o chatOptions) (err error) {
	if err := checkNetwork(o.networkKey); err != nil {
		return err // before any socket: a private chat must not go public
	}
	log := st.log
	db, err := applog.Open(o.db, &applog.Options{LockWait: -1, Logger: log.With("pkg", "applog"), MaxLogs: o.maxLogs})
	if err != nil {
		return err // names the lock holder's pid when another scuttle has the database
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	ns, err := names.Open(o.db, &names.Options{Logger: log.With("pkg", "names")})
	if err != nil {
		return err
	}

	// The port first: a chat that cannot have it claims no name, and
	// the name is advertised with the port the listener has.
	ln, err := topology.Listen(ctx, o.listen)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	md, err := mdns.Listen(ctx, mdns.Config{Interfaces: o.iface, Logger: log.With("pkg", "mdns")})
	if err != nil {
		ln.Close()
		return err
	}
	defer func() { err = errors.Join(err, md.Close()) }()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil)
	wg.Go(func() {
		// Claim ME.local and advertise ME._scuttle._tcp.local
		// (chat_service.go) while the swarm already dials: probing
		// takes 750 ms that a peer's connection need not wait for.
		if err := advertise(ctx, md, o.me, ln.Addr().String(), string(db.ID()), o.networkKey); err != nil && ctx.Err() == nil {
			cancel(fmt.Errorf("claiming %s: %w", mdns.FQDN(o.me), err))
		}
	})
	c := newChat(chatConfig{
		Me:         o.me,
		Peers:      o.peers,
		DB:         db,
		Names:      ns,
		Listener:   ln, // the swarm closes it
		Resolver:   chatResolver{md},
		NetworkKey: o.networkKey,
		Discover:   discoverer(md, o, st.log),
		In:         st.stdin,
		Out:        st.stdout,
		Errs:       st.stderr,
		Log:        log,
	})
	return c.run(ctx)
}

// chatConfig is everything a chat is made of. The chat uses what it is
// given and closes none of it.
type chatConfig struct {
	Me    string   // the own chat name
	Peers []string // NAME or HOST:PORT, as topology.Swarm.Peers
	DB    *applog.DB
	Names *names.Store // the bindings of DB's directory
	// Listener, if set, is where peers connect; else the swarm listens on
	// ListenAddr (empty: ":<HashToPort(Me)>").
	Listener   net.Listener
	ListenAddr string
	Resolver   topology.Resolver // resolves NAME.local for NAME peers
	// Dial opens connections to peers; nil means TCP.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// NetworkKey is the private network's 32-byte key; nil means the
	// public default network.
	NetworkKey []byte
	// Discover, if set, runs while the swarm does and calls add for
	// each peer it finds (NAME or HOST:PORT), remove for each that left
	// (chat --discover: chat_service.go).
	Discover func(ctx context.Context, add func(peer string) error, remove func(peer string))
	In       io.Reader    // typed lines
	Out      io.Writer    // what the chat prints
	Errs     io.Writer    // a typed line that is not sent is reported here
	Log      *slog.Logger // diagnostics
}

// chat is one running chat.
type chat struct {
	chatConfig

	outMu sync.Mutex // one line at a time on Out
	out   *bufio.Writer

	mu      sync.Mutex
	refused map[refusal]bool // the refusals printed this run (see authorize)

	own ownHeads // what peers hold of the own log (see waitOwn)
}

// ownHeads is what the chat's peers advertised of the own log: the own
// log must not be appended to on a head a peer knows to be stale.
type ownHeads struct {
	mu    sync.Mutex
	want  uint64          // the highest head of the own log a peer advertised
	peers map[string]bool // peers whose heads came
	ch    chan struct{}   // closed and replaced at each change
}

// peerHead records that peer advertised head of the own log.
func (o *ownHeads) peerHead(peer string, head uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.want = max(o.want, head)
	if len(o.peers) < maxOwnPeers {
		o.peers[peer] = true
	}
	close(o.ch)
	o.ch = make(chan struct{})
}

func (o *ownHeads) get() (want uint64, peers int, ch <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.want, len(o.peers), o.ch
}

// Waits before appending (see waitOwn).
const (
	// maxOwnPeers bounds the peers ownHeads remembers: only their number
	// up to that of the named peers matters.
	maxOwnPeers = 1024

	// startGrace is how long, from the start, the first append waits for
	// the named peers to connect and advertise their heads.
	startGrace = time.Second
	// ownStall is how long an append waits for the own log's newer
	// records from a peer without any of them arriving, before it gives
	// up (the peer went away, or lied about its head).
	ownStall = 5 * time.Second
)

func newChat(cfg chatConfig) *chat {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &chat{
		chatConfig: cfg,
		out:        bufio.NewWriter(cfg.Out),
		refused:    map[refusal]bool{},
		own:        ownHeads{peers: map[string]bool{}, ch: make(chan struct{})},
	}
}

// message is a chat message as stored in its author's log: the seed's shape.
type message struct {
	Username string `json:"username"`
	Message  string `json:"message"`
}

// checkNetwork fails for a network key of the wrong size: a chat that
// was asked for a private network must never join the public one
// instead.
func checkNetwork(key []byte) error {
	if key != nil && len(key) != topology.NetworkKeySize {
		return fmt.Errorf("network key of %d bytes, want %d", len(key), topology.NetworkKeySize)
	}
	return nil
}

// run runs the chat until ctx ends: it serves and dials peers, prints the
// history and every entry stored later, and appends each line of In to
// the own log. It returns the cause of ctx's end unless that is
// context.Canceled (an interrupt), or the first failure.
func (c *chat) run(ctx context.Context) error {
	if err := checkNetwork(c.NetworkKey); err != nil {
		return err
	}
	c.bindSelf()
	log := c.Log
	db := c.DB
	swarm := &topology.Swarm{
		// The swarm's TLS certificate is made from the own log's key, so
		// a peer's proven identity is its log ID.
		Key:        db.PrivateKey(),
		NetworkKey: c.NetworkKey,
		Authorize:  c.swarmAuthorize,
		Name:       c.Me,
		ListenAddr: c.ListenAddr,
		Listener:   c.Listener,
		Peers:      c.Peers,
		Resolver:   c.Resolver,
		Dial:       c.Dial,
		Handler: func(ctx context.Context, conn *topology.Conn) error {
			return replicate.Serve(ctx, conn, replicate.FromDB(db), &replicate.Options{
				Logger:    log.With("pkg", "replicate"),
				Peer:      conn.Peer.Name,
				Watch:     db.ID(),
				WatchHead: func(head uint64) { c.own.peerHead(string(applog.IDOf(conn.Peer.Key)), head) },
			})
		},
		Events: c.event,
		Logger: log.With("pkg", "topology"),
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil)
	wg.Go(func() {
		if err := swarm.Run(ctx); err != nil && ctx.Err() == nil {
			cancel(err)
		}
	})
	if c.Discover != nil {
		wg.Go(func() { c.Discover(ctx, swarm.AddPeer, swarm.RemovePeer) })
	}
	wg.Go(func() {
		if err := c.print(ctx); err != nil && ctx.Err() == nil {
			cancel(err)
		}
	})
	wg.Go(func() { c.watchForks(ctx) })
	start := time.Now()
	first := true

	lines := make(chan string, chatBatch)
	// The reader of In is not waited for: a read of standard input cannot
	// be interrupted, and the process ends anyway. It only ever hands lines
	// to this goroutine, which owns the appends.
	go c.readLines(ctx, c.In, lines)
	batch := make([][]byte, 0, chatBatch)
	for {
		select {
		case <-ctx.Done():
			if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
				return cause
			}
			return nil
		case line, ok := <-lines:
			if !ok {
				lines = nil // end of input: keep replicating, like the seed
				continue
			}
			// Lines typed (or pasted) while the last batch was being
			// made durable go into one batch: one fsync for them all.
			batch = append(batch[:0], c.encode(line))
		more:
			for len(batch) < chatBatch {
				select {
				case line, ok := <-lines:
					if !ok {
						lines = nil
						break more
					}
					batch = append(batch, c.encode(line))
				default:
					break more
				}
			}
			if err := c.waitOwn(ctx, first, start); err != nil {
				continue // ctx ended
			}
			first = false
			if _, err := db.AppendBatch(batch); err != nil {
				return err
			}
		}
	}
}

// waitOwn waits, before an append, until the own log holds what every
// connected peer advertised of it, so that a restored backup continues
// its log instead of forking it; and before the first append (first),
// until every named peer has advertised its heads or startGrace has
// passed since start. It gives up on the own log's records when none
// arrives for ownStall, and when the own log is forked. It returns
// ctx's error if ctx ends.
func (c *chat) waitOwn(ctx context.Context, first bool, start time.Time) error {
	db := c.DB
	own := db.ID()
	told := false
	stall := time.Now().Add(ownStall)
	last := db.Head(own)
	for {
		changed := db.Changed()
		want, peers, ch := c.own.get()
		head := db.Head(own)
		if head > last {
			last, stall = head, time.Now().Add(ownStall)
		}
		behind := want > head && db.Forked(own) == 0
		grace := first && peers < len(c.Peers) && time.Since(start) < startGrace
		if !behind && !grace {
			return nil
		}
		wait := time.Until(start.Add(startGrace))
		if behind {
			if !told {
				c.printInfo(fmt.Sprintf("a peer holds your own log up to seq %d, this database to %d: waiting for the rest before sending", want, head))
				told = true
			}
			wait = time.Until(stall)
			if wait <= 0 {
				c.printInfo(fmt.Sprintf("your own log's entries %d..%d did not arrive: sending anyway", head+1, want))
				return nil
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-changed:
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
	}
}

// watchForks prints, once per log, each fork the database learns of: a
// log whose author signed two different entries at one seq, which is
// frozen here from then on; and once when the database starts refusing
// new logs (--max-logs) or peers' entries (low disk space).
func (c *chat) watchForks(ctx context.Context) {
	db := c.DB
	told := map[applog.ID]bool{}
	toldLogs, toldSpace := false, false
	for {
		changed := db.Changed()
		if logs, space := db.Limited(); logs && !toldLogs {
			toldLogs = true
			c.printInfo("this database holds as many logs as --max-logs allows: records of new logs are refused")
		} else if space != toldSpace {
			toldSpace = space
			if space {
				c.printInfo("the disk is nearly full: peers' entries are refused until there is space again; yours are still stored")
			}
		}
		for _, fk := range db.Forks() {
			if told[fk.Log] {
				continue
			}
			told[fk.Log] = true
			if fk.Log == db.ID() {
				c.printInfo(ownForkWarning(fk.Seq))
				continue
			}
			name := fk.Log.Short()
			if b, ok := c.Names.NameOf(fk.Log); ok {
				name = b.Name
			}
			c.printInfo(fmt.Sprintf("%s's log forked at seq %d (two different signed entries); it is frozen here", sanitize(name), fk.Seq))
		}
		select {
		case <-changed:
		case <-time.After(time.Second): // a refusal changes nothing stored
		case <-ctx.Done():
			return
		}
	}
}

// chatBatch bounds how many typed lines go into one durable batch.
const chatBatch = 256

// encode returns line as a chat message of the own log: the seed's JSON.
func (c *chat) encode(line string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(message{Username: c.Me, Message: line}) // cannot fail: two strings
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// readLines sends each non-empty line of r to lines, and closes lines at
// the end of r. A line too long to be a message is reported on Errs and
// skipped.
func (c *chat) readLines(ctx context.Context, r io.Reader, lines chan<- string) {
	defer close(lines)
	in := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(in, maxMessage)
		if errors.Is(err, errLineTooLong) {
			fmt.Fprintf(c.Errs, "scuttle chat: %v: not sent\n", err)
			continue
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(c.Errs, "scuttle chat: reading standard input: %v\n", err)
			}
			return
		}
		if line == "" {
			continue
		}
		select {
		case lines <- line:
		case <-ctx.Done():
			return
		}
	}
}

// maxMessage bounds a typed line so that its JSON encoding, where every
// byte may become a six-byte escape, fits an entry.
const maxMessage = (applog.MaxEntrySize - 64) / 6

var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxMessage)

// readLine returns the next line of in without its "\n" or "\r\n". A
// line longer than max is read to its end and errLineTooLong returned.
// A last line without "\n" counts; io.EOF comes after it.
func readLine(in *bufio.Reader, max int) (string, error) {
	var line []byte
	tooLong := false
	for {
		part, err := in.ReadSlice('\n')
		if !tooLong {
			line = append(line, part...)
			tooLong = len(line) > max+2
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(line) > 0 {
			err = nil
		}
		if err != nil {
			return "", err
		}
		if tooLong || len(trimEOL(line)) > max {
			return "", errLineTooLong
		}
		return string(trimEOL(line)), nil
	}
}

// print prints the whole stored history and then every entry stored later,
// until ctx ends.
func (c *chat) print(ctx context.Context) error {
	f := c.DB.Feed()
	defer f.Close()
	var buf []byte
	for {
		// The lock is taken line by line, so that a long history does
		// not hold back the swarm's events (Events must return quickly).
		for f.Next() {
			buf = appendChatLine(buf[:0], f.Entry(), c.owner)
			c.outMu.Lock()
			c.out.Write(buf)
			c.outMu.Unlock()
		}
		c.outMu.Lock()
		err := c.out.Flush()
		c.outMu.Unlock()
		if err := errors.Join(f.Err(), err); err != nil {
			return err
		}
		if err := f.Wait(ctx); err != nil {
			return err
		}
	}
}

// event prints the connection changes of the swarm.
func (c *chat) event(e topology.Event) {
	var what string
	switch e.Kind {
	case topology.Connected:
		what = "direct connection to"
	case topology.Disconnected:
		what = "lost connection to"
	case topology.Listening:
		c.Log.Info("listening", "addr", e.Addr)
		return
	default:
		return
	}
	name := c.peerName(e.Peer.Name, applog.IDOf(e.Peer.Key))
	if name == "" {
		name = e.Addr.String()
	}
	c.printInfo(what + " " + sanitize(name))
	if e.Err != nil {
		c.Log.Debug("connection ended", "peer", name, "err", e.Err)
	}
}

// printInfo prints "info> " and line, which must be sanitized.
func (c *chat) printInfo(line string) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	c.out.WriteString("info> " + line + "\n")
	c.out.Flush()
}

// appendChatLine appends the line that prints e: "NAME> message" for a
// chat message whose username NAME is bound to e's own log (owner
// returns the log bound to a name, "" if none), "NAME~SHORT> message"
// if it is not, with SHORT the author's short id, and "SHORT> text" for
// an entry that is not a chat message.
func appendChatLine(b []byte, e applog.Entry, owner func(name string, author applog.ID) applog.ID) []byte {
	var m message
	if json.Unmarshal(e.Data, &m) == nil && m.Username != "" {
		b = append(b, sanitize(m.Username)...)
		if owner(m.Username, e.Log) != e.Log {
			b = append(b, '~')
			b = append(b, e.Log.Short()...)
		}
		b = append(b, "> "...)
		b = append(b, sanitize(m.Message)...)
	} else {
		b = append(b, e.Log.Short()...)
		b = append(b, "> "...)
		b = append(b, sanitize(string(e.Data))...)
	}
	return append(b, '\n')
}

// sanitize makes s safe to print as part of one line (see appendEscaped),
// so that no peer can print a line of its own making, such as "info> …",
// or drive the terminal.
func sanitize(s string) string {
	return string(appendEscaped(nil, []byte(s), ""))
}
