package replicate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/replicate/ebt"
	"scuttle/topology/testkit"
)

// manyLogs returns two fake stores holding the same n one-entry logs
// (the records shared, not copied), built without a notification each.
func manyLogs(n int) (a, b *fakeStore) {
	a, b = newFake(), newFake()
	for i := range n {
		id := testID("log " + strconv.Itoa(i))
		l := [][]byte{fakeRecord(1, nil, []byte("one entry"), true)}
		a.logs[id], b.logs[id] = l, l
	}
	return a, b
}

// peerHeads returns the frames of a Version 3 peer that advertises the
// logs st holds, each at its head plus plus (0: what st holds; more: a
// peer ahead, or lying), or none if none: its hello, its heads in frames
// of 1000, their end.
func peerHeads(st Store, plus uint64, none bool) []byte {
	return wirePeerHeads(st.Heads(), plus, none)
}

// wirePeerHeads is peerHeads of a store whose heads are heads.
func wirePeerHeads(heads map[applog.ID]uint64, plus uint64, none bool) []byte {
	ids := slices.Sorted(func(yield func(applog.ID) bool) {
		for id := range heads {
			if !yield(id) {
				return
			}
		}
	})
	out := wireHello(versionNoTree)
	var hs []head
	for _, id := range ids {
		if none {
			break
		}
		hs = append(hs, head{id, heads[id] + plus})
		if len(hs) == 1000 {
			out = append(out, wireHeads(hs...)...)
			hs = hs[:0]
		}
	}
	return append(append(out, wireHeads(hs...)...), wireHeadsEnd()...)
}

// peerSessions serves st with tr to sessions peers that speak Version 3,
// send frames (their hello, heads and heads end) and read all, waits
// until each session has their heads, has read the store and sent what
// they lack (its exceptions to the store's heads are exceptions), and
// returns the live heap grown then (settled: the notes on their way
// sent), and what is left grown once they all ended.
func peerSessions(t *testing.T, st *fakeStore, tr *Tree, frames []byte, sessions, exceptions int) (grown, after int64) {
	t.Helper()
	before := heapInUse()
	ctx, cancel := context.WithCancel(context.Background())
	var wg, heads sync.WaitGroup
	var conns []net.Conn
	for range sessions {
		vc, pc := net.Pipe()
		conns = append(conns, pc)
		heads.Add(1)
		wg.Go(func() {
			Serve(ctx, vc, st, &Options{Tree: tr, WriteTimeout: -1, WatchHead: func(uint64) { heads.Done() }})
		})
		wg.Go(func() { io.Copy(io.Discard, pc) })
		wg.Go(func() { pc.Write(frames) })
	}
	heads.Wait()
	deadline := time.Now().Add(waitTimeout)
	for n := -1; n != sessions*exceptions; time.Sleep(time.Millisecond) {
		n = 0
		tr.base.mu.Lock()
		for c := range tr.base.sessions {
			n += viewExceptions(c)
		}
		if len(tr.base.sessions) != sessions {
			n = -1
		}
		tr.base.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("the sessions keep %d exceptions to the store's heads, want %d", n, sessions*exceptions)
		}
	}
	grown = settledHeap(t) - before
	cancel()
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	after = heapInUse() - before
	runtime.KeepAlive(st)
	runtime.KeepAlive(tr)
	runtime.KeepAlive(frames)
	return grown, after
}

// viewExceptions returns how many logs the peer of c, registered, holds other
// than the store as c knows: its exceptions, and the logs it lacks. Called
// with the base's mutex held.
func viewExceptions(c *session) int { return len(c.has) + c.lacks.count() }

