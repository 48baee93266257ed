package replicate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/topology/testkit"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 20 * time.Second

// tcpPair returns both ends of a TCP connection on 127.0.0.1.
func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		a.Close()
		t.Fatal(r.err)
	}
	t.Cleanup(func() { a.Close(); r.c.Close() })
	return a, r.c
}

// link is a running Serve on each end of one connection.
type link struct {
	cancel context.CancelFunc
	errs   [2]chan error
}

// connect starts Serve for a and b over a new connection (TCP or net.Pipe).
func connect(t testing.TB, a, b Store, tcp bool) *link {
	t.Helper()
	var ca, cb net.Conn
	if tcp {
		ca, cb = tcpPair(t)
	} else {
		ca, cb = net.Pipe()
	}
	return serveBoth(t, ca, cb, a, b)
}

func serveBoth(t testing.TB, ca, cb io.ReadWriteCloser, a, b Store) *link {
	return serveBothOpts(t, ca, cb, a, b, &Options{Peer: "a"})
}

// serveBothOpts is serveBoth with b's end served with bOpts.
func serveBothOpts(t testing.TB, ca, cb io.ReadWriteCloser, a, b Store, bOpts *Options) *link {
	ctx, cancel := context.WithCancel(context.Background())
	l := &link{cancel: cancel, errs: [2]chan error{make(chan error, 1), make(chan error, 1)}}
	go func() { l.errs[0] <- Serve(ctx, ca, a, &Options{Peer: "b"}) }()
	go func() { l.errs[1] <- Serve(ctx, cb, b, bOpts) }()
	t.Cleanup(func() { l.stop(t) })
	return l
}

// recvErr waits up to waitTimeout for Serve's result on ch; what names
// the wait in the failure.
func recvErr(t testing.TB, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(waitTimeout):
		t.Fatalf("%s did not return within %v", what, waitTimeout)
		return nil
	}
}

// stop cancels both ends and waits for them, returning their errors.
func (l *link) stop(t testing.TB) [2]error {
	t.Helper()
	l.cancel()
	var errs [2]error
	for i, ch := range l.errs {
		if ch == nil {
			continue
		}
		errs[i] = recvErr(t, ch, fmt.Sprintf("Serve %d after cancel", i))
		l.errs[i] = nil
	}
	return errs
}

// waitUntil waits until cond holds, re-checking whenever st changes.
func waitUntil(t testing.TB, st Store, what string, cond func() bool) {
	t.Helper()
	timeout := waitTimeout
	if _, ok := t.(*testing.B); ok {
		timeout = 5 * time.Minute
	}
	if *floodLogs > 0 {
		timeout = 15 * time.Minute // TestFloodCost's measurement
	}
	deadline := time.After(timeout)
	for {
		ch := st.Changed()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timeout waiting for %s", what)
		}
	}
}

// waitEqual waits until st holds exactly want.
func waitEqual(t testing.TB, st *fakeStore, want map[applog.ID][][]byte, what string) {
	t.Helper()
	waitUntil(t, st, what, func() bool { return equalLogs(st.snapshot(), want) == "" })
}

// build returns a log of n fake records signed every signEvery and at the end.
func build(id applog.ID, n, signEvery int) [][]byte {
	s := newFake()
	s.appendN(id, n, signEvery)
	return s.logs[id]
}

// load gives st the first n records of each log.
func load(st *fakeStore, logs map[applog.ID][][]byte, n map[applog.ID]int) {
	for id, k := range n {
		st.logs[id] = append([][]byte(nil), logs[id][:k]...)
	}
}

