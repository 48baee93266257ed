package chat

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/blob"
	"scuttle/applog/names"
	"scuttle/applog/replicate"
	"scuttle/applog/replicate/ebt"
	"scuttle/applog/seal"
	"scuttle/topology"
)

// Config is everything a chat is made of. The chat uses what it is
// given and closes none of it.
type Config struct {
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
	// Discover, if set, runs while the swarm does and tells the chat of
	// each peer it finds, and of each that left or failed (chat
	// --discover: Discoverer); the chat's membership connects a bounded
	// number of them (membership.go).
	Discover func(ctx context.Context, d Discovering)
	In       io.Reader // typed lines
	Out      io.Writer // the pipe: each line the chat shows, as Line.String and "\n"
	// Screen, if set, is the front end: every line the chat shows goes
	// to Screen.Show and each change of its status to Screen.SetStatus,
	// instead of Out. They are called one at a time, in the chat's
	// order, and must not call the chat's Info (which would wait for
	// them).
	Screen Screen
	Errs   io.Writer // a typed line that is not sent is reported here
	// Keys, if set, is the user's encryption keys (seal.OpenKeyring of
	// the database's directory): the chat publishes the newest before
	// its first line, opens the private messages and room lines sealed
	// to them, and has /msg and the room commands. Without it, sealed
	// entries show nothing and those commands say they are off.
	Keys *seal.Keyring
	// Blobs, if set, is the database's store of shared files
	// (blob.Open of its directory): the chat has /send and /get, serves
	// the files to peers and fetches those it shows. Without it, file
	// entries show as lines and nothing more.
	Blobs *blob.Store
	// FetchMax is the size up to which a file is fetched as soon as its
	// entry shows (chat --fetch-max); larger ones wait for /get. 0
	// fetches none by itself.
	FetchMax int64
	Log      *slog.Logger // diagnostics

	// Advertise, if set, runs while the swarm does and makes the chat
	// known (scuttle chat: Advertise over multicast DNS), telling what
	// the user must know through info, one escaped line at a time. Its
	// error ends the chat.
	Advertise func(ctx context.Context, info func(line string)) error
}

// A Chat is one chat: its session with the swarm and the store, its
// sink of printed lines, and what it remembers for the run. Make it
// with New and run it once with Run.
type Chat struct {
	cfg   Config
	out   screen           // where every line the chat shows goes (see show)
	clock func() time.Time // the chat's clock; nil: time.Now (tests set it)

	refused refusals // the refusals told of this run (see authorize)
	proofs  proofs   // the dials of reserved names (see authorizeUnproven)

	own  ownHeads  // what peers hold of the own log (see waitOwn)
	want wantedSet // the logs taken whatever --max-logs says (see wanted)
	// quota shares --max-logs out among the peers the user did not
	// name (replicate.Quota); nil without a limit.
	quota *replicate.Quota

	dialled chan topology.Event // to Discover (see toDiscovery); nil without it

	presence presenceSet        // who is connected, and who was seen (see Who)
	sealing  *sealing           // private messages and rooms (see private.go)
	outbox   [][]byte           // entries a command made, to send (see queue)
	files    shownFiles         // the files shown this run (see files.go)
	fetching fetchSet           // the fetches started and not ended
	fetcher  *replicate.Fetcher // fetches files from the peers; nil without Blobs
	tree     *replicate.Tree    // the broadcast tree of every session (Version 4)
	member   *member            // the bounded membership (see membership.go); nil without Discover
	cmds     []command          // the commands (see commands)

	typed   chan string             // the lines of Type, to send
	started chan struct{}           // closed when Run starts: quit is set
	ended   chan struct{}           // closed when Run returns
	quit    context.CancelCauseFunc // ends Run's context (/quit)
}

