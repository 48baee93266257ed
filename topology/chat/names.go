package chat

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/mdns"
	"scuttle/topology"
)

// How the chat uses the names store (applog/names): who may connect as
// a name, and what a message's name prints as. Trust on first use: the
// first key seen for a name is that name's, until the user says
// otherwise with "scuttle trust NAME ID".

// refusal is a (name, key) pair the chat refused; each is printed once
// per run, not once per redial.
type refusal struct {
	name string
	key  applog.ID
}

// refusals is what the chat remembers of the peers it refused this run,
// so that it tells of each once and of many in a few lines.
type refusals struct {
	mu    sync.Mutex
	seen  map[refusal]bool // the (name, key) pairs told of
	keys  map[string]int   // by group (see count): the refusals told of
	full  bool             // the names store was told to be full
	taken map[string]bool  // the names told to have been taken from a claim
}

func newRefusals() refusals {
	return refusals{seen: map[refusal]bool{}, keys: map[string]int{}, taken: map[string]bool{}}
}

// maxRefusals bounds the refusals remembered; past it they are
// forgotten and may be printed again, so a peer making up keys cannot
// grow the chat's memory.
const maxRefusals = 1024

// count records that key was refused as name, in group (the skeleton of
// the bound name and its key; "" for names no peer can have), and returns how many
// different refusals the group had so far, or 0 if this one was told.
func (r *refusals) count(group, name string, key applog.ID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := refusal{name, key}
	if r.seen[k] {
		return 0
	}
	if len(r.seen) >= maxRefusals {
		clear(r.seen)
		clear(r.keys)
	}
	r.seen[k] = true
	r.keys[group]++
	return r.keys[group]
}

// once reports whether flag was not set yet, and sets it.
func (r *refusals) once(flag *bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	first := !*flag
	*flag = true
	return first
}

// toldInFull is how many different keys refused as one name are told
// of in full; after them, summarised counts them.
const toldInFull = 3

// summarised reports whether the nth refusal of a group (n > toldInFull)
// gets a line: the 10th, the 100th and so on, as counts, so that a
// stranger making up keys cannot scroll the chat away.
func summarised(n int) bool {
	for n >= 10 && n%10 == 0 {
		n /= 10
	}
	return n == 1
}

// errRefused is wrapped by authorize's refusals.
var errRefused = errors.New("chat: refused")

// authorize decides whether the peer with the proven key may connect:
// dialed says this side dialled target (NAME or HOST:PORT), else the peer
// connected from remote and gave claimedName. The name judged is target
// for a dialled NAME, else claimedName. The weight of the evidence
// decides (see the names store's rules):
//
//   - a name that no chat can have (mdns.CheckName: look-alikes made of
//     invisible characters among them) is refused;
//   - a name bound Direct or Trusted to another key, or a look-alike of
//     one, is refused;
//   - else the name is bound to key (Direct), replacing a claim of
//     another log, which one line tells; a full store lets the peer in
//     unbound, and one line per run says so.
//
// Each refusal prints one "info> refused" line per (name, key) per run,
// and a stranger's fresh keys are counted, not printed one by one
// (summarised). A key that is no log ID is refused.
//
// Its parameters are plain so that the swarm's Authorize hook can call it
// (see swarmAuthorize).
func (c *Chat) authorize(claimedName, target string, key applog.ID, remote net.Addr, dialed bool) error {
	name := claimedName
	named := dialed && target != "" && !strings.Contains(target, ":")
	if named {
		name = target
	}
	host := hostOf(remote)
	if _, err := applog.ParseID(string(key)); err != nil {
		return fmt.Errorf("%w %s at %s: %w", errRefused, Escape(name), host, err)
	}
	if err := mdns.CheckName(name); err != nil {
		switch n := c.refused.count("", name, key); {
		case n == 0: // told already
		case n <= toldInFull:
			c.info(fmt.Sprintf("refused a peer at %s with key %s: %s", host, key.Short(), Escape(err.Error())))
		case summarised(n):
			c.info(fmt.Sprintf("refused %d peers as names no chat can have so far, the last at %s", n, host))
		}
		return fmt.Errorf("%w %s at %s: %w", errRefused, key.Short(), host, err)
	}
	before, had := c.cfg.Names.Lookup(name)
	b, err := c.cfg.Names.Bind(name, key, names.Direct) // a bound name stays as it is
	switch {
	case errors.Is(err, names.ErrFull):
		if c.refused.once(&c.refused.full) {
			c.info(fmt.Sprintf("the names store holds as many direct bindings as it may: %s at %s is connected, but its name is not bound to its key; scuttle names lists them, scuttle trust binds one",
				Escape(name), host))
		}
		return nil
	case err != nil:
		c.info(fmt.Sprintf("refused %s at %s: %s", Escape(name), host, Escape(err.Error())))
		return fmt.Errorf("%w %s at %s: %w", errRefused, Escape(name), host, err)
	case b.ID != key:
		return c.refuseConflict(name, b, key, host)
	}
	if had && before.How == names.Claimed && before.ID != key {
		c.info(fmt.Sprintf("%s is %s, who connected; the lines as %s of %s, which only claimed the name, print as %s~%s from now on",
			Escape(b.Name), key.Short(), Escape(before.Name), before.ID.Short(), Escape(before.Name), before.ID.Short()))
	}
	return nil
}

