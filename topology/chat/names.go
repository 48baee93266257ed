package chat

import (
	"errors"
	"fmt"
	"net"
	"strings"

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

// maxRefusals bounds the refusals remembered; past it they are
// forgotten and may be printed again, so a peer making up keys cannot
// grow the chat's memory.
const maxRefusals = 1024

// errRefused is wrapped by authorize's refusals.
var errRefused = errors.New("chat: refused")

// authorize decides whether the peer with the proven key may connect:
// dialed says this side dialled target (NAME or HOST:PORT), else the peer
// connected from remote and gave claimedName. The name judged is target
// for a dialled NAME, else claimedName. A name bound to another key is
// refused, with one "info> refused" line per (name, key) per run; an
// unbound name is bound to key (Direct). A name that no chat can have
// is refused, as is a key that is no log ID.
//
// Its parameters are plain so that the swarm's Authorize hook can call it
// (see swarmAuthorize).
func (c *Chat) authorize(claimedName, target string, key applog.ID, remote net.Addr, dialed bool) error {
	name := claimedName
	if dialed && target != "" && !strings.Contains(target, ":") {
		name = target
	}
	if _, err := applog.ParseID(string(key)); err != nil {
		return fmt.Errorf("%w %s at %s: %w", errRefused, Escape(name), hostOf(remote), err)
	}
	if err := mdns.CheckName(name); err != nil {
		return fmt.Errorf("%w %s at %s: %w", errRefused, key.Short(), hostOf(remote), err)
	}
	b, err := c.cfg.Names.Bind(name, key, names.Direct) // a bound name stays as it is
	shown := Escape(name)                               // CheckName lets C1 controls through
	if err != nil {
		c.cfg.Log.Warn("chat: cannot bind a peer's name; refusing it", "name", shown, "id", key, "err", err)
		return fmt.Errorf("%w %s at %s: %w", errRefused, shown, hostOf(remote), err)
	}
	if b.ID == key {
		return nil
	}
	err = fmt.Errorf("%w %s at %s: key %s is not the %s you know (%s)", errRefused, shown, hostOf(remote), key.Short(), shown, b.ID.Short())
	c.mu.Lock()
	r := refusal{b.Name, key} // the bound spelling: "BOB" and "bob" are one name
	first := !c.refused[r]
	if first {
		if len(c.refused) >= maxRefusals {
			clear(c.refused)
		}
		c.refused[r] = true
	}
	c.mu.Unlock()
	if first {
		c.out.info(fmt.Sprintf("refused %s at %s: key %s is not the %s you know (%s); to accept it: scuttle trust %s %s",
			shown, hostOf(remote), key.Short(), shown, b.ID.Short(), shown, key))
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
		c.out.info(fmt.Sprintf("%s is another key (%s) here: your lines show as %s~%s; to be %s: scuttle trust %s %s",
			Escape(c.cfg.Me), b.ID.Short(), Escape(c.cfg.Me), id.Short(), Escape(c.cfg.Me), Escape(c.cfg.Me), id))
	}
}

// owner returns the log that name is bound to, binding it to author
// (Claimed) if it is unbound and a name a peer can have; "" if it is
// bound to no log. It is appendChatLine's owner.
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