// New returns the chat cfg describes; a nil cfg.Log discards diagnostics.
func New(cfg Config) *Chat {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	var dialled chan topology.Event
	if cfg.Discover != nil {
		dialled = make(chan topology.Event, maxDiscovered)
	}
	c := &Chat{
		dialled: dialled,
		cfg:     cfg,
		out:     newScreen(cfg.Screen, cfg.Out),
		refused: newRefusals(),
		own:     newOwnHeads(),

		presence: newPresenceSet(),
		sealing:  newSealing(cfg.Keys, cfg.NetworkKey),
		cmds:     commands(),
		typed:    make(chan string, maxBatch),
		started:  make(chan struct{}),
		ended:    make(chan struct{}),
	}
	if cfg.DB != nil {
		c.quota = replicate.NewQuota(cfg.DB.MaxLogs(), c.wanted)
		if c.quota != nil {
			c.quota.Refusing = c.quotaRefusing
			c.quota.Exempt = func(source string) bool { return c.named(applog.ID(source)) }
		}
	}
	// The zero Params are valid: NewTree cannot fail with them.
	c.tree, _ = replicate.NewTree(ebt.Params{})
	if cfg.Blobs != nil {
		c.fetcher = replicate.NewFetcher(cfg.Blobs, &replicate.FetcherOptions{
			Logger: cfg.Log.With("pkg", "replicate"),
			Done:   c.fetched,
			Check:  c.checkManifest,
			Begun:  c.begun,
		})
	}
	return c
}

// Run runs the chat until ctx ends or /quit: it serves and dials peers,
// shows the history and every entry stored later, and appends each line
// of In and of Type to the own log, or runs it if it is a command. It
// returns the cause of ctx's end unless that is context.Canceled (an
// interrupt, or /quit), or the first failure. A nil In types nothing.
func (c *Chat) Run(ctx context.Context) error {
	defer close(c.ended)
	defer c.endLines() // after wg.Wait: the views get the last lines
	if err := topology.CheckNetworkKey(c.cfg.NetworkKey); err != nil {
		return err
	}
	c.bindSelf()
	c.cfg.DB.SetWanted(c.wanted)
	defer c.cfg.DB.SetWanted(nil)
	swarm := c.newSwarm()
	if c.cfg.Discover != nil {
		c.member = newMember(c.cfg.DB.ID(), swarm, c.named, c.cfg.Log.With("pkg", "membership"), rand.Uint64())
		c.member.show = c.memberShow
	}

	ctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil) // first: what runs in wg ends with ctx
	c.quit = cancel
	close(c.started)
	c.setStatus()
	c.start(ctx, cancel, &wg, swarm)

	var lines chan string
	if c.cfg.In != nil {
		lines = make(chan string, maxBatch)
		// The reader of In is not waited for: a read of standard input
		// cannot be interrupted, and the process ends anyway. It only
		// ever hands lines to send, which owns the appends.
		go c.readLines(ctx, c.cfg.In, lines)
	}
	return c.send(ctx, lines)
}

// start runs in wg what runs beside the sending of lines: the swarm, the
// discovery of peers if configured, the printing of the store's entries
// and the watch on the store. A failure of the swarm or of the printing
// ends ctx through cancel, with the failure as its cause.
func (c *Chat) start(ctx context.Context, cancel context.CancelCauseFunc, wg *sync.WaitGroup, swarm *topology.Swarm) {
	c.proofs.start(ctx, swarm.Redial)
	wg.Go(func() {
		if err := swarm.Run(ctx); err != nil && ctx.Err() == nil {
			cancel(err)
		}
	})
	if c.cfg.Advertise != nil {
		wg.Go(func() {
			if err := c.cfg.Advertise(ctx, c.info); err != nil && ctx.Err() == nil {
				cancel(err)
			}
		})
	}
	if c.cfg.Discover != nil {
		d := Discovering{Add: swarm.AddPeer, Remove: swarm.RemovePeer, Info: c.info, Dialled: c.dialled}
		if c.member != nil {
			d.Found, d.Remove = c.member.found, c.member.lost
			wg.Go(func() { c.member.run(ctx) })
		}
		wg.Go(func() { c.cfg.Discover(ctx, d) })
	}
	wg.Go(func() {
		if err := c.print(ctx); err != nil && ctx.Err() == nil {
			cancel(err)
		}
	})
	wg.Go(func() { c.watchStore(ctx) })
}