// TestConnectionMemory: a connection costs its session at most
// maxSessionHeap of live heap, however many logs the store holds: with
// stores of 10,000 and of 60,000 one-entry logs, 8 sessions each, the
// heap per session differs by less than 64 kB, whether the peer holds
// what the store holds, is ahead of it on every log (its word is
// believed for maxExceptions logs), or held nothing and was sent every log
// (item 7 of issue 19: about 100 bytes per log held before, 10 MB a
// session at 60,000 logs). Once the sessions end, nothing of them is
// held.
func TestConnectionMemory(t *testing.T) {
	testkit.CheckLeaks(t)
	const maxSessionHeap = 512 << 10
	sizes := []int{10000, 60000}
	if testing.Short() {
		sizes = []int{2000, 10000}
	}
	for _, peer := range []struct {
		name       string
		plus       uint64
		none       bool
		exceptions int
	}{
		{"caught up", 0, false, 0},
		{"ahead", 1000, false, maxExceptions},
		{"new", 0, true, 0},
	} {
		t.Run(peer.name, func(t *testing.T) {
			var per []int64
			for _, n := range sizes {
				st, _ := manyLogs(n)
				frames := peerHeads(st, peer.plus, peer.none)
				tr, err := NewTree(treeParams)
				if err != nil {
					t.Fatal(err)
				}
				// A first session fills what the Tree keeps per store
				// (the store's heads, shared by its sessions).
				peerSessions(t, st, tr, peerHeads(st, 0, false), 1, 0)
				const sessions = 8
				grown, after := peerSessions(t, st, tr, frames, sessions, peer.exceptions)
				p := grown / sessions
				t.Logf("store of %d logs: %d bytes per session, %d left once the %d ended", n, p, after, sessions)
				if p > maxSessionHeap {
					t.Errorf("store of %d logs: %d bytes per session, want at most %d", n, p, maxSessionHeap)
				}
				if after > sessions*16<<10 {
					t.Errorf("store of %d logs: %d bytes still held once the %d sessions ended, want at most %d", n, after, sessions, sessions*16<<10)
				}
				per = append(per, p)
			}
			if d := per[1] - per[0]; d > 64<<10 {
				t.Errorf("a session holds %d bytes more with a store of %d logs than with %d, want at most %d", d, sizes[1], sizes[0], 64<<10)
			}
		})
	}
}

// treePairs connects pairs sessions between a and b, each side with its
// Tree (Version 4), waits until every session of the Trees has the
// peer's heads and keeps no exception to its store's heads (the stores
// hold the same logs) and, if idle, until the Trees keep no state of any
// log for the new sessions (their peers' first notes are in: package
// ebt, Machine.Kept), and returns the live heap grown then, and a
// function that ends the pairs and waits for them.
func treePairs(t *testing.T, a, b *fakeStore, ta, tb *Tree, pairs int, idle bool) (int64, func()) {
	t.Helper()
	want := make(map[*Tree]int)
	known := make(map[*Tree]map[ebt.Peer]bool)
	for _, tr := range []*Tree{ta, tb} {
		tr.base.mu.Lock()
		want[tr] = len(tr.base.sessions) + pairs
		tr.base.mu.Unlock()
		tr.mu.Lock()
		known[tr] = make(map[ebt.Peer]bool)
		for k := range tr.sessions {
			known[tr][k] = true
		}
		tr.mu.Unlock()
	}
	before := settledHeap(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg, heads sync.WaitGroup
	for range pairs {
		ca, cb := net.Pipe()
		for _, end := range []struct {
			conn net.Conn
			st   Store
			tr   *Tree
		}{{ca, a, ta}, {cb, b, tb}} {
			heads.Add(1)
			wg.Go(func() {
				Serve(ctx, end.conn, end.st, &Options{Tree: end.tr, WriteTimeout: -1, WatchHead: func(uint64) { heads.Done() }})
			})
		}
	}
	heads.Wait()
	deadline := time.Now().Add(waitTimeout)
	for _, tr := range []*Tree{ta, tb} {
		for n := -1; n != 0; time.Sleep(time.Millisecond) {
			n = 0
			tr.base.mu.Lock()
			for c := range tr.base.sessions {
				n += viewExceptions(c)
			}
			if len(tr.base.sessions) != want[tr] {
				n = -1
			}
			tr.base.mu.Unlock()
			if n == 0 && idle {
				n = treeKept(tr, known[tr])
			}
			if time.Now().After(deadline) {
				t.Fatalf("the sessions keep %d exceptions to the store's heads, want none", n)
			}
		}
	}
	grown := settledHeap(t) - before
	return grown, func() {
		cancel()
		wg.Wait()
		runtime.KeepAlive(a)
		runtime.KeepAlive(b)
	}
}

// settledHeap returns the least live heap of 10 readings 30 ms apart,
// once two of them 10 ms apart differ by less than 32 kB: the sessions
// before sent their first notes, which go once sent, and a copy of the
// store's heads that the Tree read meanwhile (every resyncEvery) is gone.
func settledHeap(t *testing.T) int64 {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	h := heapInUse()
	for {
		time.Sleep(10 * time.Millisecond)
		n := heapInUse()
		if d := n - h; d < 32<<10 && d > -32<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live heap did not settle: %d bytes, then %d", h, n)
		}
		h = n
	}
	least := h
	for range 10 {
		time.Sleep(30 * time.Millisecond)
		least = min(least, heapInUse())
	}
	return least
}

