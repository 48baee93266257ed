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
	// memberLinger), and a set above Target+1 evicts one member per
	// EvictInterval (1s): each host's fewest connections over a window
	// of 2 s of samples are those it keeps. Under load (the race
	// detector, other packages' tests) the last joins can come after the
	// quiet wait, so the windows are taken until one shows every host at
	// most limit (up to a minute: a host that keeps more fails); no host
	// ever holds more than MaxActive's 10 in any sample.
	var fewest, most []int
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(time.Minute)
	for window := 0; ; window++ {
		fewest, most = make([]int, n), make([]int, n)
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
				if c > 10 {
					t.Fatalf("%s holds %d connections, want at most 10 at any time", r.names[i], c)
				}
			}
			<-tick.C
		}
		if !slices.ContainsFunc(fewest, func(c int) bool { return c > limit }) {
			break
		}
		if time.Now().After(deadline) {
			for i := range n {
				if fewest[i] > limit {
					t.Errorf("%s keeps %d connections after a minute, want at most %d", r.names[i], fewest[i], limit)
				}
			}
			break
		}
		t.Logf("window %d: connections kept %v, at most %v; waiting for the sets to settle", window, fewest, most)
	}
	t.Logf("connections per chat: kept %v, at most %v", fewest, most)
	if _, all := r.deliveries(); !all {
		t.Error("a chat did not print every line")
	}
}
