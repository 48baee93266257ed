package chat

import (
	"context"
	"fmt"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/replicate"
	"scuttle/topology"
)

// The session: the swarm that connects the chat to its peers, each
// connection replicating every log of the store, and what the peers
// hold of the own log, which the chat must not fork.

// newSwarm returns the chat's swarm, not yet running: its identity is
// the own log's key, its peers are judged by authorize, and each of its
// connections replicates the store (replicate.Serve).
func (c *Chat) newSwarm() *topology.Swarm {
	db, log := c.cfg.DB, c.cfg.Log
	return &topology.Swarm{
		// The swarm's TLS certificate is made from the own log's key, so
		// a peer's proven identity is its log ID.
		Key:        db.PrivateKey(),
		NetworkKey: c.cfg.NetworkKey,
		Authorize:  c.authorizeWanted,
		Name:       c.cfg.Me,
		ListenAddr: c.cfg.ListenAddr,
		Listener:   c.cfg.Listener,
		Peers:      c.cfg.Peers,
		Resolver:   c.cfg.Resolver,
		Dial:       c.cfg.Dial,
		Handler: func(ctx context.Context, conn *topology.Conn) error {
			claim := c.own.connect()
			defer c.own.gone(claim)
			id := applog.IDOf(conn.Peer.Key)
			var member *replicate.Membership
			if c.member != nil {
				// The member ends a session it no longer needs.
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				var mc *memberConn
				mc, member = c.member.session(id, conn.Peer.Name, conn.RemoteAddr(), conn.Peer.Addr, cancel)
				defer c.member.ended(mc)
			}
			return replicate.Serve(ctx, conn, replicate.FromDB(db), &replicate.Options{
				Logger:    log.With("pkg", "replicate"),
				Peer:      conn.Peer.Name,
				Watch:     db.ID(),
				WatchHead: func(head uint64) { c.own.peerHead(claim, string(id), head) },
				// A peer the user named draws on no quota (its
				// Exempt), even if its connection began before the
				// chat's dial proved it.
				Quota:   c.quota,
				Source:  string(id),
				PeerLog: id,
				// A named peer stays connected: its log comes from it.
				PeerLogSource: c.named(id),
				Blobs:         c.served(),
				Fetcher:       c.fetcher,
				Tree:          c.tree,
				Membership:    member,
			})
		},
		Events: c.event,
		Logger: log.With("pkg", "topology"),
	}
}

// ownHeads is what the chat's connected peers advertised of the own
// log: the own log must not be appended to on a head a peer knows to be
// stale. A claim is believed only while its connection lasts, and only
// until a wait for it has given up once: after that (a peer lied, or
// holds records it does not send) no line waits again this run.
type ownHeads struct {
	mu     sync.Mutex
	claims map[uint64]uint64 // connection → the head it advertised, while it lasts
	next   uint64            // the next connection's number
	peers  map[string]bool   // peers whose heads came
	gaveUp bool              // a wait gave up: claims are no longer believed
	ch     chan struct{}     // closed and replaced at each change
}

func newOwnHeads() ownHeads {
	return ownHeads{claims: map[uint64]uint64{}, peers: map[string]bool{}, ch: make(chan struct{})}
}

// connect returns the number of a new connection, whose claim peerHead
// records and gone forgets.
func (o *ownHeads) connect() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.next++
	return o.next
}

// peerHead records that peer advertised head of the own log on
// connection conn.
func (o *ownHeads) peerHead(conn uint64, peer string, head uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.claims) < maxOwnPeers {
		o.claims[conn] = head
	}
	if len(o.peers) < maxOwnPeers {
		o.peers[peer] = true
	}
	o.changed()
}

// gone forgets the claim of connection conn, which ended.
func (o *ownHeads) gone(conn uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.claims[conn]; ok {
		delete(o.claims, conn)
		o.changed()
	}
}

// giveUp stops believing the claims for the rest of the run.
func (o *ownHeads) giveUp() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gaveUp = true
	o.changed()
}

// changed wakes the waiters of get's channel; o.mu is held.
func (o *ownHeads) changed() {
	close(o.ch)
	o.ch = make(chan struct{})
}

// get returns the highest head a connected peer advertised (0 once a
// wait gave up), how many peers advertised heads, and a channel closed
// at the next change.
func (o *ownHeads) get() (want uint64, peers int, ch <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.gaveUp {
		for _, h := range o.claims {
			want = max(want, h)
		}
	}
	return want, len(o.peers), o.ch
}

// Waits before appending (see waitOwn).
const (
	// maxOwnPeers bounds the peers and the claims ownHeads remembers:
	// only the peers' number up to that of the named peers matters, and
	// connections are fewer.
	maxOwnPeers = 1024

	// startGrace is how long, from the start, the first append waits for
	// the named peers to connect and advertise their heads.
	startGrace = time.Second
)

// ownStall is how long an append waits for the own log's newer records
// from a peer without any of them arriving, before it gives up (the
// peer lied about its head, or does not send): a variable so that
// tests can shorten it.
var ownStall = 5 * time.Second

// waitOwn waits, before an append, until the own log holds what every
// connected peer advertised of it, so that a restored backup continues
// its log instead of forking it; and before the first append (first),
// until every named peer has advertised its heads or startGrace has
// passed since start. It gives up on the own log's records when none
// arrives for ownStall, and then for the rest of the run (ownHeads), and
// when the own log is forked. It returns ctx's error if ctx ends.
func (c *Chat) waitOwn(ctx context.Context, first bool, start time.Time) error {
	db := c.cfg.DB
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
		grace := first && peers < len(c.cfg.Peers) && time.Since(start) < startGrace
		if !behind && !grace {
			return nil
		}
		wait := time.Until(start.Add(startGrace))
		if behind {
			if !told {
				c.info(fmt.Sprintf("a peer holds your own log up to seq %d, this database to %d: waiting for the rest before sending", want, head))
				told = true
			}
			wait = time.Until(stall)
			if wait <= 0 {
				c.info(fmt.Sprintf("your own log's entries %d..%d did not arrive: sending anyway", head+1, want))
				c.own.giveUp()
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
