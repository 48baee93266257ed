package chat

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
)

// Reserved names: a NAME the user gave on the command line (an entry of
// Config.Peers) belongs to the peer that proves it directly, that is to
// the key the chat's own dial of NAME reaches (names.Named). Until then
// the name is nobody's here:
//
//   - a claim of it in replicated content is void: it binds nothing,
//     and a claim of it kept in the names store from before is not
//     believed (lookup, boundName);
//   - a peer that connects to the chat (or that a dial found by
//     discovery or by HOST:PORT reaches) and gives the name binds
//     nothing: it waits up to proofGrace for the dial of NAME to prove
//     a key, and is then judged against it, or let in unbound with one
//     line (authorizeUnproven).
//
// So a stranger that connects first, a stranger reached through a relay,
// and a flood of fresh keys giving the name all leave it free for the
// real peer.

// proofGrace is how long a connection that gives a reserved name waits
// for the chat's dial of that name to prove a key, before it is let in
// unbound. At a first meeting the two chats' dials cross, and the proof
// comes within a handshake; it must stay well within the swarm's
// handshake timeout (5 s), which the wait counts against.
const proofGrace = 2 * time.Second

// proofs tells the connections waiting in authorizeUnproven that a
// reserved name may have been bound, or that the chat is ending, and
// asks the swarm to dial a reserved name at once when a peer gives it
// (so the proof need not wait out a backoff). Its zero value is ready;
// start connects it to a running swarm.
type proofs struct {
	mu     sync.Mutex
	ch     chan struct{}        // closed and replaced at each proof
	ended  bool                 // the chat is ending
	redial func(string)         // the swarm's Redial; nil before start
	asked  map[string]time.Time // when each entry of Peers was redialled last
}

// start makes p ask redial for dials, and end when ctx ends.
func (p *proofs) start(ctx context.Context, redial func(string)) {
	p.mu.Lock()
	p.redial = redial
	p.mu.Unlock()
	context.AfterFunc(ctx, p.end)
}

// dial asks the swarm to dial the entry of Peers peer at once, at most
// once per proofGrace: a stranger that connects again and again as a
// reserved name cannot make the chat dial (and resolve) it faster.
func (p *proofs) dial(peer string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.redial == nil || time.Since(p.asked[peer]) < proofGrace {
		return
	}
	if p.asked == nil {
		p.asked = map[string]time.Time{} // one per entry of Peers
	}
	p.asked[peer] = time.Now()
	p.redial(peer)
}

// changed returns a channel closed at the next proof or at the end, and
// whether the chat has ended.
func (p *proofs) changed() (<-chan struct{}, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch == nil {
		p.ch = make(chan struct{})
	}
	return p.ch, p.ended
}

// proven wakes the waiters: a dial proved a reserved name, or the key
// of an entry of Peers (noteWanted).
func (p *proofs) proven() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch != nil && !p.ended {
		close(p.ch)
		p.ch = nil
	}
}

// end wakes the waiters for good: the chat is ending.
func (p *proofs) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ended {
		p.ended = true
		if p.ch == nil {
			p.ch = make(chan struct{})
		}
		close(p.ch)
	}
}

// reserved reports whether name is, or looks like (names.Skeleton), a
// NAME the user gave in Config.Peers.
func (c *Chat) reserved(name string) bool { return c.reservedBy(name) != "" }

// reservedBy returns the entry of Config.Peers that reserves name, ""
// if none.
func (c *Chat) reservedBy(name string) string {
	key := names.Skeleton(name)
	for _, p := range c.cfg.Peers {
		if !strings.Contains(p, ":") && names.Skeleton(p) == key {
			return p
		}
	}
	return ""
}

// provenBy reports whether a connection dialled (dialed) for target
// proves the key it reaches to be target's: target is a NAME of
// Config.Peers. A dial of a name discovery found, or of a HOST:PORT,
// proves no name; such a peer is judged by the name it gives.
func (c *Chat) provenBy(target string, dialed bool) bool {
	if !dialed || target == "" || strings.Contains(target, ":") {
		return false
	}
	for _, p := range c.cfg.Peers {
		if p == target {
			return true
		}
	}
	return false
}

// lookup is the names store's Lookup, except that a claim of a reserved
// name is not believed.
func (c *Chat) lookup(name string) (names.Binding, bool) {
	b, ok := c.cfg.Names.Lookup(name)
	if ok && b.How == names.Claimed && c.reserved(name) {
		return names.Binding{}, false
	}
	return b, ok
}

// boundName is the names store's NameOf, except that a claim of a
// reserved name is not believed.
func (c *Chat) boundName(id applog.ID) (names.Binding, bool) {
	b, ok := c.cfg.Names.NameOf(id)
	if ok && b.How == names.Claimed && c.reserved(b.Name) {
		return names.Binding{}, false
	}
	return b, ok
}

// authorizeUnproven judges a peer with key at host that gave the
// reserved name without the chat's dial of it: if the name is bound
// (Named, Trusted or Direct), as any peer giving a bound name; if not,
// it asks for the dial of the name at once and waits up to proofGrace
// for it to bind the name, and then lets the peer in unbound, told in
// one line per (name, key), and past toldInFull keys as one name in
// counts (summarised).
func (c *Chat) authorizeUnproven(name string, key applog.ID, host string) error {
	if _, ok := c.lookup(name); !ok {
		c.proofs.dial(c.reservedBy(name))
	}
	t := time.NewTimer(proofGrace)
	defer t.Stop()
	for late := false; ; {
		ch, ended := c.proofs.changed()
		if b, ok := c.lookup(name); ok {
			if b.ID == key {
				return nil
			}
			return c.refuseConflict(name, b, key, host)
		}
		if ended {
			return fmt.Errorf("%w %s at %s: the chat is ending", errRefused, Escape(name), host)
		}
		if late {
			break
		}
		select {
		case <-ch:
		case <-t.C:
			late = true
		}
	}
	shown := Escape(name)
	// "unproven NAME" is no name (names have no blanks), so these
	// lines are counted apart from refusals.
	switch n := c.refused.count("unproven "+names.Skeleton(name), "unproven "+name, key); {
	case n == 0: // told already
	case n <= toldInFull:
		c.info(fmt.Sprintf("%s at %s is let in as %s~%s, unbound: you named %s, and only your dial of %s binds the name; if it is %s: scuttle trust %s %s",
			shown, host, shown, key.Short(), shown, shown, shown, shown, key))
	case summarised(n):
		c.info(fmt.Sprintf("let in %d different keys as %s unbound so far, the last at %s; only your dial of %s binds the name", n, shown, host, shown))
	}
	return nil
}