// treeKept returns how many logs tr's machine keeps state of for its
// sessions but those in old.
func treeKept(tr *Tree, old map[ebt.Peer]bool) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for k := range tr.sessions {
		if !old[k] {
			n += tr.m.Kept(k)
		}
	}
	return n
}

// TestConnectionMemoryTree: at Version 4 a session whose peer holds
// what its store holds, and that is neither source nor watcher of any
// log, costs at most 1 MiB of live heap however many logs the store
// holds: with stores of 10,000 and of 60,000 one-entry logs, the heap
// per session differs by at most 128 KiB, less than 3 bytes per log
// (measured: about 475 kB at either size, 2 kB apart). It is
// measured over 4 pairs of sessions connected after 1 + Watchers pairs,
// which take each log's roles in the broadcast tree (its source and
// watchers), once the Trees keep no state of any log for them (package
// ebt, TestIdleMemory). Before the tree kept only the logs whose state
// differs from the idle one, such a session cost about 100 bytes per log
// the store held: 6 MB at 60,000 logs.
func TestConnectionMemoryTree(t *testing.T) {
	testkit.CheckLeaks(t)
	const maxSessionHeap, maxGrowth = 1 << 20, 128 << 10
	sizes := []int{10000, 60000}
	if testing.Short() {
		sizes = []int{2000, 10000}
	}
	var per []int64
	for _, n := range sizes {
		a, b := manyLogs(n)
		ta, _ := NewTree(treeParams)
		tb, _ := NewTree(treeParams)
		_, stop := treePairs(t, a, b, ta, tb, 1, false) // what the Trees keep per store
		stop()
		_, stopRoles := treePairs(t, a, b, ta, tb, 1+ebt.DefaultWatchers, false)
		const pairs = 4
		grown, stop := treePairs(t, a, b, ta, tb, pairs, true)
		p := grown / (2 * pairs)
		stop()
		stopRoles()
		t.Logf("store of %d logs at Version 4: %d bytes per session", n, p)
		if p > maxSessionHeap {
			t.Errorf("store of %d logs at Version 4: %d bytes per session, want at most %d", n, p, maxSessionHeap)
		}
		per = append(per, p)
	}
	if d := per[1] - per[0]; d > maxGrowth {
		t.Errorf("a session at Version 4 holds %d bytes more with a store of %d logs than with %d, want at most %d", d, sizes[1], sizes[0], maxGrowth)
	}
}

// logsOf returns a fake store holding n logs of entries entries each
// (the records shared, not copied), built without a notification each.
func logsOf(n, entries int) *fakeStore {
	st := newFake()
	var l [][]byte
	for seq := range entries {
		var prev []byte
		if seq > 0 {
			prev = l[seq-1]
		}
		l = append(l, fakeRecord(uint64(seq+1), prev, []byte("an entry"), true))
	}
	for i := range n {
		st.logs[testID("log "+strconv.Itoa(i))] = l
	}
	return st
}

// peerNotes returns the frames of a Version 4 peer that, if eager, holds
// none of the logs st holds and asks this side to push each of them (an
// eager note at seq 0), else holds what st holds (a lazy note at its
// head): its hello, the notes in frames of notesPerFrame, the heads end.
func peerNotes(st Store, eager bool) []byte {
	var notes []ebt.Note
	for id, h := range st.Heads() {
		if eager {
			h = 0
		}
		notes = append(notes, ebt.Note{Log: ebt.Log(id), Seq: h, Eager: eager})
	}
	out := wireHello(versionNoMembership)
	var enc ebt.Encoder
	for len(notes) > 0 {
		n := min(len(notes), notesPerFrame)
		p, err := enc.Append(nil, notes[:n])
		if err != nil {
			panic(err)
		}
		out = append(out, wireFrame(frameNotes, p)...)
		notes = notes[n:]
	}
	return append(out, wireHeadsEnd()...)
}

