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
		Authorize:  c.swarmAuthorize,
		Name:       c.cfg.Me,
		ListenAddr: c.cfg.ListenAddr,
		Listener:   c.cfg.Listener,
		Peers:      c.cfg.Peers,
		Resolver:   c.cfg.Resolver,
		Dial:       c.cfg.Dial,
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

// get returns the highest head a peer advertised, how many peers did,
// and a channel closed at the next change.
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

// waitOwn waits, before an append, until the own log holds what every
// connected peer advertised of it, so that a restored backup continues
// its log instead of forking it; and before the first append (first),
// until every named peer has advertised its heads or startGrace has
// passed since start. It gives up on the own log's records when none
// arrives for ownStall, and when the own log is forked. It returns
// ctx's error if ctx ends.
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
				c.out.info(fmt.Sprintf("a peer holds your own log up to seq %d, this database to %d: waiting for the rest before sending", want, head))
				told = true
			}
			wait = time.Until(stall)
			if wait <= 0 {
				c.out.info(fmt.Sprintf("your own log's entries %d..%d did not arrive: sending anyway", head+1, want))
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
