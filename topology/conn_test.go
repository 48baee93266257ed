package topology

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"
)

// admitSwarm returns a swarm ready for admit, holding one established
// connection to peer "m" dialled by olddialer with verdict sequence
// oldseq.
func admitSwarm(id, olddialer string, oldseq uint64) (*Swarm, *peerConn) {
	s := &Swarm{ID: id, conns: make(map[string]*peerConn), seq: 100}
	s.log = slog.New(slog.DiscardHandler)
	old := &peerConn{conn: &Conn{Peer: Hello{ID: "m"}}, dialer: olddialer, seq: oldseq, done: make(chan struct{})}
	s.conns["m"] = old
	return s, old
}

// TestAdmitDecider: "a" < "m", so a decides: it refuses a new connection
// if the established one was dialled by the other side, and otherwise
// lets the new one replace it, telling m with a verdict either way.
func TestAdmitDecider(t *testing.T) {
	tests := []struct {
		name       string
		olddialer  string // who dialled the established connection
		newdialer  string // who dialled the new one
		ending     bool   // the established one's Handler has returned
		registered bool
		code       byte
	}{
		{"cross, m dialled first", "m", "a", false, false, verdictDuplicate},
		{"cross, a dialled first", "a", "m", false, false, verdictDuplicate},
		{"m dialled again", "m", "m", false, true, verdictAccept},
		{"a dialled again", "a", "a", false, true, verdictAccept},
		{"cross, established one ending", "m", "a", true, true, verdictAccept},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, old := admitSwarm("a", tt.olddialer, 7)
			old.ending = tt.ending
			near, far := net.Pipe()
			defer near.Close()
			defer far.Close()
			verdict := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(io.LimitReader(far, verdictSize))
				verdict <- b
			}()
			pc := &peerConn{conn: &Conn{Peer: Hello{ID: "m"}}, dialer: tt.newdialer}
			registered, other, err := s.admit(near, pc)
			if registered != tt.registered || other != old {
				t.Errorf("got registered %v, other %p; want %v, %p (the established one)", registered, other, tt.registered, old)
			}
			if tt.registered != (err == nil) || (!tt.registered && !errors.Is(err, errDuplicate)) {
				t.Errorf("got error %v", err)
			}
			want := appendVerdict(nil, tt.code, 0)
			if tt.registered {
				want = appendVerdict(nil, tt.code, 101)
			}
			if got := <-verdict; !bytes.Equal(got, want) {
				t.Errorf("verdict sent: got %x, want %x", got, want)
			}
			if got, want := s.conns["m"] == pc, tt.registered; got != want {
				t.Errorf("new connection registered: got %v, want %v", got, want)
			}
		})
	}
}

// TestAdmitFollower: "z" > "m", so z obeys m's verdict, and of two
// accepted connections keeps the one with the higher sequence.
func TestAdmitFollower(t *testing.T) {
	tests := []struct {
		name       string
		verdict    []byte
		registered bool
		err        error
	}{
		{"accepted, newer", appendVerdict(nil, verdictAccept, 8), true, nil},
		{"accepted, but older than the established one", appendVerdict(nil, verdictAccept, 6), false, errDuplicate},
		{"refused", appendVerdict(nil, verdictDuplicate, 0), false, errDuplicate},
		{"unknown code", appendVerdict(nil, 9, 8), false, errMalformed},
		{"truncated", appendVerdict(nil, verdictAccept, 8)[:5], false, errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, old := admitSwarm("z", "m", 7)
			near, far := net.Pipe()
			defer near.Close()
			go func() {
				far.Write(tt.verdict)
				far.Close()
			}()
			pc := &peerConn{conn: &Conn{Peer: Hello{ID: "m"}}, dialer: "m"}
			registered, other, err := s.admit(near, pc)
			if registered != tt.registered || !errors.Is(err, tt.err) {
				t.Errorf("got registered %v, %v; want %v, %v", registered, err, tt.registered, tt.err)
			}
			if registered && (other != old || s.conns["m"] != pc || pc.seq != 8) {
				t.Errorf("got other %p, registered %p, seq %d; want the old one replaced by the new one, seq 8", other, s.conns["m"], pc.seq)
			}
			if !registered && s.conns["m"] != old {
				t.Errorf("the established connection was unregistered")
			}
		})
	}
}

// TestReplacedBySameDialer: bob (the decider) holds alice's connection;
// a new connection from alice's ID (alice restarted before bob noticed)
// replaces it, and bob's events say so in order.
func TestReplacedBySameDialer(t *testing.T) {
	w := newWorld(t)
	bob := w.newNode("id-a-bob", "bob", nil).start()
	alice := w.newNode("id-b-alice", "alice", nil, bob.sw.Listener.Addr().String()).start()
	w.waitFor("alice and bob connected", func() bool { return same(alice, bob) })

	// The "restarted" alice, by hand.
	c, err := net.Dial("tcp", bob.sw.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitTimeout))
	if err := writeHello(c, Hello{ID: "id-b-alice", Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if h, err := readHello(c); err != nil || h.ID != "id-a-bob" {
		t.Fatalf("bob's Hello: got %+v, %v", h, err)
	}
	if code, _, err := readVerdict(c); err != nil || code != verdictAccept {
		t.Fatalf("bob's verdict: got %d, %v; want %d", code, err, verdictAccept)
	}
	var kinds []EventKind
	var reason error
	w.waitFor("bob serves the new connection", func() bool {
		nc := bob.active["id-b-alice"]
		if nc == nil || nc.RemoteAddr().String() != c.LocalAddr().String() {
			return false
		}
		// Snapshot now: the old alice redials soon and replaces c in turn.
		kinds = bob.kinds("id-b-alice")
		if len(bob.events) > 2 {
			reason = bob.events[2].Err
		}
		return true
	})
	if want := []EventKind{Connected, Disconnected, Connected}; !slices.Equal(kinds, want) {
		t.Errorf("bob's events: got %v, want %v", kinds, want)
	} else if !errors.Is(reason, ErrReplaced) {
		t.Errorf("bob's Disconnected reason: got %v, want ErrReplaced", reason)
	}
	alice.stop()
	bob.stop()
}
