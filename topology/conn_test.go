package topology

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// admitSwarm returns a swarm with key self, ready for admit, holding one
// established connection (id {7}, verdict sequence 7) to the peer with
// key peer.
func admitSwarm(self, peer []byte) (*Swarm, *peerConn) {
	s := &Swarm{pub: self, conns: make(map[string]*peerConn), inflight: make(map[string][]*peerConn), seq: 100}
	s.log = slog.New(slog.DiscardHandler)
	old := &peerConn{conn: &Conn{Peer: Peer{Key: peer}}, key: string(peer), id: connID{7}, seq: 7, done: make(chan struct{})}
	s.conns[old.key] = old
	return s, old
}

var errNo = errors.New("not the bob you know")

// TestAdmitDecider: keys[0] decides. It keeps the established connection
// only if the follower's report says it still holds that one, and lets
// the new one replace it otherwise (a returning peer); it tells the
// follower with a verdict either way.
func TestAdmitDecider(t *testing.T) {
	k := testKeys(2)
	me, peer := pubKey(k[0]), pubKey(k[1])
	tests := []struct {
		name       string
		report     []byte
		noOld      bool  // no established connection
		ending     bool  // the established one's Handler has returned
		authorize  error // what Authorize returns
		registered bool
		replaces   bool // other is the established one
		err        error
		verdict    []byte // sent to the follower
	}{
		{"peer holds the established one", appendReport(nil, reportReady, []connID{{1}, {7}}), false, false, nil, false, true, errDuplicate, appendVerdict(nil, verdictDuplicate, 0)},
		{"peer knew this one when it reported the established one", appendReport(nil, reportReady, nil), false, false, nil, false, true, errDuplicate, appendVerdict(nil, verdictDuplicate, 0)},
		{"peer knows no other (it returned)", appendReport(nil, reportReady, nil), false, false, nil, true, true, nil, appendVerdict(nil, verdictAccept, 101)},
		{"peer knows other ones only", appendReport(nil, reportReady, []connID{{1}, {2}}), false, false, nil, true, true, nil, appendVerdict(nil, verdictAccept, 101)},
		{"established one ending", appendReport(nil, reportReady, []connID{{7}}), false, true, nil, true, true, nil, appendVerdict(nil, verdictAccept, 101)},
		{"none established", appendReport(nil, reportReady, []connID{{7}}), true, false, nil, true, false, nil, appendVerdict(nil, verdictAccept, 101)},
		{"peer refused", appendReport(nil, codeRefused, nil), false, false, nil, false, false, errRefusedByPeer, nil},
		{"Authorize refused", appendReport(nil, reportReady, nil), false, false, errNo, false, false, errNo, appendVerdict(nil, codeRefused, 0)},
		{"malformed report", []byte{9, 0}, false, false, nil, false, false, errMalformed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, old := admitSwarm(me, peer)
			old.ending = tt.ending
			if strings.HasPrefix(tt.name, "peer knew this one") {
				old.known = []connID{{8}}
			}
			if tt.noOld {
				delete(s.conns, old.key)
			}
			var asked []Peer
			s.Authorize = func(p Peer, c ConnInfo) error { asked = append(asked, p); return tt.authorize }
			near, far := net.Pipe()
			verdict := make(chan []byte, 1)
			go func() {
				far.Write(tt.report)
				b, _ := io.ReadAll(far)
				verdict <- b
			}()
			pc := &peerConn{conn: &Conn{Conn: near, Peer: Peer{Key: peer, Name: "bob"}}, key: string(peer), id: connID{8}}
			registered, other, err := s.admit(pc, ConnInfo{Target: "bob"}, nil)
			near.Close()
			if registered != tt.registered || (other == old) != tt.replaces || !errors.Is(err, tt.err) {
				t.Errorf("got registered %v, other is the established one %v, %v; want %v, %v, %v", registered, other == old, err, tt.registered, tt.replaces, tt.err)
			}
			if got := <-verdict; !bytes.Equal(got, tt.verdict) {
				t.Errorf("verdict sent: got %x, want %x", got, tt.verdict)
			}
			if got := s.conns[pc.key] == pc; got != tt.registered {
				t.Errorf("new connection registered: got %v, want %v", got, tt.registered)
			}
			if len(asked) != 1 || asked[0].Name != "bob" {
				t.Errorf("Authorize asked about %v, want bob once", asked)
			}
		})
	}
}

// TestAdmitFollower: keys[1] obeys keys[0]'s verdict, reports the
// connections to it that it still holds, and of two accepted connections
// keeps the one with the higher sequence.
func TestAdmitFollower(t *testing.T) {
	k := testKeys(2)
	me, peer := pubKey(k[1]), pubKey(k[0])
	tests := []struct {
		name       string
		verdict    []byte
		authorize  error
		registered bool
		err        error
		report     []byte // sent to the decider
	}{
		{"accepted, newer", appendVerdict(nil, verdictAccept, 8), nil, true, nil, appendReport(nil, reportReady, []connID{{7}, {5}})},
		{"accepted, but older than the established one", appendVerdict(nil, verdictAccept, 6), nil, false, errDuplicate, appendReport(nil, reportReady, []connID{{7}, {5}})},
		{"duplicate", appendVerdict(nil, verdictDuplicate, 0), nil, false, errDuplicate, appendReport(nil, reportReady, []connID{{7}, {5}})},
		{"refused by the decider", appendVerdict(nil, codeRefused, 0), nil, false, errRefusedByPeer, appendReport(nil, reportReady, []connID{{7}, {5}})},
		{"unknown code", appendVerdict(nil, 9, 8), nil, false, errMalformed, appendReport(nil, reportReady, []connID{{7}, {5}})},
		{"truncated", appendVerdict(nil, verdictAccept, 8)[:5], nil, false, errMalformed, appendReport(nil, reportReady, []connID{{7}, {5}})},
		{"Authorize refused", nil, errNo, false, errUnauthorized, appendReport(nil, codeRefused, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, old := admitSwarm(me, peer)
			// Another connection to the same peer, in its handshake.
			s.inflight[old.key] = []*peerConn{{key: old.key, id: connID{5}}}
			s.Authorize = func(Peer, ConnInfo) error { return tt.authorize }
			near, far := net.Pipe()
			report := make(chan []byte, 1)
			go func() {
				b := make([]byte, len(tt.report))
				n, _ := io.ReadFull(far, b)
				report <- b[:n]
				far.Write(tt.verdict)
				far.Close()
			}()
			pc := &peerConn{conn: &Conn{Conn: near, Peer: Peer{Key: peer}}, key: string(peer), id: connID{8}}
			registered, other, err := s.admit(pc, ConnInfo{}, nil)
			near.Close()
			if registered != tt.registered || !errors.Is(err, tt.err) {
				t.Errorf("got registered %v, %v; want %v, %v", registered, err, tt.registered, tt.err)
			}
			if got := <-report; !bytes.Equal(got, tt.report) {
				t.Errorf("report sent: got %x, want %x", got, tt.report)
			}
			if registered && (other != old || s.conns[pc.key] != pc || pc.seq != 8) {
				t.Errorf("got other %p, registered %p, seq %d; want the old one replaced by the new one, seq 8", other, s.conns[pc.key], pc.seq)
			}
			if !registered && s.conns[pc.key] != old {
				t.Errorf("the established connection was unregistered")
			}
			if l := s.inflight[pc.key]; len(l) != 1 || l[0].id != (connID{5}) {
				t.Errorf("in-flight connections after admit: %v, want only the other one", l)
			}
		})
	}
}
