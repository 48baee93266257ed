package topology

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// A Conn is an established connection handed to the Handler: the network
// connection, past the handshake and with no deadline set, and what the
// remote said in the handshake. The Handler may read, write, set
// deadlines and close it; the Swarm closes it when the Handler returns.
type Conn struct {
	net.Conn
	// Peer is the remote's handshake.
	Peer Hello
	// Dialed is true if this side dialled the connection.
	Dialed bool
}

// peerConn is the registry entry of an established connection.
type peerConn struct {
	conn   *Conn
	dialer string                  // ID of the side that dialled
	cancel context.CancelCauseFunc // ends the connection's context
	done   chan struct{}           // closed when the Handler has returned and Disconnected is emitted
	seq    uint64                  // the decider's verdict sequence; guarded by Swarm.mu
	ending bool                    // the Handler has returned; guarded by Swarm.mu
}

// outcome is what became of one connection.
type outcome struct {
	peer     Hello     // the remote's handshake, if it got that far
	served   bool      // the Handler ran
	existing *peerConn // with errDuplicate: the connection that won, if known
	err      error
}

// connect runs one connection from handshake to end: Hellos, verdict and
// registration (admit), Connected, Handler, Disconnected. afterHandshake,
// if set, runs once the handshake is over. nc is closed when connect
// returns.
func (s *Swarm) connect(ctx context.Context, nc net.Conn, dialed bool, afterHandshake func()) outcome {
	ctx, cancel := context.WithCancelCause(ctx)
	ncClosed := make(chan struct{})
	stopClose := context.AfterFunc(ctx, func() { nc.Close(); close(ncClosed) })
	closeNow := func(cause error) {
		cancel(cause)
		if !stopClose() {
			<-ncClosed
		}
	}
	defer closeNow(nil)

	peer, err := s.exchangeHellos(nc, dialed)
	var pc *peerConn
	registered := false
	var other *peerConn // the connection replaced, or the one that won
	if err == nil {
		pc = &peerConn{
			conn:   &Conn{Conn: nc, Peer: peer, Dialed: dialed},
			dialer: peer.ID,
			cancel: cancel,
			done:   make(chan struct{}),
		}
		if dialed {
			pc.dialer = s.ID
		}
		registered, other, err = s.admit(nc, pc)
	}
	if err == nil {
		err = nc.SetDeadline(time.Time{})
	}
	if afterHandshake != nil {
		afterHandshake()
	}
	if err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		err = fmt.Errorf("topology: handshake with %v: %w", nc.RemoteAddr(), err)
	}
	if !registered {
		return outcome{peer: peer, existing: other, err: err}
	}
	defer close(pc.done)
	defer s.unregister(pc)
	if other != nil {
		// The Handlers of one peer never overlap: wait for the old one.
		other.cancel(ErrReplaced)
		<-other.done
	}
	if err == nil && ctx.Err() != nil { // replaced in turn, or shutting down
		err = context.Cause(ctx)
	}
	if err != nil {
		return outcome{peer: peer, err: err}
	}

	s.emit(Event{Kind: Connected, Peer: peer, Addr: nc.RemoteAddr(), Dialed: dialed})
	reason := s.handle(ctx, pc.conn)
	if ctx.Err() != nil {
		reason = context.Cause(ctx)
	}
	s.mu.Lock()
	pc.ending = true
	s.mu.Unlock()
	closeNow(reason)
	s.emit(Event{Kind: Disconnected, Peer: peer, Addr: nc.RemoteAddr(), Dialed: dialed, Err: reason})
	return outcome{peer: peer, served: true, err: reason}
}

// admit settles, with the peer, whether pc is kept, and registers it if
// so. The side with the lower ID decides for both and sends the verdict
// (see "One connection per pair" in doc.go); the other side obeys it.
// If pc is registered, other is the connection it replaces (nil if none);
// if not, err wraps errDuplicate and other is the connection that won,
// if known.
func (s *Swarm) admit(nc net.Conn, pc *peerConn) (registered bool, other *peerConn, err error) {
	id := pc.conn.Peer.ID
	if s.ID < id {
		s.mu.Lock()
		old := s.conns[id]
		if old != nil && !old.ending && old.dialer != pc.dialer {
			s.mu.Unlock()
			nc.Write(appendVerdict(nil, verdictDuplicate, 0)) // best effort: tells the peer why
			return false, old, errDuplicate
		}
		s.seq++
		pc.seq = s.seq
		s.conns[id] = pc
		s.mu.Unlock()
		_, err := nc.Write(appendVerdict(nil, verdictAccept, pc.seq))
		return true, old, err
	}
	code, seq, err := readVerdict(nc)
	if err != nil {
		return false, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.conns[id]
	if code == verdictDuplicate {
		return false, old, errDuplicate
	}
	if old != nil && !old.ending && old.seq > seq {
		// The verdicts of two connections arrived out of order.
		return false, old, fmt.Errorf("%w (verdict %d is older than %d)", errDuplicate, seq, old.seq)
	}
	pc.seq = seq
	s.conns[id] = pc
	return true, old, nil
}

// unregister removes pc from the registry if it is still there.
func (s *Swarm) unregister(pc *peerConn) {
	s.mu.Lock()
	if s.conns[pc.conn.Peer.ID] == pc {
		delete(s.conns, pc.conn.Peer.ID)
	}
	s.mu.Unlock()
}

// handle runs the Handler, or by default reads until the connection ends.
func (s *Swarm) handle(ctx context.Context, c *Conn) error {
	if s.Handler != nil {
		return s.Handler(ctx, c)
	}
	_, err := io.Copy(io.Discard, c)
	return err
}