func TestConverge(t *testing.T) {
	x, y, z := testID("x"), testID("y"), testID("z")
	full := map[applog.ID][][]byte{
		x: build(x, 3000, 100),
		y: build(y, 500, 1),
		z: build(z, 2048, 1024),
	}
	tests := []struct {
		name string
		a, b map[applog.ID]int // records held at the start, each a signed prefix
	}{
		{"both empty", nil, nil},
		{"a has one log", map[applog.ID]int{x: 3000}, nil},
		{"b has one log", nil, map[applog.ID]int{y: 500}},
		{"disjoint logs", map[applog.ID]int{x: 3000}, map[applog.ID]int{y: 500, z: 2048}},
		{"a ahead", map[applog.ID]int{x: 3000}, map[applog.ID]int{x: 1200}},
		{"b ahead", map[applog.ID]int{x: 100}, map[applog.ID]int{x: 2900}},
		{"crossed", map[applog.ID]int{x: 3000, y: 7, z: 1024}, map[applog.ID]int{x: 100, y: 500, z: 2048}},
		{"equal", map[applog.ID]int{x: 3000, y: 500}, map[applog.ID]int{x: 3000, y: 500}},
		{"long unsigned runs", map[applog.ID]int{z: 1024}, map[applog.ID]int{z: 2048}},
	}
	for _, tc := range tests {
		for _, tcp := range []bool{false, true} {
			name := tc.name + "/pipe"
			if tcp {
				name = tc.name + "/tcp"
			}
			t.Run(name, func(t *testing.T) {
				testkit.CheckLeaks(t)
				a, b := newFake(), newFake()
				load(a, full, tc.a)
				load(b, full, tc.b)
				want := map[applog.ID][][]byte{}
				for id := range full {
					if k := max(tc.a[id], tc.b[id]); k > 0 {
						want[id] = full[id][:k]
					}
				}
				l := connect(t, a, b, tcp)
				waitEqual(t, a, want, "a to converge")
				waitEqual(t, b, want, "b to converge")
				for i, err := range l.stop(t) {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("Serve %d: got %v, want context.Canceled", i, err)
					}
				}
				if d := equalLogs(a.snapshot(), want); d != "" {
					t.Errorf("a after stop: %s", d)
				}
			})
		}
	}
}

func TestLiveNoEcho(t *testing.T) {
	testkit.CheckLeaks(t)
	a, b := newFake(), newFake()
	x, y := testID("alice"), testID("bob")
	a.appendN(x, 10, 0)
	b.appendN(y, 10, 0)
	ca, cb := tcpPair(t)
	ta, tb := &tapConn{Conn: ca}, &tapConn{Conn: cb}
	serveBoth(t, ta, tb, a, b)
	waitUntil(t, b, "b to get x", func() bool { return b.Head(x) == 10 })
	for i := range 50 {
		a.appendN(x, 1, 0)
		b.appendN(y, 3, 2)
		waitUntil(t, b, "b to get x live", func() bool { return b.Head(x) == uint64(11+i) })
		waitUntil(t, a, "a to get y live", func() bool { return a.Head(y) == uint64(13+3*i) })
	}
	if d := equalLogs(a.snapshot(), b.snapshot()); d != "" {
		t.Fatalf("a and b differ: %s", d)
	}
	// Echo check: nothing of a's own log ever came back to a, nor of b's to b.
	for _, c := range []struct {
		tap *tapConn
		own applog.ID
	}{{ta, x}, {tb, y}} {
		for id, n := range c.tap.records(t) {
			if id == c.own {
				t.Errorf("records of own log %s received: got %d, want 0", id.Short(), n)
			}
		}
	}
}

// tapConn keeps a copy of what is read from the connection.
type tapConn struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.buf.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// records returns how many records of each log were read.
func (c *tapConn) records(t *testing.T) map[applog.ID]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := bufio.NewReader(bytes.NewReader(c.buf.Bytes()))
	m := map[applog.ID]int{}
	var buf []byte
	for {
		typ, p, nbuf, err := readFrame(r, buf)
		buf = nbuf
		if err != nil {
			return m
		}
		if typ == frameRecords {
			var rs records
			if err := decodeRecords(p, &rs); err != nil {
				t.Fatalf("tap: %v", err)
			}
			m[rs.ID] += len(rs.Recs)
		}
	}
}

func TestLine(t *testing.T) {
	testkit.CheckLeaks(t)
	alice, bob, carol := newFake(), newFake(), newFake()
	ia, ib, ic := testID("alice"), testID("bob"), testID("carol")
	alice.appendN(ia, 100, 10)
	bob.appendN(ib, 50, 0)
	carol.appendN(ic, 70, 7)
	connect(t, alice, bob, true)
	connect(t, bob, carol, false)
	for _, st := range []*fakeStore{alice, bob, carol} {
		waitUntil(t, st, "all logs", func() bool {
			return st.Head(ia) == 100 && st.Head(ib) == 50 && st.Head(ic) == 70
		})
	}
	// Live, both ways through bob.
	alice.appendN(ia, 5, 0)
	carol.appendN(ic, 3, 0)
	waitUntil(t, carol, "alice's new records at carol", func() bool { return carol.Head(ia) == 105 })
	waitUntil(t, alice, "carol's new records at alice", func() bool { return alice.Head(ic) == 73 })
	if d := equalLogs(alice.snapshot(), carol.snapshot()); d != "" {
		t.Fatalf("alice and carol differ: %s", d)
	}
}

