package chat

import (
	"fmt"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/topology"
)

// The logs the chat wants whatever --max-logs says (applog's SetWanted):
// those of the peers the user named, and of the names bound to a log by
// a connection (Direct, Named) or by the user's trust. A stranger's made-up logs
// fill the limit, never these. A name claimed in entries (names.Claimed)
// is the weakest evidence and makes no log wanted.

// wantedSet is what wanted consults, kept apart from the chat's other
// state: it is asked from the store's callers' goroutines.
type wantedSet struct {
	mu      sync.Mutex
	named   map[string]applog.ID // Peers entry (NAME or HOST:PORT) → the key that proved it
	bound   map[applog.ID]bool   // logs with a binding that is no claim
	built   time.Time            // when bound was read from the names store
	changed bool                 // a peer was authorized since: bound may lack it
}

// authorizeWanted is the swarm's Authorize hook: swarmAuthorize, and for
// a peer it accepts, note that its log may be wanted (noteWanted).
func (c *Chat) authorizeWanted(p topology.Peer, ci topology.ConnInfo) error {
	if err := c.swarmAuthorize(p, ci); err != nil {
		return err
	}
	c.noteWanted(ci, applog.IDOf(p.Key))
	return nil
}

// noteWanted records that the peer with key, authorized on a connection
// ci, is a peer the user named if the connection was dialled to an entry
// of Peers (a peer that only gives a NAME of Peers proves nothing: see
// reserved.go); and that the names store may have a new binding of it.
// A proof wakes what waits on c.proofs; from then on the peer's sessions
// draw on no quota, also one it began before (Quota.Exempt asks named).
func (c *Chat) noteWanted(ci topology.ConnInfo, key applog.ID) {
	w := &c.want
	w.mu.Lock()
	w.changed = true
	proved := false
	for _, p := range c.cfg.Peers {
		if ci.Dialed && p == ci.Target {
			if w.named == nil {
				w.named = map[string]applog.ID{}
			}
			w.named[p] = key // at most one key per entry of Peers
			proved = true
		}
	}
	w.mu.Unlock()
	if proved {
		c.proofs.proven()
	}
}

// named reports whether id is the log of a peer the user named that
// proved its key on a connection: a peer whose connections draw on no
// quota (replicate.Quota).
func (c *Chat) named(id applog.ID) bool {
	w := &c.want
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.isNamed(id)
}

// isNamed reports whether id is the key that proved an entry of Peers.
// Caller holds w.mu.
func (w *wantedSet) isNamed(id applog.ID) bool {
	for _, key := range w.named {
		if key == id {
			return true
		}
	}
	return false
}

// wanted reports whether the chat takes log id's records whatever
// --max-logs says: the log of a peer the user named that proved its key
// on a connection, or a log bound to a name directly or by trust. It
// reads the names store's bindings again when a peer was authorized
// since the last reading, and at most every names.Recheck otherwise (a
// trust given by another process).
func (c *Chat) wanted(id applog.ID) bool {
	w := &c.want
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.isNamed(id) {
		return true
	}
	if w.changed || time.Since(w.built) >= names.Recheck {
		w.changed, w.built = false, time.Now()
		w.bound = map[applog.ID]bool{}
		for _, b := range c.cfg.Names.Bindings() {
			if b.How != names.Claimed {
				w.bound[b.ID] = true
			}
		}
	}
	return w.bound[id]
}

// noteTrusted records that the names store has a new binding by trust,
// so that wanted reads it at once.
func (c *Chat) noteTrusted() {
	c.want.mu.Lock()
	defer c.want.mu.Unlock()
	c.want.changed = true
}

// quotaRefusing tells the user, once per peer and run, that the quota
// skips the new logs a peer nobody named relays (replicate's
// Quota.Refusing; source is the peer's log ID, as the session gives
// it): without it, a chat missing a stranger's relayed lines says
// nothing of why.
func (c *Chat) quotaRefusing(source string) {
	c.info(fmt.Sprintf("skipping new logs relayed by %s: past the share of a peer nobody named (%d of --max-logs %d); naming it on the command line lifts that",
		Escape(c.peerName("", applog.ID(source))), c.quota.PerSource, c.cfg.DB.MaxLogs()))
}
