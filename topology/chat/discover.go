package chat

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"scuttle/applog"
	"scuttle/mdns"
	"scuttle/topology"
)

// Discovery (chat --discover): the chats a browse of _scuttle._tcp
// finds are dialled by name, but not first come, first served. A table
// holds the instances dialled (maxDiscovered); an instance is proven
// once the peer dialled for it proves, in the TLS handshake, the key
// its TXT id= advertises. Unproven instances take at most
// maxUnprovenPerSource places per source address; one whose dial finds
// no scuttle, or another key than its id=, is dropped from the table and
// skipped until its record changes, and a waiting one takes its place.
// So a host flooding made-up instances holds a few places at a time,
// and a real peer still gets one.

// Bounds of discovery.
const (
	maxDiscovered        = 256  // instances dialled at once
	maxUnprovenPerSource = 8    // of them, not yet proven, per source address
	maxWaiting           = 1024 // instances found and waiting for a place
	maxSkipped           = 1024 // instances dropped, remembered to skip
)

// Discovering is what the chat gives Config.Discover.
type Discovering struct {
	Add    func(peer string) error // swarm.AddPeer
	Remove func(peer string)       // swarm.RemovePeer
	Info   func(line string)       // prints one escaped info line
	// Found, if set, is told of each instance instead of Add, with its
	// log id and an address (host:port, or ""): the membership, which
	// dials a bounded number of them (see membership.go).
	Found func(peer string, id applog.ID, addr string)
	// Dialled carries the Connected and Unreachable events of the
	// connections the chat dialled; when it is full, events are dropped.
	Dialled <-chan topology.Event
}

// A Browser lists a service type's instances: *mdns.Conn.
type Browser interface {
	Browse(ctx context.Context, typ string, found func(mdns.ServiceEntry)) error
}

// Discoverer returns a Config.Discover for the chat me, with peers, in
// the network of key (nil: the public one): a browse of _scuttle._tcp on
// md that adds chats of the same network tag by name, as described
// above, and removes each when it leaves. A chat whose name is no valid
// NAME or whose TXT id is no log ID is skipped, as are me and the chats
// already among peers. A nil log discards diagnostics.
func Discoverer(md Browser, me string, peers []string, key []byte, log *slog.Logger) func(context.Context, Discovering) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, d Discovering) {
		ds := newDiscovery(me, peers, topology.NetworkTag(key), log, d)
		entries := make(chan mdns.ServiceEntry)
		done := make(chan struct{})
		go func() {
			defer close(done)
			md.Browse(ctx, ServiceType, func(e mdns.ServiceEntry) {
				select {
				case entries <- e:
				case <-ctx.Done():
				}
			})
		}()
		defer func() { <-done }()
		for {
			select {
			case e := <-entries:
				ds.entry(e)
			case ev := <-d.Dialled:
				ds.event(ev)
			case <-ctx.Done():
				return
			}
		}
	}
}

// discovery is the state of one Discoverer run; one goroutine owns it.
type discovery struct {
	me    string
	peers []string
	tag   string
	log   *slog.Logger
	d     Discovering

	table    map[string]*dialled          // by lower-case name: added to the swarm
	unproven map[netip.Addr]int           // unproven entries of table, by source
	waiting  map[string]mdns.ServiceEntry // by lower-case name: found, no place yet
	skipped  map[string]string            // by lower-case name: the id dropped
	toldFull bool                         // the info line of a full table was printed
}

// dialled is an instance of the table.
type dialled struct {
	e      mdns.ServiceEntry
	id     applog.ID // its TXT id=
	proven bool
}

func newDiscovery(me string, peers []string, tag string, log *slog.Logger, d Discovering) *discovery {
	return &discovery{me: me, peers: peers, tag: tag, log: log, d: d,
		table: map[string]*dialled{}, unproven: map[netip.Addr]int{},
		waiting: map[string]mdns.ServiceEntry{}, skipped: map[string]string{}}
}

