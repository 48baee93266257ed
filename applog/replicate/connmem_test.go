package replicate

import (
	"context"
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
	heads := st.Heads()
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
// returns the live heap grown then, and what is left grown once they
// all ended.
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
			n += len(c.has)
		}
		if len(tr.base.sessions) != sessions {
			n = -1
		}
		tr.base.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("the sessions keep %d exceptions to the store's heads, want %d", n, sessions*exceptions)
		}
	}
	grown = heapInUse() - before
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

// TestConnectionMemory: a connection costs its session at most
// maxSessionHeap of live heap, however many logs the store holds: with
// stores of 10,000 and of 60,000 one-entry logs, 8 sessions each, the
// heap per session differs by less than 64 kB, whether the peer holds
// what the store holds, is ahead of it on every log (its word is
// believed for maxAhead logs), or held nothing and was sent every log
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
		{"ahead", 1000, false, maxAhead},
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
				n += len(c.has)
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