// refuseConflict refuses the peer with key at host that gave name, bound
// as b to another key: the first toldInFull such keys are told in full,
// with the "scuttle trust" line that would accept each; further keys as
// the same name are counted (summarised).
func (c *Chat) refuseConflict(name string, b names.Binding, key applog.ID, host string) error {
	shown, bound := Escape(name), Escape(b.Name)
	err := fmt.Errorf("%w %s at %s: key %s is not the %s you know (%s)", errRefused, shown, host, key.Short(), bound, b.ID.Short())
	switch n := c.refused.count(names.Skeleton(b.Name)+" "+string(b.ID), b.Name, key); {
	case n == 0: // told already
	case n <= toldInFull:
		c.info(fmt.Sprintf("refused %s at %s: key %s is not the %s you know (%s); to accept it: scuttle trust %s %s",
			shown, host, key.Short(), bound, b.ID.Short(), shown, key))
	case summarised(n):
		c.info(fmt.Sprintf("refused %d different keys as %s so far, the last at %s; only %s is the %s you know", n, bound, host, b.ID.Short(), bound))
	}
	return err
}

// swarmAuthorize is the swarm's Authorize hook: it judges a peer that
// has proven its key (and its membership of the network) before the
// swarm registers the connection, so a refused peer is never announced
// nor served.
func (c *Chat) swarmAuthorize(p topology.Peer, ci topology.ConnInfo) error {
	return c.authorize(p.Name, ci.Target, applog.IDOf(p.Key), ci.Remote, ci.Dialed)
}

// bindSelf binds the own name to the own log if it is unbound, and says
// so if it is bound to another key, for the own lines then print as
// ME~SHORT.
func (c *Chat) bindSelf() {
	id := c.cfg.DB.ID()
	b, err := c.cfg.Names.Bind(c.cfg.Me, id, names.Direct)
	switch {
	case err != nil:
		c.cfg.Log.Warn("chat: cannot bind the own name", "name", c.cfg.Me, "err", err)
	case b.ID != id:
		c.info(fmt.Sprintf("%s is another key (%s) here: your lines show as %s~%s; to be %s: scuttle trust %s %s",
			Escape(c.cfg.Me), b.ID.Short(), Escape(c.cfg.Me), id.Short(), Escape(c.cfg.Me), Escape(c.cfg.Me), id))
	}
}

// owner returns the log that name is bound to, binding it to author
// (Claimed) if it is unbound and a name a peer can have; "" if it is
// bound to no log. It is entryLine's owner.
func (c *Chat) owner(name string, author applog.ID) applog.ID {
	if b, ok := c.cfg.Names.Lookup(name); ok {
		return b.ID
	}
	if mdns.CheckName(name) != nil {
		return "" // no peer can connect as it, so no log can own it
	}
	b, err := c.cfg.Names.Bind(name, author, names.Claimed)
	if err != nil {
		c.cfg.Log.Debug("chat: name not bound", "name", name, "id", author, "err", err)
		return ""
	}
	return b.ID
}

// nameOf returns the name bound to the log id, "" if none: what a plain
// entry of that log prints under. It is entryLine's nameOf.
func (c *Chat) nameOf(id applog.ID) string {
	if b, ok := c.cfg.Names.NameOf(id); ok {
		return b.Name
	}
	return ""
}

// peerName is the name an info line gives the peer with key id that
// calls itself claimed: claimed if it is bound to id, else a name bound
// to id, else claimed~SHORT (SHORT alone if claimed is empty).
func (c *Chat) peerName(claimed string, id applog.ID) string {
	if b, ok := c.cfg.Names.Lookup(claimed); ok && b.ID == id {
		return claimed
	}
	if b, ok := c.cfg.Names.NameOf(id); ok {
		return b.Name
	}
	if claimed == "" {
		return id.Short()
	}
	return claimed + "~" + id.Short()
}

// hostOf returns the host of addr, for a line a user reads.
func hostOf(addr net.Addr) string {
	if addr == nil {
		return "an unknown address"
	}
	if a, ok := addr.(*net.TCPAddr); ok {
		return a.IP.String()
	}
	if h, _, err := net.SplitHostPort(addr.String()); err == nil {
		return h
	}
	return addr.String()
}

// maxNames bounds what Names returns.
const maxNames = 1024

// Names returns the names the chat knows, sorted by name (the names
// store's bindings), at most 1024.
func (c *Chat) Names() []NameBinding {
	bs := c.cfg.Names.Bindings()
	own := c.cfg.DB.ID()
	out := make([]NameBinding, 0, min(len(bs), maxNames))
	for _, b := range bs[:min(len(bs), maxNames)] {
		out = append(out, NameBinding{Name: Escape(b.Name), Log: b.ID, How: b.How.String(), Own: b.ID == own})
	}
	return out
}

// TrustedLine is what scuttle trust and the chat's /trust say of the
// change ch that bound name by trust.
func TrustedLine(name string, ch names.Change) string {
	if ch.Had && ch.Old.ID != ch.New.ID {
		return fmt.Sprintf("%s is now %s (trusted), was %s (%s since %s)", Escape(name), ch.New.ID, ch.Old.ID, ch.Old.How, ch.Old.Time.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s is %s (trusted)", Escape(name), ch.New.ID)
}
