package topology

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"time"
)

// A Conn is an established connection handed to the Handler: the TLS
// connection, past the handshake and with no deadline set, and who the
// remote is. The Handler may read, write, set deadlines and close it; the
// Swarm closes it when the Handler returns.
type Conn struct {
	net.Conn
	// Peer is the remote, its Key proven by TLS.
	Peer Peer
	// Dialed is true if this side dialled the connection.
	Dialed bool
	// Target is the Swarm.Peers entry the connection was dialled for; ""
	// if it was accepted.
	Target string
}

// peerConn is the registry entry of a connection that got as far as
// settling which connection of its pair is kept.
type peerConn struct {
	conn   *Conn
	nc     net.Conn                // the connection under conn's TLS: its keep-alives are paced
	key    string                  // string(conn.Peer.Key): the registry key
	id     connID                  // the same at both ends of the connection
	cancel context.CancelCauseFunc // ends the connection's context
	done   chan struct{}           // closed when the Handler has returned and Disconnected is emitted
	known  []connID                // decider: the follower's other connections when it reported this one
	seq    uint64                  // the decider's verdict sequence; guarded by Swarm.mu
	ending bool                    // the Handler has returned; guarded by Swarm.mu
}

// outcome is what became of one connection.
type outcome struct {
	peer     Peer      // the remote, if the TLS handshake got that far
	served   bool      // the Handler ran
	existing *peerConn // with errDuplicate: the connection that won, if known
	err      error
}

