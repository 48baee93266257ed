//go:build linux

package mdns

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"scuttle/mdns/netlab"
)

// TestBrowseRoomFigures measures what the browsers of a room cost in
// multicast DNS, the concern of duplicate question suppression (RFC 6762
// §7.3): N netlab hosts on one bridge (SCUTTLE_MDNS_ROOM=N) each run
// this test binary as a process (TestHelperRoom) that browses
// _scuttle._tcp and registers its own instance hI, as chat --discover
// does, started 50 ms apart (1.55 s for 32, as a room started
// together). It reports the multicast octets (IP, as the kernels count
// them) and the packets all hosts sent in three windows from the first
// start: 0–10 s (probes, announcements, first queries), 10–70 s (the
// browsers' doubling rounds at about 15, 31 and 63 s) and 70–110 s (the
// SRV and address records' refresh at 80% of their 120 s TTL). It is a
// measurement: run it on main and on a change in the same session.
//
//	SCUTTLE_MDNS_ROOM=32 go test -run '^TestBrowseRoomFigures$' -v ./mdns
func TestBrowseRoomFigures(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SCUTTLE_MDNS_ROOM"))
	if n < 2 {
		t.Skip("set SCUTTLE_MDNS_ROOM to the number of hosts to measure")
	}
	lab := netlab.New(t, n)
	type reading struct{ octets, packets uint64 }
	read := func() reading {
		var r reading
		for _, h := range lab.Hosts {
			c, err := h.Counters()
			if err != nil {
				t.Fatal(err)
			}
			r.octets += c.McastOctets
			r.packets += c.TxPackets
		}
		return r
	}
	marks := []time.Duration{0, 10 * time.Second, 70 * time.Second, 110 * time.Second}
	readings := []reading{read()}
	start := time.Now()
	for i, h := range lab.Hosts {
		env := append(os.Environ(), "SCUTTLE_MDNS_HELPER=room", fmt.Sprintf("SCUTTLE_MDNS_ROOM_NAME=h%d", i))
		h.StartLines(t, env, os.Args[0], "-test.run=^TestHelperRoom$")
		time.Sleep(50 * time.Millisecond)
	}
	for _, m := range marks[1:] {
		time.Sleep(time.Until(start.Add(m)))
		readings = append(readings, read())
	}
	for i := 1; i < len(readings); i++ {
		t.Logf("%3d hosts, %v–%v: %d multicast octets, %d packets sent", n, marks[i-1], marks[i],
			readings[i].octets-readings[i-1].octets, readings[i].packets-readings[i-1].packets)
	}
}

// TestHelperRoom is not a test: TestBrowseRoomFigures runs this binary
// inside a lab host with SCUTTLE_MDNS_HELPER=room to browse
// _scuttle._tcp and register the instance (and host) named by
// SCUTTLE_MDNS_ROOM_NAME, until its standard input closes or it is
// signalled.
func TestHelperRoom(t *testing.T) {
	if os.Getenv("SCUTTLE_MDNS_HELPER") != "room" {
		t.Skip("a helper process of TestBrowseRoomFigures")
	}
	ctx, c := helperConn(t, 5*time.Minute)
	go c.Browse(ctx, "_scuttle._tcp", func(ServiceEntry) {})
	name := os.Getenv("SCUTTLE_MDNS_ROOM_NAME")
	if err := c.RegisterService(ctx, Service{Instance: name, Type: "_scuttle._tcp", Host: name, Port: 4242}); err != nil {
		t.Fatal(err)
	}
	waitStopped(ctx)
}
