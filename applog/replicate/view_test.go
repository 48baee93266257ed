package replicate

import (
	"strconv"
	"testing"

	"scuttle/applog"
	"scuttle/topology/testkit"
)

// TestViewExceptions: with a Tree's shared heads, a session keeps only
// the logs its peer holds other than the store, and its view of each
// log is what it would be with a head per log: the store's growth is
// not taken for the peer's, what it was sent or sent raises it. Past
// maxExceptions, the peer's word of a log it is ahead on falls back to
// the store's head and of one it is behind on to a lack, never above
// what the peer said, while what it was sent is still kept exactly.
func TestViewExceptions(t *testing.T) {
	st := newFake()
	same, behind, ahead, lacked, late := testID("same"), testID("behind"), testID("ahead"), testID("lacked"), testID("late")
	st.appendN(same, 3, 1)
	st.appendN(behind, 3, 1)
	st.appendN(ahead, 3, 1)
	st.appendN(lacked, 2, 1)
	st.appendN(late, 3, 1)
	b := newBase()
	c := &session{st: st, has: map[applog.ID]uint64{}, base: b}
	b.register(c) // as the peer's hello is read: it lacks every log
	view := func(id applog.ID) uint64 { return c.peerHas(id) }
	check := func(when string, want map[applog.ID]uint64, exceptions, lacks int) {
		t.Helper()
		for id, w := range want {
			if got := view(id); got != w {
				t.Errorf("%s: the peer's view of %s is %d, want %d", when, id.Short(), got, w)
			}
		}
		b.mu.Lock()
		n, l := len(c.has), c.lacks.count()
		b.mu.Unlock()
		if n != exceptions || l != lacks {
			t.Errorf("%s: %d exceptions and %d lacks, want %d and %d", when, n, l, exceptions, lacks)
		}
	}
	check("registered", map[applog.ID]uint64{same: 0, behind: 0, ahead: 0, lacked: 0, late: 0}, 0, 5)

	c.advertise(same, 3)
	c.advertise(behind, 1)
	c.advertise(ahead, 5)
	made := testID("made up")
	c.advertise(made, 7)
	c.advertise(late, 3)
	check("advertised", map[applog.ID]uint64{same: 3, behind: 1, ahead: 5, lacked: 0, made: 7, late: 3}, 3, 1)
	if got := c.lacking(nil); len(got) != 1 || got[0].ID != behind {
		t.Errorf("advertised: lacking %v, want the log behind", got)
	}
	if h, _, ok := c.nextLack(0); !ok || h.ID != lacked {
		t.Errorf("advertised: the first log lacked is %v (%v), want %s", h, ok, lacked.Short())
	}

	// The store grows: the peer holds what it held, no more.
	st.appendN(same, 2, 1)
	st.appendN(ahead, 2, 1) // to 5: what the peer said it holds
	b.refresh(st)
	check("the store grew", map[applog.ID]uint64{same: 3, behind: 1, ahead: 5, lacked: 0, made: 7}, 3, 1)

	// Sent the rest: no exception is left but the made-up log.
	c.raise(same, 5)
	c.raise(behind, 3)
	c.raise(lacked, 2)
	check("sent", map[applog.ID]uint64{same: 5, behind: 3, ahead: 5, lacked: 2, made: 7}, 1, 0)

	// Received from the peer further than the store: an exception
	// until the store holds it.
	c.raise(behind, 4)
	check("received", map[applog.ID]uint64{behind: 4}, 2, 0)
	st.appendN(behind, 1, 1)
	b.refresh(st)
	check("received, then stored", map[applog.ID]uint64{behind: 4}, 1, 0)

	// Past maxExceptions, the peer's word is taken for the store's head
	// where it is ahead, for a lack where it is behind: lower than its
	// word, never above. What it was sent is kept.
	for i := range maxExceptions - 1 {
		c.lockHas()
		c.setLocked(testID("filler "+strconv.Itoa(i)), 1, false)
		c.unlockHas()
	}
	check("full", nil, maxExceptions, 0)
	c.advertise(same, 9)
	if got := view(same); got != 5 {
		t.Errorf("a head past maxExceptions: the peer's view is %d, want the store's head 5", got)
	}
	c.advertise(late, 2)
	if got := view(late); got != 0 {
		t.Errorf("a head behind past maxExceptions: the peer's view is %d, want 0 (a lack)", got)
	}
	st.appendN(behind, 1, 1) // to 5: the peer holds 4 still
	b.refresh(st)
	// no room for the 4 it holds: a lack
	check("full, the store grew", map[applog.ID]uint64{same: 5, late: 0, behind: 0}, maxExceptions, 2)
	c.raise(late, 2) // sent: kept past maxExceptions
	check("full, sent", map[applog.ID]uint64{late: 2, behind: 0}, maxExceptions+1, 1)
	if _, whole := c.sendFrom(same); !whole {
		t.Errorf("full: a log the peer lacks is sent in turns, want whole")
	}
	b.leave(c)
	if len(b.sessions) != 0 {
		t.Errorf("%d sessions registered after the last left", len(b.sessions))
	}
}