// stalledPeer is the peer end pc of a session: it sends frames at once,
// then reads nothing (if heads, nothing past the session's heads) until
// read is closed; then it reads every frame
// and closes done once it was sent, if recs, every log of want up to its
// head (records it holds are sent again to a peer that lacks the log as
// far as the session knows, and count too) and, if notes, a note of
// every log of want at its head (the peer reads none before read, or
// the heads' notes would be counted in its session's heap, unless it
// reads the heads: it decodes them then, for the logs they number).
// headed, if not nil, is called once the heads are read.
func stalledPeer(pc net.Conn, frames []byte, heads, recs, notes bool, headed func(), read <-chan struct{}, want map[applog.ID]uint64, done chan<- struct{}) {
	pc.Write(frames)
	r := bufio.NewReaderSize(pc, 64<<10)
	var buf []byte
	var dec ebt.Decoder
	var nts []ebt.Note
	noted := make(map[applog.ID]bool)
	got := make(map[applog.ID]uint64)
	left := 0
	if recs {
		left += len(want)
	}
	if notes {
		left += len(want)
	}
	count := func(typ byte, p []byte) {
		switch typ {
		case frameNotes:
			var err error
			if nts, err = dec.Decode(nts[:0], p); err != nil {
				return
			}
			for _, nt := range nts {
				if id := applog.ID(nt.Log); notes && !noted[id] && nt.Seq == want[id] && nt.Seq > 0 {
					noted[id] = true
					if left--; left == 0 {
						close(done)
					}
				}
			}
		case frameRecords:
			var rs records
			if decodeRecords(p, &rs) != nil {
				return
			}
			last := rs.First + uint64(len(rs.Recs)) - 1
			if h, ok := want[rs.ID]; recs && ok && got[rs.ID] < h && last >= h {
				if left--; left == 0 {
					close(done)
				}
			}
			got[rs.ID] = max(got[rs.ID], last)
		}
	}
	for heads {
		typ, p, nbuf, err := readFrame(r, buf)
		buf = nbuf
		if err != nil {
			if headed != nil {
				headed()
			}
			return
		}
		if notes {
			count(typ, p)
		}
		heads = typ != frameHeadsEnd
	}
	if headed != nil {
		headed()
	}
	<-read
	for {
		typ, p, nbuf, err := readFrame(r, buf)
		buf = nbuf
		if err != nil {
			return
		}
		count(typ, p)
	}
}