// maxBatch bounds how many typed lines go into one durable batch.
const maxBatch = 256

// send appends what each typed line means to the own log, in durable
// batches, or runs it if it is a command, until ctx ends; lines are those
// of In, and c.typed those of Type. The end of lines stops only the
// reading of In (the chat keeps replicating, like the seed, and takes
// the lines of Type). It returns the cause of ctx's end unless that is
// context.Canceled, or the first failed append.
func (c *Chat) send(ctx context.Context, lines <-chan string) error {
	b := batcher{start: time.Now(), first: true, entries: make([][]byte, 0, maxBatch)}
	if c.sealing.unpublished() { // once: a key published stays so
		if err := c.waitOwn(ctx, true, b.start); err != nil {
			return nil // ctx ended
		}
		b.first = false
		if err := c.publishKey(); err != nil {
			return err
		}
	}
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
				return cause
			}
			return nil
		case line, ok = <-lines:
			if !ok {
				lines = nil // end of input: keep replicating
				continue
			}
		case line = <-c.typed:
		}
		var err error
		if lines, err = c.take(ctx, &b, line, lines); err != nil {
			return err
		}
	}
}

// batcher is the batch of entries send is making, and what the first
// append must wait for (see waitOwn).
type batcher struct {
	entries [][]byte
	first   bool
	start   time.Time
}

// take takes line, then the lines already waiting in lines and c.typed,
// up to maxBatch entries: lines typed (or pasted) while the last batch
// was being made durable go into one batch, one fsync for them all. A
// command runs where it is typed: the entries before it are appended
// first, and none after /quit. It returns lines, or nil once lines is
// closed, and the first failed append.
func (c *Chat) take(ctx context.Context, b *batcher, line string, lines <-chan string) (<-chan string, error) {
	b.entries = b.entries[:0]
	for ctx.Err() == nil { // none after the end, or /quit
		if t := parseTyped(line); t.command {
			if err := c.appendBatch(ctx, b); err != nil {
				return lines, err
			}
			c.runCommand(t)
			b.entries = append(b.entries, c.outbox...)
			c.outbox = c.outbox[:0]
		} else if e := c.compose(t.text); e != nil {
			b.entries = append(b.entries, e)
		}
		if len(b.entries) >= maxBatch {
			break
		}
		var more bool
		if line, lines, more = c.waiting(lines); !more {
			break
		}
	}
	return lines, c.appendBatch(ctx, b)
}

// waiting returns a line waiting in lines or c.typed, if there is one,
// without waiting; and lines, or nil once it is closed.
func (c *Chat) waiting(lines <-chan string) (string, <-chan string, bool) {
	select {
	case line, ok := <-lines:
		if ok {
			return line, lines, true
		}
		lines = nil
	default:
	}
	select {
	case line := <-c.typed:
		return line, lines, true
	default:
		return "", lines, false
	}
}

// appendBatch appends b's entries to the own log, once the own log
// holds what peers hold of it (waitOwn), and empties b. It returns the
// append's error; if ctx ends first, the entries are not appended.
func (c *Chat) appendBatch(ctx context.Context, b *batcher) error {
	defer func() { b.entries = b.entries[:0] }()
	if len(b.entries) == 0 || ctx.Err() != nil {
		return nil
	}
	if err := c.waitOwn(ctx, b.first, b.start); err != nil {
		return nil // ctx ended
	}
	b.first = false
	_, err := c.cfg.DB.AppendBatch(b.entries)
	return err
}
