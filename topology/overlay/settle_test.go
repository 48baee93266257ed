package overlay

import (
	"slices"
	"testing"
	"time"
)

// TestSimSettles: rooms of 16, 32 and 64 peers started within a second,
// as a room's chats launched together, settle: from 10s on, no active
// loses a peer (a few grow to their target), every peer holds at least
// its target less one, and the overlay sends less than one message per
// peer every 5s. A request
// refused is not sent to the same peer again for refuseHold
// ReplyTimeouts; before that rule, a peer below its target asked a full
// one, the nearest, about 4 times a second for as long as the room
// lasted (0.9 messages per peer per second at 16 peers, each a
// connection in a chat).
func TestSimSettles(t *testing.T) {
	for _, n := range []int{16, 32, 64} {
		for seed := uint64(1); seed <= 10; seed++ {
			s := newSim(t, seed, Params{ShuffleInterval: time.Minute})
			s.startRoom(n)
			s.runUntil(10 * time.Second)
			msgs := s.msgs
			if _, removes := s.changes(10*time.Second, 40*time.Second); removes > 0 {
				t.Errorf("%d peers, seed %d: %d peers left active sets from 10s to 40s, want none", n, seed, removes)
			}
			if rate := float64(s.msgs-msgs) / 30 / float64(n); rate >= 0.2 {
				t.Errorf("%d peers, seed %d: %.2f overlay messages per peer per second from 10s to 40s, want < 0.2", n, seed, rate)
			}
			for i, nd := range s.nodes {
				if c, tg := nd.m.count(), nd.m.Target(); c < tg-1 {
					t.Errorf("%d peers, seed %d: peer %d holds %d active, target %d", n, seed, i, c, tg)
				}
			}
			if c := s.components(); c != 1 {
				t.Errorf("%d peers, seed %d: %d components", n, seed, c)
			}
		}
	}
}

// startRoom starts n peers within the first second: each discovers the
// peers already up, and each of those discovers it (DNS-SD both ways),
// the room's size being the peers up.
func (s *sim) startRoom(n int) {
	for range n {
		s.at(time.Duration(s.r.Int64N(int64(time.Second))), func() {
			up := 1
			for _, nd := range s.nodes {
				if nd.up {
					up++
				}
			}
			i := s.join(up)
			for _, nd := range s.nodes[:i] {
				if nd.up {
					nd.m.SetRoomSize(up)
					nd.m.Discovered(simPeer(i), 0)
				}
			}
		})
	}
}

// changes samples the active sets every tick from from to to and returns
// how many peers entered one and how many left one.
func (s *sim) changes(from, to time.Duration) (adds, removes int) {
	s.runUntil(from)
	prev := make([][]Peer, len(s.nodes))
	for i, nd := range s.nodes {
		prev[i] = nd.m.Active()
	}
	for t := from + simTick; t <= to; t += simTick {
		s.runUntil(t)
		for i, nd := range s.nodes {
			cur := nd.m.Active()
			for _, p := range cur {
				if !slices.Contains(prev[i], p) {
					adds++
				}
			}
			for _, p := range prev[i] {
				if !slices.Contains(cur, p) {
					removes++
				}
			}
			prev[i] = cur
		}
	}
	return adds, removes
}
