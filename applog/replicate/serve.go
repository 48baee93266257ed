package replicate

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/replicate/ebt"
)

// Options configure Serve. The zero value (or nil) works.
type Options struct {
	// Logger receives diagnostics, such as why a connection was closed; nil
	// discards them.
	Logger *slog.Logger

	// Peer names the peer in log lines and errors; "" uses the connection's
	// remote address when it has one.
	Peer string

	// WriteTimeout closes the connection when a write to it makes no progress
	// for this long (a stalled peer), if the connection supports write
	// deadlines (net.Conn does). 0 means 30 s; negative means no deadline.
	WriteTimeout time.Duration

	// Watch and WatchHead tell the caller what the peer holds of one log,
	// such as the own log, which must not be appended to on a stale head:
	// when the peer's heads are complete, WatchHead (if not nil) is called
	// with the head the peer advertised for log Watch, 0 if none.
	Watch     applog.ID
	WatchHead func(head uint64)

	// Quota, if not nil, bounds the new logs this peer brings in (see
	// Quota): one Quota for the sessions of all the peers the user did
	// not name, nil for those the user named.
	Quota *Quota
	// Source names the peer in Quota, so that all its connections draw
	// on one share: the key it proved, say. "" uses Peer.
	Source string

	// PeerLog is the log the peer authors, if this side knows it (a
	// chat's peers are their logs' keys): with a Tree, the peer is then
	// preferred as a watcher of that log (package ebt, Author), so that
	// its new entries are heard of from their source even where this
	// side's sources of the log are cut off from it.
	PeerLog applog.ID

	// PeerLogSource, with PeerLog, says the connection lasts (the user
	// named the peer; an overlay's neighbours come and go): the peer is
	// then the source of PeerLog rather than its watcher (package ebt,
	// AuthorSource), so that each of its entries comes in one hop, and
	// the notes of it from the nearest peers, batched.
	PeerLogSource bool

	// Blobs is what this side serves of the files it holds to a peer
	// that speaks Version 3; nil: this side serves no file (every
	// request is answered "not here").
	Blobs Blobs
	// Fetcher, if not nil, fetches the files it is asked for from this
	// peer too, if it speaks Version 3; nil: this side fetches no file.
	// One Fetcher is shared by all the sessions of a chat.
	Fetcher *Fetcher

	// Tree, if not nil, makes this side speak Version 4: with a peer
	// that speaks it too, each log is pushed eagerly on one connection
	// and only noted on the others (see Broadcast trees in the package
	// documentation). One Tree is shared by all the sessions of a
	// store; nil: this side speaks Version 3 and pushes every peer what
	// it lacks.
	Tree *Tree

	// Membership, if not nil and with a Tree, makes this side speak
	// Version 5: with a peer that speaks it too, the session carries the
	// caller's membership messages (topology/overlay's), each an opaque
	// membership frame of at most MaxMembershipSize bytes.
	Membership *Membership
}

// Membership is the caller's side of a session's membership frames
// (Version 5). Its functions are called from the session's goroutines.
type Membership struct {
	// Up is called once, when the peer's hello makes the session
	// Version 5, before any In; not at all in a session below it.
	Up func()
	// Out carries the payloads to send, each at most MaxMembershipSize
	// bytes (a longer one ends the session); the session reads it only
	// once Up was called and its heads are sent. The caller bounds it.
	Out <-chan []byte
	// In is handed each membership frame's payload, which it must not
	// keep; its error closes the connection as a malformed frame.
	In func(payload []byte) error
}

// defaultWriteTimeout is the WriteTimeout of zero Options.
const defaultWriteTimeout = 30 * time.Second

