package ebt

import (
	"testing"
	"time"
)

// TestSimRandomGraph: 200 peers on a random graph of degree about 8 with
// a tenth of the links slow, every peer appending twice: every entry
// reaches every peer, and once the trees have formed (the second round)
// each peer receives each entry about once.
func TestSimRandomGraph(t *testing.T) {
	s := newSim(t, 1, 200, Params{})
	s.randomGraph(8, 0.1)
	s.chatter(2 * time.Second)
	s.runUntil(5 * time.Second)
	s.measuring = true
	s.chatter(2 * time.Second)
	s.runUntil(10 * time.Second)
	slowest := s.check()
	cpd := float64(s.st.copies) / float64(s.st.deliveries)
	t.Logf("copies %d deliveries %d (%.3f per delivery), notes %d in %d batches (%.2f per delivery), max hops %d, slowest %v",
		s.st.copies, s.st.deliveries, cpd, s.st.notes, s.st.noteMsgs, float64(s.st.notes)/float64(s.st.deliveries), s.st.maxHops, slowest)
	if cpd > 1.3 {
		t.Errorf("copies per delivery %.3f, want <= 1.3", cpd)
	}
}
