package replicate

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"scuttle/topology/testkit"
)

// memberEnd is one side's Membership in a test: what it got.
type memberEnd struct {
	out chan []byte
	up  chan struct{}
	in  chan []byte
}

func newMemberEnd() *memberEnd {
	return &memberEnd{out: make(chan []byte, 4), up: make(chan struct{}), in: make(chan []byte, 4)}
}

func (m *memberEnd) membership() *Membership {
	return &Membership{
		Up:  func() { close(m.up) },
		Out: m.out,
		In:  func(p []byte) error { m.in <- bytes.Clone(p); return nil },
	}
}

// TestMembership: two sides with a Tree and Membership speak Version 5:
// both hear Up, and a payload sent either way arrives as it was sent.
func TestMembership(t *testing.T) {
	testkit.CheckLeaks(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	a, b := newMemberEnd(), newMemberEnd()
	ta, _ := NewTree(treeParams)
	tb, _ := NewTree(treeParams)
	ca, cb := net.Pipe()
	wg.Go(func() { Serve(ctx, ca, newFake(), &Options{Tree: ta, Membership: a.membership()}) })
	wg.Go(func() { Serve(ctx, cb, newFake(), &Options{Tree: tb, Membership: b.membership()}) })
	for _, m := range []*memberEnd{a, b} {
		select {
		case <-m.up:
		case <-time.After(waitTimeout):
			t.Fatal("no Up at Version 5")
		}
	}
	a.out <- []byte("from a")
	b.out <- []byte("from b")
	for _, tc := range []struct {
		m    *memberEnd
		want string
	}{{b, "from a"}, {a, "from b"}} {
		select {
		case got := <-tc.m.in:
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("%q did not arrive", tc.want)
		}
	}
}

// TestMembershipV4Peer: a side with Membership and a peer with a Tree
// only run at Version 4: no Up, nothing read from Out, and the logs
// still replicate.
func TestMembershipV4Peer(t *testing.T) {
	testkit.CheckLeaks(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	a := newMemberEnd()
	a.out <- []byte("never sent")
	ta, _ := NewTree(treeParams)
	tb, _ := NewTree(treeParams)
	sa, sb := newFake(), newFake()
	x := testID("x")
	sa.appendN(x, 5, 1)
	ca, cb := net.Pipe()
	wg.Go(func() { Serve(ctx, ca, sa, &Options{Tree: ta, Membership: a.membership()}) })
	wg.Go(func() { Serve(ctx, cb, sb, &Options{Tree: tb}) })
	waitUntil(t, sb, "x at the Version 4 peer", func() bool { return sb.Head(x) == 5 })
	select {
	case <-a.up:
		t.Error("Up at Version 4")
	default:
	}
	if len(a.out) != 1 {
		t.Errorf("%d payloads left in Out, want the 1 never sent", len(a.out))
	}
}

// TestMembershipMalformed: a membership frame below Version 5, one past
// MaxMembershipSize and one In refuses each close the connection as
// malformed.
func TestMembershipMalformed(t *testing.T) {
	testkit.CheckLeaks(t)
	refuse := &Membership{In: func(p []byte) error { return errors.New("refused") }}
	accept := &Membership{In: func(p []byte) error { return nil }}
	for _, tc := range []struct {
		name  string
		m     *Membership
		input []byte
	}{
		{"at Version 4", accept, cat(wireHello(4), wireFrame(frameMember, []byte{1}))},
		{"without Membership", nil, cat(wireHello(5), wireFrame(frameMember, []byte{1}))},
		{"too long", accept, cat(wireHello(5), wireFrame(frameMember, make([]byte, MaxMembershipSize+1)))},
		{"refused", refuse, cat(wireHello(5), wireFrame(frameMember, []byte{1}))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, _ := NewTree(treeParams)
			err := Serve(context.Background(), byteConn{bytes.NewReader(tc.input)}, newFake(), &Options{Tree: tr, Membership: tc.m})
			if !errorsIs(err, ErrMalformed) {
				t.Fatalf("Serve: %v, want ErrMalformed", err)
			}
		})
	}
}

// FuzzServeMember is FuzzServeTree for a session with Membership
// (Version 5): a peer's arbitrary bytes, membership frames included,
// end the session with an error, never a panic or a hang; In gets only
// payloads within MaxMembershipSize, after the hello.
func FuzzServeMember(f *testing.F) {
	start := cat(wireHello(5), wireHeadsEnd())
	f.Add(cat(start, wireFrame(frameMember, []byte{1})))
	f.Add(cat(wireHello(5), wireFrame(frameMember, []byte{3, 1}), wireHeadsEnd()))
	f.Add(cat(start, wireFrame(frameMember, []byte{0})))
	f.Add(cat(wireHello(4), wireFrame(frameMember, []byte{1})))
	f.Add(wireFrame(frameMember, []byte{1}))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, _ := NewTree(treeParams)
		hello := false
		m := &Membership{
			Up: func() { hello = true },
			In: func(p []byte) error {
				if !hello || len(p) > MaxMembershipSize {
					t.Fatalf("In got %d bytes, hello read %v", len(p), hello)
				}
				if len(p) > 0 && p[0] == 0 {
					return errors.New("kind 0")
				}
				return nil
			},
		}
		if err := Serve(context.Background(), byteConn{bytes.NewReader(data)}, newFake(), &Options{Tree: tr, Membership: m}); err == nil {
			t.Fatal("Serve returned nil")
		}
	})
}
