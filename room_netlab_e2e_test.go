//go:build linux

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"scuttle/mdns/netlab"
)

// TestRoomDiscoverBounded: 16 chats on 16 netlab hosts, each started
// as "scuttle chat --discover hI", find each other by DNS-SD but do not
// all connect: each keeps its membership's active set, Target+1 = 6
// peers for a room of 16 (topology/overlay), and closes the connections
// a message or two took. So no host keeps more than 6 connections, and
// at most 10 at any time, with those of a message or two (against 15
// each when every chat dialled every other), and every line typed at a random chat is printed by all 15
// others, forwarded over the overlay's links.
func TestRoomDiscoverBounded(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the lab's 16 network namespaces (mdns/netlab)")
	}
	const n, limit, lines = 16, 6, 10
	lab := netlab.New(t, n)
	r := newRoom(t, n)
	for i, h := range lab.Hosts {
		r.start(t, i, h, []string{"--discover", r.names[i]}, nil)
	}
	upWait := 2*time.Minute + n*3*time.Second
	r.waitFor(t, upWait, "every chat connected to another", func() string {
		var short []string
		for i, c := range r.chats {
			if len(c.connected) == 0 {
				short = append(short, r.names[i])
			}
		}
		if len(short) > 0 {
			return fmt.Sprintf("not connected: %v", short)
		}
		return ""
	})
	for i := range r.chats {
		r.say(t, i, "hello from "+r.names[i])
	}
	for i := range r.chats {
		r.waitPrinted(t, upWait, "hello from "+r.names[i], r.running())
	}
	rng := rand.New(rand.NewPCG(22, n))
	for k := range lines {
		typist := rng.IntN(n)
		text := fmt.Sprintf("room line %d from %s", k, r.names[typist])
		r.say(t, typist, text)
		others := slices.DeleteFunc(r.running(), func(i int) bool { return i == typist })
		r.waitPrinted(t, time.Minute, text, others)
	}
	// The active sets settle: no chat shows a peer joining or leaving
	// its set for 3 s.
	r.waitQuiet(t, 3*time.Second, upWait)
	// A connection of a message or two lives about a second (chat's
	// memberLinger): each host's fewest connections over 2 s of samples
	// are those it keeps, and its most are bounded by MaxActive.
	fewest, most := make([]int, n), make([]int, n)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for k := range 8 {
		for i, h := range lab.Hosts {
			c, err := h.Established()
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 || c < fewest[i] {
				fewest[i] = c
			}
			most[i] = max(most[i], c)
		}
		<-tick.C
	}
	for i := range n {
		if fewest[i] > limit || most[i] > 10 {
			t.Errorf("%s holds %d to %d connections, want at most %d kept and 10 at any time", r.names[i], fewest[i], most[i], limit)
		}
	}
	t.Logf("connections per chat: kept %v, at most %v", fewest, most)
	if _, all := r.deliveries(); !all {
		t.Error("a chat did not print every line")
	}
}