// connect runs one connection from handshake to end: TLS, network proofs
// and Hellos (secure), Authorize, report, verdict and registration
// (admit), Connected, Handler, Disconnected. t is the target dialled,
// nil for an accepted connection. afterHandshake, if set, runs once the
// handshake is over. nc is closed when connect returns; the
// swarm always closes nc itself, never the TLS connection over it, so
// that a refused peer gets no further byte, not even a TLS alert.
func (s *Swarm) connect(ctx context.Context, nc net.Conn, ci ConnInfo, t *target, afterHandshake func()) outcome {
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

	ci.Remote = nc.RemoteAddr()
	err := nc.SetDeadline(s.handshakeDeadline())
	var sec secured
	if err == nil {
		sec, err = s.secure(ctx, nc, ci.Dialed)
	}
	peer := sec.peer
	var pc *peerConn
	registered := false
	var other *peerConn // the connection replaced, or the one that won
	if err == nil {
		pc = &peerConn{
			conn:   &Conn{Conn: sec.tc, Peer: peer, Dialed: ci.Dialed, Target: ci.Target},
			nc:     nc,
			key:    string(peer.Key),
			id:     sec.id,
			cancel: cancel,
			done:   make(chan struct{}),
		}
		full := s.takeSlot(pc.key, t)
		if full == nil {
			defer s.releaseSlot(pc.key)
		}
		registered, other, err = s.admit(pc, ci, full)
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
		err = fmt.Errorf("topology: handshake with %v: %w", ci.Remote, err)
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

	s.emit(Event{Kind: Connected, Peer: peer, Addr: ci.Remote, Dialed: ci.Dialed, Target: ci.Target})
	reason := s.handle(ctx, pc.conn)
	if ctx.Err() != nil {
		reason = context.Cause(ctx)
	}
	s.mu.Lock()
	pc.ending = true
	s.mu.Unlock()
	closeNow(reason)
	s.emit(Event{Kind: Disconnected, Peer: peer, Addr: ci.Remote, Dialed: ci.Dialed, Target: ci.Target, Err: reason})
	return outcome{peer: peer, served: true, err: reason}
}

// admit runs Authorize and settles, with the peer, whether pc is kept,
// registering it if so (see "One connection per pair" in doc.go). The
// side with the lower key decides for both (decide); the other follows
// its verdict (follow). If pc is registered, other is the connection it
// replaces (nil if none); if not, err says why and, with errDuplicate,
// other is the connection kept, if known. full, if set, refuses pc
// without asking Authorize: MaxConns peers are connected.
func (s *Swarm) admit(pc *peerConn, ci ConnInfo, full error) (registered bool, other *peerConn, err error) {
	authErr := full
	if authErr == nil && s.Authorize != nil {
		if authErr = s.Authorize(pc.conn.Peer, ci); authErr != nil {
			authErr = fmt.Errorf("%w: %w", errUnauthorized, authErr)
		}
	}
	if bytes.Compare(s.pub, pc.conn.Peer.Key) < 0 {
		return s.decide(pc, authErr)
	}
	return s.follow(pc, authErr)
}

// decide is admit on the deciding side: it reads the follower's report
// (ready, with the IDs of the follower's other connections to it; or
// refused), judges pc against the connection registered for the peer,
// and answers with its verdict. authErr is this side's Authorize
// refusal, if any.
func (s *Swarm) decide(pc *peerConn, authErr error) (registered bool, other *peerConn, err error) {
	tc := pc.conn.Conn
	code, ids, err := readReport(tc)
	if err != nil {
		if authErr != nil {
			err = authErr // the reason that counts
		}
		return false, nil, err
	}
	if code == codeRefused {
		return false, nil, errRefusedByPeer
	}
	if authErr != nil {
		tc.Write(appendVerdict(nil, codeRefused, 0)) // best effort: tells the peer why
		return false, nil, authErr
	}
	pc.known = ids
	s.mu.Lock()
	old := s.conns[pc.key]
	if old != nil && !old.ending && (slices.Contains(ids, old.id) || slices.Contains(old.known, pc.id)) {
		// The peer still holds the connection we hold, or knew of
		// this one when it reported that one (the two were made at
		// once): both are alive at both ends; keep the first.
		s.mu.Unlock()
		tc.Write(appendVerdict(nil, verdictDuplicate, 0)) // best effort: tells the peer why
		return false, old, errDuplicate
	}
	s.seq++
	pc.seq = s.seq
	s.conns[pc.key] = pc
	s.paceKeepAlives(pc)
	s.mu.Unlock()
	_, err = tc.Write(appendVerdict(nil, verdictAccept, pc.seq))
	return true, old, err
}

// follow is admit on the following side: it reports pc with the IDs of
// its other connections to the peer (or its refusal, authErr), reads
// the decider's verdict and obeys it, keeping the higher-numbered of two
// accepted connections should their verdicts arrive out of order.
func (s *Swarm) follow(pc *peerConn, authErr error) (registered bool, other *peerConn, err error) {
	tc := pc.conn.Conn
	if authErr != nil {
		tc.Write(appendReport(nil, codeRefused, nil)) // best effort: tells the peer why
		return false, nil, authErr
	}
	ids := s.startReport(pc)
	defer s.endReport(pc)
	if _, err := tc.Write(appendReport(nil, reportReady, ids)); err != nil {
		return false, nil, err
	}
	code, seq, err := readVerdict(tc)
	if err != nil {
		return false, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.conns[pc.key]
	switch code {
	case codeRefused:
		return false, nil, errRefusedByPeer
	case verdictDuplicate:
		return false, old, errDuplicate
	}
	if old != nil && !old.ending && old.seq > seq {
		// The verdicts of two connections arrived out of order.
		return false, old, fmt.Errorf("%w (verdict %d is older than %d)", errDuplicate, seq, old.seq)
	}
	pc.seq = seq
	s.conns[pc.key] = pc
	s.paceKeepAlives(pc)
	return true, old, nil
}

// startReport returns the IDs the follower's report on pc lists: the
// registered connection to the same peer (first), then those whose
// verdict is awaited; and adds pc to the latter until endReport.
func (s *Swarm) startReport(pc *peerConn) []connID {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []connID
	if old := s.conns[pc.key]; old != nil && !old.ending {
		ids = append(ids, old.id)
	}
	for _, o := range s.inflight[pc.key] {
		ids = append(ids, o.id)
	}
	s.inflight[pc.key] = append(s.inflight[pc.key], pc)
	return ids
}

// endReport removes pc from the connections whose verdict is awaited.
func (s *Swarm) endReport(pc *peerConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := slices.DeleteFunc(s.inflight[pc.key], func(o *peerConn) bool { return o == pc })
	if len(l) == 0 {
		delete(s.inflight, pc.key)
	} else {
		s.inflight[pc.key] = l
	}
}

// unregister removes pc from the registry if it is still there.
func (s *Swarm) unregister(pc *peerConn) {
	s.mu.Lock()
	if s.conns[pc.key] == pc {
		delete(s.conns, pc.key)
		s.paceKeepAlives(nil)
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