func TestManyLogs(t *testing.T) {
	testkit.CheckLeaks(t)
	a, b := newFake(), newFake()
	for i := range 100 {
		a.appendN(testID(string(rune('A'+i%26))+strings.Repeat("x", i)), 50, 8)
	}
	connect(t, a, b, true)
	waitEqual(t, b, a.snapshot(), "b to get 100 logs")
	if got := len(b.Heads()); got != 100 {
		t.Fatalf("logs at b: got %d, want 100", got)
	}
}

// cutConn fails reads after n bytes, like a connection lost mid-stream.
type cutConn struct {
	net.Conn
	mu sync.Mutex
	n  int
}

func (c *cutConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n <= 0 {
		c.Conn.Close()
		return 0, io.ErrUnexpectedEOF
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	k, err := c.Conn.Read(p)
	c.n -= k
	return k, err
}

func TestReconnectMidStream(t *testing.T) {
	testkit.CheckLeaks(t)
	a, b := newFake(), newFake()
	x := testID("x")
	a.appendN(x, 20000, 100)
	ca, cb := tcpPair(t)
	l := serveBoth(t, ca, &cutConn{Conn: cb, n: 300 << 10}, a, b)
	if err := recvErr(t, l.errs[1], "b's Serve after the cut"); err == nil {
		t.Fatal("b's Serve: got nil error after the cut")
	}
	l.errs[1] = nil
	l.stop(t)
	got := b.Head(x)
	if got == 0 || got >= 20000 || got%100 != 0 {
		t.Fatalf("b's head after the cut: got %d, want a signed prefix strictly inside 1..20000", got)
	}
	connect(t, a, b, true)
	waitEqual(t, b, a.snapshot(), "b to complete after reconnecting")
}

func TestRestoredPeer(t *testing.T) {
	testkit.CheckLeaks(t)
	a, b := newFake(), newFake()
	x, y := testID("a"), testID("b")
	a.appendN(x, 100, 10)
	b.appendN(y, 80, 10)
	l := connect(t, a, b, true)
	want := map[applog.ID][][]byte{x: a.snapshot()[x], y: b.snapshot()[y]}
	waitEqual(t, a, want, "first sync at a")
	waitEqual(t, b, want, "first sync at b")
	l.stop(t)
	// b loses part of both logs, its own included (ssb-ebt #59).
	b.truncate(x, 30)
	b.truncate(y, 20)
	connect(t, a, b, true)
	waitEqual(t, b, want, "b to recover what it lost")
}

func TestCancelLeavesNothing(t *testing.T) {
	testkit.CheckLeaks(t)
	a, b := newFake(), newFake()
	a.appendN(testID("x"), 50000, 100)
	l := connect(t, a, b, true)
	waitUntil(t, b, "some records", func() bool { return b.Head(testID("x")) > 0 })
	for i, err := range l.stop(t) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Serve %d: got %v, want context.Canceled", i, err)
		}
	}
}

// TestStalledPeer: a peer that never reads is dropped after WriteTimeout,
// and does not hold back another peer served from the same store.
func TestStalledPeer(t *testing.T) {
	testkit.CheckLeaks(t)
	a, b := newFake(), newFake()
	x := testID("x")
	a.appendN(x, 20000, 100)
	stalled, other := net.Pipe()
	defer other.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, stalled, a, &Options{WriteTimeout: 200 * time.Millisecond}) }()
	connect(t, a, b, true)
	waitEqual(t, b, a.snapshot(), "b to sync beside a stalled peer")
	if err := recvErr(t, errc, "Serve to a stalled peer"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("stalled peer: got %v, want a write deadline error", err)
	}
}

// TestUnsignedHead: a store whose head is not signed (never the case for
// applog, whose every commit ends signed) makes the sender hold that log's
// partial run open, sending no other log until the run is signed.
func TestUnsignedHead(t *testing.T) {
	testkit.CheckLeaks(t)
	a, b := newFake(), newFake()
	x, y := testID("x"), testID("y")
	a.appendN(x, 10, 5)
	a.mu.Lock()
	for range 3 { // seqs 11..13, unsigned
		l := a.logs[x]
		a.logs[x] = append(l, fakeRecord(uint64(len(l)+1), l[len(l)-1], []byte("unsigned"), false))
	}
	a.mu.Unlock()
	a.appendN(y, 10, 5)
	connect(t, a, b, false)
	// Depending on the order the sender takes the logs, y is sent before
	// x, or waits behind x's open run.
	waitUntil(t, b, "x's signed part", func() bool { return b.Head(x) == 10 })
	a.appendN(x, 1, 0) // seq 14, signed: completes the run
	waitEqual(t, b, a.snapshot(), "b to get x's completed run")
}