// TestConnectionMemoryStalled: a session with a Tree whose peer has
// sent its heads and reads nothing yet, so that nothing is sent to it,
// holds a constant of live heap plus a few bits per log the store
// holds (issue 19): with stores of 10,000 and of 60,000 logs, 4 such
// sessions each, the heap per session is at most a constant (the row's
// heap) plus perLog bytes a log, and grows by at most perLog bytes a
// log, whether the peer advertises nothing (it lacks every log: about
// 210 kB at either size) or is behind on every log (seq 1 of 2-entry
// logs, past maxExceptions: about 390 kB). A peer at Version 4 that
// asks for every log eagerly costs the same plus the ebt machine's
// state of every log on its link (package ebt, Memory: a byte a log),
// at most 4 bytes a log in all, whether it reads the session's heads
// but no record (measured: 630 to 650 kB at 10,000 logs, 695 to 711 kB
// at 60,000, about 1.3 bytes a log) or reads nothing at all, so that
// the session's heads wait for it (465 and 545 kB, about 1.6 bytes a
// log: the heads are owed, a bit per log, and taken maxQueuedNotes at
// a time). Before, the session's view and eager set cost about 60, 120
// and 200 bytes a log of the first three: 640 kB and 3.5 MB, 1.3 and 7.4
// MB, 3.0 and 17.5 to 18.5 MB; and a peer that read nothing, its heads
// all queued, about 100 bytes a log: 1.27 MB and 6.2 MB. Once the peers
// read, each is sent every log to its head, and the one that read
// nothing a note of every log at its head.
func TestConnectionMemoryStalled(t *testing.T) {
	testkit.CheckLeaks(t)
	sizes := []int{10000, 60000}
	if testing.Short() {
		sizes = []int{2000, 10000}
	}
	for _, peer := range []struct {
		name    string
		entries int // of each log the store holds
		frames  func(st Store) []byte
		heads   bool  // the peer reads the session's heads
		heap    int64 // bytes a session may hold whatever the logs
		perLog  int64 // bytes a session may grow by per log the store holds
		v4      bool  // the peer, and the first session, which fills the Tree, are at Version 4
	}{
		{"new", 1, func(st Store) []byte { return peerHeads(st, 0, true) }, false, 512 << 10, 1, false},
		{"behind", 2, func(st Store) []byte {
			heads := st.Heads()
			for id := range heads {
				heads[id] = 1
			}
			return wirePeerHeads(heads, 0, false)
		}, false, 512 << 10, 1, false},
		// The tree keeps state of every log on the link (package ebt,
		// Memory: a byte a log and neighbour), beside the session's
		// bit.
		{"eager", 1, func(st Store) []byte { return peerNotes(st, true) }, true, 768 << 10, 4, true},
		// It reads nothing, not even the session's heads: they wait
		// for it, owed by the tree's machine (a bit a log).
		{"eager unread", 1, func(st Store) []byte { return peerNotes(st, true) }, false, 768 << 10, 4, true},
	} {
		t.Run(peer.name, func(t *testing.T) {
			var per []int64
			for _, n := range sizes {
				st := logsOf(n, peer.entries)
				want := st.Heads()
				frames := peer.frames(st)
				tr, err := NewTree(treeParams)
				if err != nil {
					t.Fatal(err)
				}
				// A first session fills what the Tree keeps per store
				// (and at Version 4, its machine's state of each log).
				fill := peerHeads(st, 0, false)
				if peer.v4 {
					fill = peerNotes(st, false)
				}
				peerSessions(t, st, tr, fill, 1, 0)
				const sessions = 4
				before := heapInUse()
				ss := startStalled(st, tr, sessions, func(pc net.Conn, read <-chan struct{}, done chan<- struct{}) {
					stalledPeer(pc, frames, peer.heads, true, peer.v4 && !peer.heads, nil, read, want, done)
				})
				if peer.v4 {
					waitEager(t, tr, sessions, want)
				}
				// The least of a few readings: not a copy of the store's
				// heads the Tree reads now and then (resyncEvery).
				p := (settledHeap(t) - before) / sessions
				t.Logf("store of %d logs, peer %s and stalled: %d bytes per session", n, peer.name, p)
				if p > peer.heap+peer.perLog*int64(n) {
					t.Errorf("store of %d logs, peer %s and stalled: %d bytes per session, want at most %d", n, peer.name, p, peer.heap+peer.perLog*int64(n))
				}
				per = append(per, p)
				ss.finish(t, fmt.Sprintf("store of %d logs, peer %s: a peer was not sent every log once it read", n, peer.name))
				runtime.KeepAlive(frames)
			}
			if d, bound := per[1]-per[0], peer.perLog*int64(sizes[1]-sizes[0]); d > bound {
				t.Errorf("peer %s: a stalled session holds %d bytes more with a store of %d logs than with %d, want at most %d", peer.name, d, sizes[1], sizes[0], bound)
			}
		})
	}
}

// stalledSessions are sessions served from one store and Tree, each to
// a peer (a stalledPeer) that reads nothing until read is closed.
type stalledSessions struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	conns  []net.Conn
	dones  []chan struct{}
	read   chan struct{}
}

// startStalled serves sessions sessions of st with tr, each to a peer
// run by peer, and returns once each session has read its peer's heads.
func startStalled(st Store, tr *Tree, sessions int, peer func(pc net.Conn, read <-chan struct{}, done chan<- struct{})) *stalledSessions {
	ctx, cancel := context.WithCancel(context.Background())
	ss := &stalledSessions{cancel: cancel, read: make(chan struct{})}
	var heads sync.WaitGroup
	for range sessions {
		vc, pc := net.Pipe()
		done := make(chan struct{})
		ss.conns = append(ss.conns, pc)
		ss.dones = append(ss.dones, done)
		heads.Add(1)
		ss.wg.Go(func() {
			Serve(ctx, vc, st, &Options{Tree: tr, WriteTimeout: -1, WatchHead: func(uint64) { heads.Done() }})
		})
		ss.wg.Go(func() { peer(pc, ss.read, done) })
	}
	heads.Wait()
	return ss
}

// finish lets the peers read, fails the test with msg for each peer
// that is not done within waitTimeout, and ends the sessions.
func (ss *stalledSessions) finish(t *testing.T, msg string) {
	t.Helper()
	close(ss.read)
	for i, done := range ss.dones {
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Errorf("%s (peer %d)", msg, i)
		}
	}
	ss.cancel()
	for _, c := range ss.conns {
		c.Close()
	}
	ss.wg.Wait()
}