// TestViewEagerRoom: a session that keeps maxExceptions exact heads
// makes room for the head of a log its peer is eager for (at Version 4,
// the only logs sent) by taking a lack for a log it is not eager for,
// which is not sent; if every exception is of a log the peer is eager
// for, the new head falls to a lack.
func TestViewEagerRoom(t *testing.T) {
	st := newFake()
	var ids []applog.ID
	for i := range maxExceptions + 1 {
		id := testID("log " + strconv.Itoa(i))
		st.logs[id] = build(id, 3, 1)
		ids = append(ids, id)
	}
	b := newBase()
	c := &session{st: st, has: map[applog.ID]uint64{}, base: b}
	b.register(c)
	for _, id := range ids {
		c.advertise(id, 1) // behind: the last past maxExceptions, a lack
	}
	last := ids[maxExceptions]
	if got := c.peerHas(last); got != 0 {
		t.Fatalf("the head past maxExceptions: the peer's view is %d, want 0 (a lack)", got)
	}
	state := func() (int, int) {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(c.has), c.lacks.count()
	}
	c.lockHas()
	c.setEagerLocked(last)
	c.setLocked(last, 2, false) // a push from seq 3: the peer holds 2
	c.unlockHas()
	if got := c.peerHas(last); got != 2 {
		t.Errorf("an eager log past maxExceptions: the peer's view is %d, want 2", got)
	}
	if n, l := state(); n != maxExceptions || l != 1 {
		t.Errorf("an eager log past maxExceptions: %d exceptions and %d lacks, want %d and 1", n, l, maxExceptions)
	}

	// Every exception eager: no room.
	c.lockHas()
	for _, id := range ids {
		c.setEagerLocked(id)
	}
	var lacked applog.ID
	for _, id := range ids {
		if v, _ := c.hasLocked(id); v == 0 {
			lacked = id
		}
	}
	c.setLocked(lacked, 2, false)
	c.unlockHas()
	if got := c.peerHas(lacked); got != 0 {
		t.Errorf("every exception eager: the peer's view of a lacked log is %d, want 0 (a lack)", got)
	}
	if n, l := state(); n != maxExceptions || l != 1 {
		t.Errorf("every exception eager: %d exceptions and %d lacks, want %d and 1", n, l, maxExceptions)
	}
}

// TestTreeBehindPastCap: at Version 4, a peer behind on more logs than
// maxExceptions (seq 1 of 3,000 2-entry logs) is sent every one of
// them: the heads past the cap are lacks, sent from seq 1, which it
// skips.
func TestTreeBehindPastCap(t *testing.T) {
	testkit.CheckLeaks(t)
	const n = 3 * maxExceptions
	a, b := logsOf(n, 2), logsOf(n, 1)
	ta, _ := NewTree(treeParams)
	tb, _ := NewTree(treeParams)
	_, stop := treePairs(t, a, b, ta, tb, 1, false) // until neither keeps an exception
	defer stop()
	heads := b.Heads()
	behind := 0
	for _, h := range heads {
		if h != 2 {
			behind++
		}
	}
	if len(heads) != n || behind != 0 {
		t.Errorf("the peer holds %d logs, %d of them not to seq 2, want %d and none", len(heads), behind, n)
	}
}

// TestBitsetNextAnd: nextAnd finds the least common member from i on,
// across words and past the shorter set's end.
func TestBitsetNextAnd(t *testing.T) {
	var a, b bitset
	for _, i := range []int{3, 64, 70, 200} {
		a.set(i)
	}
	for _, i := range []int{3, 65, 70, 130} {
		b.set(i)
	}
	for _, tc := range []struct {
		from, want int
		ok         bool
	}{
		{0, 3, true},
		{3, 3, true},
		{4, 70, true},
		{70, 70, true},
		{71, 0, false}, // 200 is past b's words, 130 not in a
		{500, 0, false},
	} {
		got, ok := a.nextAnd(b, tc.from)
		if got != tc.want || ok != tc.ok {
			t.Errorf("nextAnd from %d = %d, %v, want %d, %v", tc.from, got, ok, tc.want, tc.ok)
		}
		if got2, ok2 := b.nextAnd(a, tc.from); got2 != got || ok2 != ok {
			t.Errorf("b.nextAnd(a) from %d = %d, %v, want %d, %v", tc.from, got2, ok2, got, ok)
		}
	}
}