// Serve replicates st with the peer at the other end of conn until the
// connection fails or ctx ends, then closes conn and returns why: an error
// wrapping io.EOF when the peer closed the connection, ctx's error when ctx
// ended, or the error that made Serve close it (a record that fails
// verification, a malformed frame, a write timeout, …). Records stored
// before the failure stay stored. Serve leaves no goroutine behind.
//
// conn must be established (any handshake done); Serve speaks the protocol
// described in the package documentation from its first byte. Serve may be
// called for many connections of one Store at once: each sends from the
// store at its own pace.
func Serve(ctx context.Context, conn io.ReadWriteCloser, st Store, opts *Options) error {
	if opts == nil {
		opts = &Options{}
	}
	c := &session{
		st:        st,
		conn:      conn,
		log:       opts.Logger,
		peer:      opts.Peer,
		has:       make(map[applog.ID]uint64),
		forkSeen:  make(map[applog.ID]bool),
		headsDone: make(chan struct{}),
		watch:     opts.Watch,
		peerLog:   opts.PeerLog,
		logSource: opts.PeerLogSource,
		watchHead: opts.WatchHead,
		blobs:     opts.Blobs,
		fetcher:   opts.Fetcher,
		getReady:  make(chan struct{}, 1),
		tree:      opts.Tree,
		helloDone: make(chan struct{}),
	}
	if opts.Tree != nil && opts.Membership != nil {
		c.member = opts.Membership
	}
	c.forker, _ = st.(Forker)
	if c.tree != nil {
		c.base = c.tree.base
		c.noteAt = make(map[ebt.Log]int)
		c.notesReady = make(chan struct{}, 1)
		c.granted = make(map[applog.ID]bool)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.peer == "" {
		if nc, ok := conn.(net.Conn); ok && nc.RemoteAddr() != nil {
			c.peer = nc.RemoteAddr().String()
		}
	}
	c.log = c.log.With("peer", c.peer)
	if q := opts.Quota; q != nil {
		src := opts.Source
		if src == "" {
			src = c.peer
		}
		c.quota, c.source = q, q.join(src)
		defer q.leave(c.source)
	}
	c.insert.cond.L = &c.insert.mu
	c.insert.ready = &batch{}

	timeout := opts.WriteTimeout
	if timeout == 0 {
		timeout = defaultWriteTimeout
	}
	dw := &deadlineWriter{w: conn}
	if d, ok := conn.(interface{ SetWriteDeadline(time.Time) error }); ok && timeout > 0 {
		dw.d, dw.timeout = d, timeout
	}

	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	c.cancel = cancel
	var wg sync.WaitGroup
	inserted := make(chan struct{})
	wg.Go(func() {
		defer close(inserted)
		c.insertLoop() // cancels ctx itself if it fails
	})
	wg.Go(func() {
		err := c.receive(ctx)
		c.closeInsert()
		<-inserted // so that the inserter's error, if any, is the cause
		cancel(err)
	})
	cancel(c.send(ctx, dw))
	wg.Wait()
	conn.Close()
	if c.key != "" {
		c.tree.leave(c)
	}
	if c.base != nil {
		c.base.leave(c)
	}
	if c.fp != nil {
		c.fetcher.leave(c.fp)
	}

	err := context.Cause(ctx)
	if perr := parent.Err(); perr != nil {
		// The failure, if any, is likely the other end going away for the
		// same reason.
		err = perr
	}
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		c.log.Debug("replication stopped", "reason", err)
		return err
	case errors.Is(err, io.EOF):
		c.log.Info("replication ended: peer closed the connection")
	default:
		c.log.Warn("replication failed, connection closed", "err", err)
	}
	return &peerError{peer: c.peer, err: err}
}

// peerError names the peer of a failed session: "replicate: peer P: …",
// without repeating the package prefix of the cause.
type peerError struct {
	peer string
	err  error
}

func (e *peerError) Error() string {
	msg := strings.TrimPrefix(e.err.Error(), "replicate: ")
	if e.peer == "" {
		return "replicate: " + msg
	}
	return "replicate: peer " + e.peer + ": " + msg
}

func (e *peerError) Unwrap() error { return e.err }