// waitEager waits until tr has sessions besides the first, each of
// which is eager for every log of want.
func waitEager(t *testing.T, tr *Tree, sessions int, want map[applog.ID]uint64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		tr.mu.Lock()
		var cs []*session
		for _, c := range tr.sessions {
			cs = append(cs, c)
		}
		tr.mu.Unlock()
		n := 0
		for _, c := range cs {
			all := true
			for id := range want {
				if !c.isEager(id) {
					all = false
					break
				}
			}
			if all {
				n++
			}
		}
		if n == sessions {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions are eager for every log, want %d", n, sessions)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConnectionMemoryNotesBurst: at Version 4, a session whose peer
// holds every log (10,000 or 60,000), asked to be noted each, and reads
// nothing once it read the session's heads, while every log's head
// rises at once: the Tree queues at most maxQueuedNotes of the burst's
// notes for it (the machine owes it the rest, a bit per log), so that
// its live heap is a constant plus a few bytes a log (measured: 182 kB
// at 10,000 logs, 206 kB at 60,000; before, every note was queued, then
// held by the sender, and the machine kept the burst's list of notes
// waiting (NoteDelay): 462 kB and 2.3 MB, about 37 bytes a log). Once
// the peers read, each is noted every log at its new head: no note is
// lost.
func TestConnectionMemoryNotesBurst(t *testing.T) {
	testkit.CheckLeaks(t)
	const maxSessionHeap, perLog = 768 << 10, 4
	sizes := []int{10000, 60000}
	if testing.Short() {
		sizes = []int{10000, 20000}
	}
	var per []int64
	for _, n := range sizes {
		two := logsOf(1, 2).logs[testID("log 0")]
		st := newFake()
		for i := range n {
			st.logs[testID("log "+strconv.Itoa(i))] = two[:1]
		}
		want := make(map[applog.ID]uint64, n)
		for id := range st.logs {
			want[id] = 2
		}
		frames := peerNotes(st, false)
		tr, err := NewTree(treeParams)
		if err != nil {
			t.Fatal(err)
		}
		peerSessions(t, st, tr, frames, 1, 0) // fills the Tree and its machine
		const sessions = 4
		var headed sync.WaitGroup
		headed.Add(sessions)
		ss := startStalled(st, tr, sessions, func(pc net.Conn, read <-chan struct{}, done chan<- struct{}) {
			stalledPeer(pc, frames, true, false, true, headed.Done, read, want, done)
		})
		headed.Wait()
		before := settledHeap(t)
		st.mu.Lock()
		for id := range st.logs {
			st.logs[id] = two
		}
		st.notify()
		st.mu.Unlock()
		// Each session's burst is past maxQueuedNotes: the machine owes
		// the rest.
		deadline := time.Now().Add(waitTimeout)
		for {
			tr.mu.Lock()
			owing, queued := 0, 0
			for _, c := range tr.sessions {
				if tr.m.Owing(c.key) > 0 {
					owing++
				}
				c.mu.Lock()
				queued = max(queued, len(c.outNotes))
				c.mu.Unlock()
			}
			tr.mu.Unlock()
			if queued > maxQueuedNotes {
				t.Fatalf("store of %d logs: %d notes queued for a session, want at most %d", n, queued, maxQueuedNotes)
			}
			if owing == sessions {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("store of %d logs: %d sessions are owed notes, want %d", n, owing, sessions)
			}
			time.Sleep(time.Millisecond)
		}
		p := (settledHeap(t) - before) / sessions
		t.Logf("store of %d logs, every head risen, peers stalled: %d bytes per session", n, p)
		if p > maxSessionHeap+perLog*int64(n) {
			t.Errorf("store of %d logs, every head risen, peers stalled: %d bytes per session, want at most %d", n, p, maxSessionHeap+perLog*int64(n))
		}
		per = append(per, p)
		ss.finish(t, fmt.Sprintf("store of %d logs: a peer was not noted every log at its new head once it read", n))
		runtime.KeepAlive(frames)
	}
	if d, bound := per[1]-per[0], perLog*int64(sizes[1]-sizes[0]); d > bound {
		t.Errorf("a session holds %d bytes more with a store of %d logs than with %d, want at most %d", d, sizes[1], sizes[0], bound)
	}
}
