package topology

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Bounds of the inbound connections that have not finished their
// handshake (see "Threat model" in doc.go).
const (
	// maxPendingHandshakes bounds them in all.
	maxPendingHandshakes = 64
	// maxPendingPerSource bounds those from one remote address; more
	// from that address are closed at once.
	maxPendingPerSource = 8
	// pendingLogEvery spaces the log lines about closed handshakes, which
	// a stranger can cause at the pace it connects.
	pendingLogEvery = time.Second
)

// pendingTable is the set of accepted connections in their handshake,
// by source address. A source holds at most maxPendingPerSource of them.
// When all maxPendingHandshakes are taken, a connection from a source
// that holds fewer than the busiest one takes the slot of that source's
// oldest, which is closed: a host that keeps sockets open and idle only
// ever competes with itself, and one spread over many addresses loses
// its oldest sockets to each newcomer, while an honest handshake, done
// within a few round trips, is rarely the oldest.
type pendingTable struct {
	mu       sync.Mutex
	bySource map[string][]*pendingConn // oldest first
	total    int
	seq      uint64    // of the last entry added
	lastLog  time.Time // of the last line about a closed handshake
	unlogged int       // closed since then, not logged
}

// A pendingConn is one entry of the pendingTable.
type pendingConn struct {
	nc  net.Conn
	src string
	seq uint64 // order of arrival
}

// sourceOf is the key of nc's remote address in the pendingTable: its IP
// address for TCP, else the whole address.
func sourceOf(nc net.Conn) string {
	a := nc.RemoteAddr()
	if a == nil {
		return ""
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap().String()
	}
	return a.String()
}

// add admits nc to the table. It returns the entry to pass to remove, or
// nil if nc must be closed at once; and the connection, if any, that
// was evicted to make room, which the caller closes. why says why a
// connection is closed, and log whether to log it now (with n, the
// closures not logged since the last line).
func (p *pendingTable) add(nc net.Conn, now time.Time) (e *pendingConn, evicted net.Conn, why string, log bool, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bySource == nil {
		p.bySource = make(map[string][]*pendingConn)
	}
	src := sourceOf(nc)
	mine := len(p.bySource[src])
	switch {
	case mine >= maxPendingPerSource:
		why = "too many handshakes in progress from this address"
	case p.total >= maxPendingHandshakes:
		busiest := p.busiest()
		if len(p.bySource[busiest]) <= mine {
			why = "too many handshakes in progress"
			break
		}
		old := p.bySource[busiest][0]
		p.remove(old)
		evicted = old.nc
		why = "too many handshakes in progress; closed the oldest of the busiest address"
	}
	if evicted != nil || why == "" {
		p.seq++
		e = &pendingConn{nc: nc, src: src, seq: p.seq}
		p.bySource[src] = append(p.bySource[src], e)
		p.total++
	}
	if why != "" {
		p.unlogged++
		if now.Sub(p.lastLog) >= pendingLogEvery {
			log, n = true, p.unlogged
			p.lastLog, p.unlogged = now, 0
		}
	}
	return e, evicted, why, log, n
}

// busiest returns the source that holds the most entries; of two, the
// one whose oldest entry is older. The caller holds p.mu.
func (p *pendingTable) busiest() string {
	var best []*pendingConn
	for _, l := range p.bySource {
		if len(l) > len(best) || len(l) == len(best) && l[0].seq < best[0].seq {
			best = l
		}
	}
	if best == nil {
		return ""
	}
	return best[0].src
}

// remove takes e out of the table if it is still there. The caller holds
// p.mu.
func (p *pendingTable) remove(e *pendingConn) {
	l := p.bySource[e.src]
	for i, o := range l {
		if o != e {
			continue
		}
		l = append(l[:i], l[i+1:]...)
		p.total--
		if len(l) == 0 {
			delete(p.bySource, e.src)
		} else {
			p.bySource[e.src] = l
		}
		return
	}
}

// done takes e out of the table: its handshake is over.
func (p *pendingTable) done(e *pendingConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.remove(e)
}