// session is the state of one connection.
type session struct {
	st   Store
	conn io.ReadWriteCloser
	log  *slog.Logger
	peer string

	mu sync.Mutex
	// has is what the peer holds, as far as we know: the heads it
	// advertised of the logs the store held then (and of the watched
	// log), of at most maxOtherHeads others, raised by every record sent
	// and received. A made-up peer naming logs nobody holds adds at
	// most maxOtherHeads entries. With a base (registered once the
	// peer's hello is read), it holds only the exact exceptions to
	// base, at most maxExceptions of the peer's word, and lacks the
	// logs the peer lacks entirely, a bit per log base holds (view.go).
	// Use peerHas, raise and the like: both are guarded by base.mu if
	// base, else by mu.
	has        map[applog.ID]uint64
	lacks      bitset
	base       *base // the Tree's, shared by the store's sessions; nil without a Tree
	registered bool  // has and lacks are exceptions to base; guarded by base.mu
	hasPeak    int   // the most entries has held since it was last made; guarded as has
	// open is the sender's open log (sender.open): the peer holds an
	// unsigned run of it, which must be continued where it ends, so its
	// view is kept exactly past maxExceptions. Guarded as has.
	open applog.ID

	forker Forker // st, if it keeps forks
	// forkSeen holds the forked logs of the store whose proof the peer
	// was sent or sent us: at most one per fork the store keeps, which
	// is only ever of a log it holds (a proof of any other is checked
	// and forgotten). Guarded by mu.
	forkSeen map[applog.ID]bool
	version  uint64 // the session's version; set before headsDone closes

	headsDone chan struct{} // closed when the peer's heads are complete
	watch     applog.ID
	peerLog   applog.ID // Options.PeerLog
	logSource bool      // Options.PeerLogSource
	watchHead func(uint64)
	cancel    context.CancelCauseFunc

	insert inserter

	quota       *Quota  // Options.Quota
	source      *source // the peer's in quota
	quotaWarned bool    // the quota's refusal was logged; receiver only

	// Files (Version 3).
	blobs   Blobs      // Options.Blobs
	fetcher *Fetcher   // Options.Fetcher
	fp      *fetchPeer // this peer in fetcher; set before headsDone closes
	// gets are the peer's get frames not answered yet, oldest first: at
	// most maxRequests. Guarded by mu.
	gets     []part
	getReady chan struct{} // a get was queued

	// Broadcast trees (Version 4).
	tree      *Tree         // Options.Tree
	helloDone chan struct{} // closed when the peer's hello is read
	key       ebt.Peer      // the session in tree; set before helloDone closes at Version 4
	// eager holds the logs the peer's last note asked for eagerly and
	// that the tree pushed to it since: records of a log are sent only
	// while it is here. A bit per log base holds, and eagerOther those
	// pushed that base did not hold at its last read (stored since: they
	// move to their bit at the next). Guarded by base.mu.
	eager      bitset
	eagerOther map[applog.ID]bool
	// outNotes are the notes queued for the peer, at most one per log
	// (noteAt indexes them) and maxQueuedNotes but grafts of logs not
	// held, and outResend a Resend queued; owed is set while the tree's
	// machine may owe the peer notes (Tree.queue, takeNotes). Guarded
	// by mu.
	outNotes   []ebt.Note
	noteAt     map[ebt.Log]int
	outResend  bool
	owed       bool
	notesReady chan struct{} // notes were queued
	// granted holds the new logs the Quota admitted from the peer when
	// this side grafted them: counted once. Guarded by mu.
	granted map[applog.ID]bool
	dec     ebt.Decoder // the peer's notes; receiver only

	member *Membership // Options.Membership, with a Tree; nil: below Version 5
}

// deadlineWriter sets a write deadline before each write, so that a peer
// that stops reading fails the write instead of blocking it forever.
type deadlineWriter struct {
	w       io.Writer
	d       interface{ SetWriteDeadline(time.Time) error }
	timeout time.Duration
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	if w.d != nil {
		if err := w.d.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
			return 0, err
		}
	}
	return w.w.Write(p)
}
