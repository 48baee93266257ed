package overlay

import (
	"testing"
	"time"

	"scuttle/topology/testkit"
)

// TestSimQuarterLeaves: rooms of 16, 50 and 200 peers joining over 10s
// form one connected overlay with no active set, and no peer's
// connections, above the target plus one (6, 8 and 10); when a quarter
// of the peers leave at once, the rest is still connected before any
// repair, and after 10s, degrees still at most 10.
func TestSimQuarterLeaves(t *testing.T) {
	for _, n := range []int{16, 50, 200} {
		s := newSim(t, 1, Params{})
		for i := 0; i < n; i++ {
			s.at(time.Duration(i)*10*time.Second/time.Duration(n), func() { s.join(n) })
		}
		s.runUntil(30 * time.Second)
		if c := s.components(); c != 1 {
			t.Errorf("%d peers: %d components after joining, want 1", n, c)
		}
		maxA, mean, maxC := s.degrees()
		t.Logf("%d peers joined: max active %d, mean connections %.2f, max connections %d, %d messages", n, maxA, mean, maxC, s.msgs)
		m, _ := New(Params{}, "", 0)
		m.SetRoomSize(n)
		if lim := m.limit(); maxA > lim || maxC > lim {
			t.Errorf("max active %d, max connections %d; want <= %d (target %d + 1, at most 10)", maxA, maxC, lim, m.Target())
		}
		for _, i := range s.r.Perm(n)[:n/4] {
			s.leave(i)
		}
		// Before any repair: the links left hold the rest together.
		if c := s.components(); c != 1 {
			t.Errorf("%d peers: %d components right after a quarter left, want 1", n, c)
		}
		s.runUntil(40 * time.Second)
		if c := s.components(); c != 1 {
			t.Errorf("%d peers: %d components 10s after a quarter left, want 1", n, c)
		}
		maxA, mean, maxC = s.degrees()
		t.Logf("%d peers, a quarter gone: max active %d, mean connections %.2f, max connections %d", n, maxA, mean, maxC)
		if maxA > 10 {
			t.Errorf("max active %d, want <= 10", maxA)
		}
	}
}

// TestSimFigures prints the overlay's figures at 200 and 1,000 peers
// with SCUTTLE_FIGURES=1:
//
//	SCUTTLE_FIGURES=1 go test -run TestSimFigures -v ./topology/overlay/
func TestSimFigures(t *testing.T) {
	testkit.Figures(t)
	for _, n := range []int{200, 1000} {
		s := newSim(t, 5, Params{})
		for i := 0; i < n; i++ {
			s.at(time.Duration(i)*10*time.Second/time.Duration(n), func() { s.join(n) })
		}
		s.runUntil(30 * time.Second)
		c1 := s.components()
		maxA, mean, maxC := s.degrees()
		msgs := s.msgs
		s.runUntil(60 * time.Second)
		steady := float64(s.msgs-msgs) / 30 / float64(n)
		for _, i := range s.r.Perm(n)[:n/4] {
			s.leave(i)
		}
		c2 := s.components()
		s.runUntil(70 * time.Second)
		c3 := s.components()
		maxA2, mean2, maxC2 := s.degrees()
		t.Logf("%d peers: components %d after joining, %d right after a quarter left, %d 10s later; active max %d, connections max %d mean %.2f (after the leave: %d, %d, %.2f); %.2f overlay messages per peer per second in steady state",
			n, c1, c2, c3, maxA, maxC, mean, maxA2, maxC2, mean2, steady)
	}
}