// entry takes one report of the browse.
func (ds *discovery) entry(e mdns.ServiceEntry) {
	name, key := e.Instance, strings.ToLower(e.Instance)
	if strings.EqualFold(name, ds.me) || mdns.CheckName(name) != nil ||
		slices.ContainsFunc(ds.peers, func(p string) bool { return strings.EqualFold(p, name) }) {
		return // itself, not a NAME, or dialled already as one of PEERS
	}
	if tag, _ := TXTValue(e.TXT, "net"); tag != ds.tag {
		ds.log.Debug("discover: a chat of another network", "peer", name)
		return
	}
	id, _ := TXTValue(e.TXT, "id")
	if e.Gone || ds.skipped[key] == id {
		delete(ds.waiting, key)
		if d := ds.table[key]; d != nil && e.Gone {
			ds.drop(key, d)
		}
		return
	}
	delete(ds.skipped, key) // a new id: worth a try
	if _, err := applog.ParseID(id); err != nil {
		ds.log.Debug("discover: no log ID in the TXT record", "peer", name, "id", id)
		return
	}
	if d := ds.table[key]; d != nil {
		d.e = e
		return
	}
	ds.place(key, e)
}

// place adds e to the table if there is room for it, else makes it wait.
func (ds *discovery) place(key string, e mdns.ServiceEntry) {
	if len(ds.table) >= maxDiscovered || ds.unproven[e.Source] >= maxUnprovenPerSource {
		if len(ds.waiting) < maxWaiting {
			ds.waiting[key] = e
		}
		if !ds.toldFull {
			ds.toldFull = true
			ds.d.Info(fmt.Sprintf("--discover found more chats than it dials at once (%d, of which at most %d unproven per address): the others wait for a place",
				maxDiscovered, maxUnprovenPerSource))
		}
		return
	}
	delete(ds.waiting, key)
	id, _ := TXTValue(e.TXT, "id")
	if ds.d.Found != nil {
		ds.d.Found(e.Instance, applog.ID(id), entryAddr(e))
	} else if err := ds.d.Add(e.Instance); err != nil {
		ds.log.Debug("discover: not dialled", "peer", e.Instance, "err", err)
		return
	}
	ds.table[key] = &dialled{e: e, id: applog.ID(id)}
	ds.unproven[e.Source]++
	ds.log.Debug("discover: found", "peer", e.Instance, "addrs", e.Addrs, "port", e.Port, "source", e.Source)
}

// entryAddr is the host:port of e's first address that needs no zone
// (IPv4 first), or "".
func entryAddr(e mdns.ServiceEntry) string {
	for _, a := range e.Addrs {
		if ip, err := netip.ParseAddr(a); err == nil && ip.Zone() == "" && e.Port != 0 {
			return netip.AddrPortFrom(ip, e.Port).String()
		}
	}
	return ""
}

// event takes a Connected or Unreachable event of a dialled peer: an
// instance proven stays; one whose peer has another key than its id=, or
// where no scuttle answers, is dropped and skipped.
func (ds *discovery) event(ev topology.Event) {
	key := strings.ToLower(ev.Target)
	d := ds.table[key]
	if d == nil || d.proven {
		return
	}
	switch {
	case ev.Kind == topology.Connected && applog.IDOf(ev.Peer.Key) == d.id:
		d.proven = true
		ds.release(d.e.Source)
		ds.promote()
	case ev.Kind == topology.Connected, ev.Kind == topology.Unreachable:
		ds.log.Debug("discover: dropped", "peer", d.e.Instance, "event", ev.String())
		if len(ds.skipped) >= maxSkipped {
			clear(ds.skipped)
		}
		ds.skipped[key] = string(d.id)
		ds.drop(key, d)
	}
}

// drop removes d, the table's entry key, and gives its place to a
// waiting instance.
func (ds *discovery) drop(key string, d *dialled) {
	delete(ds.table, key)
	ds.d.Remove(d.e.Instance)
	if !d.proven {
		ds.release(d.e.Source)
	}
	ds.promote()
}

// promote gives a free place to a waiting instance, if one fits.
func (ds *discovery) promote() {
	if len(ds.table) >= maxDiscovered {
		return
	}
	for k, e := range ds.waiting { // map order: a random one that fits
		if ds.unproven[e.Source] < maxUnprovenPerSource {
			ds.place(k, e)
			return
		}
	}
}

// release frees one unproven place of src.
func (ds *discovery) release(src netip.Addr) {
	if ds.unproven[src]--; ds.unproven[src] <= 0 {
		delete(ds.unproven, src)
	}
}

// toDiscovery hands the discoverer the Connected and Unreachable events
// of dialled connections (see Discovering.Dialled); Events must return
// quickly, so one that does not fit is dropped.
func (c *Chat) toDiscovery(e topology.Event) {
	if c.dialled == nil || !e.Dialed && e.Kind != topology.Unreachable ||
		e.Kind != topology.Connected && e.Kind != topology.Unreachable {
		return
	}
	select {
	case c.dialled <- e:
	default:
	}
}
