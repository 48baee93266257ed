package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"

	"scuttle/applog"
	"scuttle/applog/replicate"
	"scuttle/mdns"
	"scuttle/topology"
)

// The chat of exercise 11: every user's messages are its own log, every
// peer replicates every log it holds, and what is printed is the store's
// change feed, so history and live messages come out the same way.

func chatCmd() *command {
	return &command{
		name:    "chat",
		args:    "ME [PEER...]",
		summary: "chat as ME with each PEER (NAME found by multicast DNS, or HOST:PORT), replicating every log",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, "")
			port := fs.Uint("port", 0, "TCP `port` to listen on (default: derived from ME, as hash-to-port does)")
			iface := st.ifaceFlag(fs)
			st.verboseFlag(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return usagef("missing ME, the name to chat as")
				}
				c := &chat{st: st, me: args[0], peers: args[1:], db: *db, iface: splitList(*iface)}
				if c.db == "" {
					c.db = c.me + ".db"
				}
				if err := mdns.CheckName(c.me); err != nil {
					return usagef("%v", err)
				}
				switch {
				case *port > 65535:
					return usagef("--port %d: not a TCP port", *port)
				case *port != 0:
					c.listen = net.JoinHostPort("", strconv.FormatUint(uint64(*port), 10))
				default:
					c.listen = net.JoinHostPort("", strconv.Itoa(int(topology.HashToPort(c.me))))
				}
				return c.run(ctx)
			}
		},
	}
}

// chat is one running "scuttle chat".
type chat struct {
	st     *state
	me     string
	peers  []string
	db     string
	iface  []string
	listen string

	outMu sync.Mutex // one line at a time on stdout
	out   *bufio.Writer
}

// message is a chat message as stored in its author's log: the seed's shape.
type message struct {
	Username string `json:"username"`
	Message  string `json:"message"`
}

func (c *chat) run(ctx context.Context) (err error) {
	c.out = bufio.NewWriter(c.st.stdout)
	log := c.st.log

	db, err := applog.Open(c.db, &applog.Options{LockWait: -1, Logger: log.With("pkg", "applog")})
	if err != nil {
		return err // names the lock holder's pid when another scuttle has the database
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	md, err := mdns.Listen(ctx, mdns.Config{Interfaces: c.iface, Logger: log.With("pkg", "mdns")})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, md.Close()) }()

	swarm := &topology.Swarm{
		ID:         string(db.ID()),
		Name:       c.me,
		ListenAddr: c.listen,
		Peers:      c.peers,
		Resolver:   md,
		Handler: func(ctx context.Context, conn *topology.Conn) error {
			return replicate.Serve(ctx, conn, replicate.FromDB(db), &replicate.Options{
				Logger: log.With("pkg", "replicate"),
				Peer:   conn.Peer.Name,
			})
		},
		Events: c.event,
		Logger: log.With("pkg", "topology"),
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil)
	wg.Go(func() {
		// Claim ME.local while the swarm already dials: probing takes
		// 750 ms that a peer's connection need not wait for.
		if err := md.Register(ctx, c.me); err != nil && ctx.Err() == nil {
			cancel(fmt.Errorf("claiming %s: %w", mdns.FQDN(c.me), err))
		}
	})
	wg.Go(func() {
		if err := swarm.Run(ctx); err != nil && ctx.Err() == nil {
			cancel(err)
		}
	})
	wg.Go(func() {
		if err := c.print(ctx, db); err != nil && ctx.Err() == nil {
			cancel(err)
		}
	})

	lines := make(chan string, chatBatch)
	// The stdin reader is not waited for: a read of standard input cannot
	// be interrupted, and the process ends anyway. It only ever hands lines
	// to this goroutine, which owns the appends.
	go c.readLines(ctx, c.st.stdin, lines)
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
			if _, err := db.AppendBatch(batch); err != nil {
				return err
			}
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
	enc.Encode(message{Username: c.me, Message: line}) // cannot fail: two strings
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// readLines sends each non-empty line of r to lines, and closes lines at
// the end of r. A line too long to be a message is reported on stderr and
// skipped.
func (c *chat) readLines(ctx context.Context, r io.Reader, lines chan<- string) {
	defer close(lines)
	in := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(in, maxMessage)
		if errors.Is(err, errLineTooLong) {
			fmt.Fprintf(c.st.stderr, "scuttle chat: %v: not sent\n", err)
			continue
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(c.st.stderr, "scuttle chat: reading standard input: %v\n", err)
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
func (c *chat) print(ctx context.Context, db *applog.DB) error {
	f := db.Feed()
	defer f.Close()
	var buf []byte
	for {
		// The lock is taken line by line, so that a long history does
		// not hold back the swarm's events (Events must return quickly).
		for f.Next() {
			buf = appendChatLine(buf[:0], f.Entry())
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
		c.st.log.Info("listening", "addr", e.Addr)
		return
	default:
		return
	}
	name := e.Peer.Name
	if name == "" {
		name = e.Addr.String()
	}
	c.outMu.Lock()
	defer c.outMu.Unlock()
	c.out.WriteString("info> " + what + " " + sanitize(name) + "\n")
	c.out.Flush()
	if e.Err != nil {
		c.st.log.Debug("connection ended", "peer", name, "err", e.Err)
	}
}

// appendChatLine appends "NAME> message" for e: NAME is the author's chat
// name for a chat message, else the log's short id with the entry's text.
func appendChatLine(b []byte, e applog.Entry) []byte {
	var m message
	if json.Unmarshal(e.Data, &m) == nil && m.Username != "" {
		b = append(b, sanitize(m.Username)...)
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
