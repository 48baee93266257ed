package replicate

import (
	"strconv"
	"testing"

	"scuttle/applog"
)

// TestViewExceptions: with a Tree's shared heads, a session keeps only
// the logs its peer holds other than the store, and its view of each
// log is what it would be with a head per log: the store's growth is
// not taken for the peer's, what it was sent or sent raises it, a log
// it was believed ahead on falls back to the store's head past
// maxAhead, never above what the peer said.
func TestViewExceptions(t *testing.T) {
	st := newFake()
	same, behind, ahead, lacked := testID("same"), testID("behind"), testID("ahead"), testID("lacked")
	st.appendN(same, 3, 1)
	st.appendN(behind, 3, 1)
	st.appendN(ahead, 3, 1)
	st.appendN(lacked, 2, 1)
	b := newBase()
	c := &session{st: st, has: map[applog.ID]uint64{}, base: b}
	c.advertise(same, 3)
	c.advertise(behind, 1)
	c.advertise(ahead, 5)
	made := testID("made up")
	c.advertise(made, 7)
	b.register(c)

	view := func(id applog.ID) uint64 { return c.peerHas(id) }
	check := func(when string, want map[applog.ID]uint64, exceptions int) {
		t.Helper()
		for id, w := range want {
			if got := view(id); got != w {
				t.Errorf("%s: the peer's view of %s is %d, want %d", when, id.Short(), got, w)
			}
		}
		b.mu.Lock()
		n := len(c.has)
		b.mu.Unlock()
		if n != exceptions {
			t.Errorf("%s: %d exceptions, want %d", when, n, exceptions)
		}
	}
	check("registered", map[applog.ID]uint64{same: 3, behind: 1, ahead: 5, lacked: 0, made: 7}, 4)
	if got := c.lacking(nil); len(got) != 2 {
		t.Errorf("registered: lacking %v, want the logs behind and lacked", got)
	}

	// The store grows: the peer holds what it held, no more.
	st.appendN(same, 2, 1)
	st.appendN(ahead, 2, 1) // to 5: what the peer said it holds
	b.refresh(st)
	check("the store grew", map[applog.ID]uint64{same: 3, behind: 1, ahead: 5, lacked: 0, made: 7}, 4)

	// Sent the rest: no exception is left but the made-up log.
	c.raise(same, 5)
	c.raise(behind, 3)
	c.raise(lacked, 2)
	check("sent", map[applog.ID]uint64{same: 5, behind: 3, ahead: 5, lacked: 2, made: 7}, 1)

	// Received from the peer further than the store: an exception
	// until the store holds it.
	c.raise(behind, 4)
	check("received", map[applog.ID]uint64{behind: 4}, 2)
	st.appendN(behind, 1, 1)
	b.refresh(st)
	check("received, then stored", map[applog.ID]uint64{behind: 4}, 1)

	// Past maxAhead logs ahead, a note further than the store is taken
	// for the store's head: lower than the peer's word, never above.
	for i := range maxAhead {
		c.lockHas()
		c.adviseLocked(testID("filler "+strconv.Itoa(i)), 1)
		c.unlockHas()
	}
	c.lockHas()
	c.adviseLocked(same, 9)
	c.unlockHas()
	if got := view(same); got != 5 {
		t.Errorf("a note past maxAhead: the peer's view is %d, want the store's head 5", got)
	}
	b.leave(c)
	if len(b.sessions) != 0 {
		t.Errorf("%d sessions registered after the last left", len(b.sessions))
	}
}
