package chat

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/applog/replicate"
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
	// Discover, if set, runs while the swarm does and adds each peer it
	// finds (NAME or HOST:PORT), removes each that left or failed (chat
	// --discover: Discoverer).
	Discover func(ctx context.Context, d Discovering)
	In       io.Reader    // typed lines
	Out      io.Writer    // what the chat prints: every line goes through one sink
	Errs     io.Writer    // a typed line that is not sent is reported here
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
	cfg Config
	out sink // every line the chat prints

	refused refusals // the refusals told of this run (see authorize)

	own  ownHeads  // what peers hold of the own log (see waitOwn)
	want wantedSet // the logs taken whatever --max-logs says (see wanted)
	// quota shares --max-logs out among the peers the user did not
	// name (replicate.Quota); nil without a limit.
	quota *replicate.Quota

	dialled chan topology.Event // to Discover (see toDiscovery); nil without it
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
		out:     newSink(cfg.Out),
		refused: newRefusals(),
		own:     newOwnHeads(),
	}
	if cfg.DB != nil {
		c.quota = replicate.NewQuota(cfg.DB.MaxLogs(), c.wanted)
	}
	return c
}

// Run runs the chat until ctx ends: it serves and dials peers, prints the
// history and every entry stored later, and appends each line of In to
// the own log. It returns the cause of ctx's end unless that is
// context.Canceled (an interrupt), or the first failure.
func (c *Chat) Run(ctx context.Context) error {
	if err := topology.CheckNetworkKey(c.cfg.NetworkKey); err != nil {
		return err
	}
	c.bindSelf()
	c.cfg.DB.SetWanted(c.wanted)
	defer c.cfg.DB.SetWanted(nil)
	swarm := c.newSwarm()

	ctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil) // first: what runs in wg ends with ctx
	c.start(ctx, cancel, &wg, swarm)

	lines := make(chan string, maxBatch)
	// The reader of In is not waited for: a read of standard input cannot
	// be interrupted, and the process ends anyway. It only ever hands lines
	// to send, which owns the appends.
	go c.readLines(ctx, c.cfg.In, lines)
	return c.send(ctx, lines)
}

// start runs in wg what runs beside the sending of lines: the swarm, the
// discovery of peers if configured, the printing of the store's entries
// and the watch on the store. A failure of the swarm or of the printing
// ends ctx through cancel, with the failure as its cause.
func (c *Chat) start(ctx context.Context, cancel context.CancelCauseFunc, wg *sync.WaitGroup, swarm *topology.Swarm) {
	wg.Go(func() {
		if err := swarm.Run(ctx); err != nil && ctx.Err() == nil {
			cancel(err)
		}
	})
	if c.cfg.Advertise != nil {
		wg.Go(func() {
			if err := c.cfg.Advertise(ctx, c.out.info); err != nil && ctx.Err() == nil {
				cancel(err)
			}
		})
	}
	if c.cfg.Discover != nil {
		d := Discovering{Add: swarm.AddPeer, Remove: swarm.RemovePeer, Info: c.out.info, Dialled: c.dialled}
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

// send appends what each line of lines means to the own log, in durable
// batches, until ctx ends; the end of lines stops only the sending (the
// chat keeps replicating, like the seed). It returns the cause of ctx's
// end unless that is context.Canceled, or the first failed append.
func (c *Chat) send(ctx context.Context, lines <-chan string) error {
	start := time.Now()
	first := true
	batch := make([][]byte, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
				return cause
			}
			return nil
		case line, ok := <-lines:
			if !ok {
				lines = nil // end of input: keep replicating
				continue
			}
			batch, lines = c.gather(append(batch[:0], c.compose(line)), lines)
			if err := c.waitOwn(ctx, first, start); err != nil {
				continue // ctx ended
			}
			first = false
			if _, err := c.cfg.DB.AppendBatch(batch); err != nil {
				return err
			}
		}
	}
}

// gather adds to batch the entries of the lines already waiting in
// lines, up to maxBatch: lines typed (or pasted) while the last batch
// was being made durable go into one batch, one fsync for them all. It
// returns lines, or nil once lines is closed.
func (c *Chat) gather(batch [][]byte, lines <-chan string) ([][]byte, <-chan string) {
	for len(batch) < maxBatch {
		select {
		case line, ok := <-lines:
			if !ok {
				return batch, nil
			}
			batch = append(batch, c.compose(line))
		default:
			return batch, lines
		}
	}
	return batch, lines
}
