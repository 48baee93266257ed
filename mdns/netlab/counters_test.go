//go:build linux

package netlab

import "testing"

// The parsers, on text as Linux 6.x prints it.

func TestParseDevTx(t *testing.T) {
	dev := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:   45011     132    0    0    0     0          0         0    45011     132    0    0    0     0       0          0
  lan0:    1000      10    0    0    0     0          0         3     2500      20    0    0    0     0       0          0
  lan1:       7       1    0    0    0     0          0         0       40       2    0    0    0     0       0          0
`
	b, p, err := parseDevTx([]byte(dev), "lan")
	if err != nil || b != 2540 || p != 22 {
		t.Errorf("parseDevTx = %d bytes, %d packets, %v; want 2540, 22 (lan0 and lan1, not lo)", b, p, err)
	}
	if _, _, err := parseDevTx([]byte("h\nh\n  lan0 1 2 3\n"), "lan"); err == nil {
		t.Error("parseDevTx took a line without a colon")
	}
	if _, _, err := parseDevTx([]byte("h\nh\n  lan0: 1 2 3\n"), "lan"); err == nil {
		t.Error("parseDevTx took a line of 3 numbers")
	}
}

func TestParseNetstat(t *testing.T) {
	ns := `TcpExt: SyncookiesSent SyncookiesRecv
TcpExt: 0 0
IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets
IpExt: 0 0 5 6 0 0 13128825 79158 300 412 0 0
`
	if v, err := parseNetstat([]byte(ns), "IpExt", "OutMcastOctets"); err != nil || v != 412 {
		t.Errorf("OutMcastOctets = %d, %v; want 412", v, err)
	}
	if _, err := parseNetstat([]byte(ns), "IpExt", "Nope"); err == nil {
		t.Error("parseNetstat found a counter that is not there")
	}
	if _, err := parseNetstat([]byte(ns), "MPTcpExt", "OutMcastOctets"); err == nil {
		t.Error("parseNetstat found a group that is not there")
	}
}

func TestParseSnmp6(t *testing.T) {
	s := "Ip6InReceives                   \t17\nIp6OutMcastOctets               \t672\n"
	if v, err := parseSnmp6([]byte(s), "Ip6OutMcastOctets"); err != nil || v != 672 {
		t.Errorf("Ip6OutMcastOctets = %d, %v; want 672", v, err)
	}
	if _, err := parseSnmp6([]byte(s), "Ip6OutOctets"); err == nil {
		t.Error("parseSnmp6 found a counter that is not there")
	}
}

func TestParseEstablished(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1083 1 0000000077f4feae 100 0 0 10 0
   1: 0100007F:9EB9 0100007F:CADE 01 00000000:00000000 03:00000625 00000000     0        0 0 3 0000000039a8e95c
   2: 0100000A:9EB9 0200000A:1F90 01 00000000:00000000 03:00000625 00000000     0        0 0 3 0000000039a8e95c
   3: 0100000A:9EBA 0300000A:1F90 06 00000000:00000000 03:00000625 00000000     0        0 0 3 0000000039a8e95c
`
	if n, err := parseEstablished([]byte(tcp)); err != nil || n != 1 {
		t.Errorf("tcp: %d established, %v; want 1 (not the listener, the loopback one, the TIME_WAIT one)", n, err)
	}
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:A000 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0
   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:A001 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0
   2: 000080FE00000000000000000100000A:1F90 000080FE00000000000000000200000A:A002 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0
   3: 0000000000000000FFFF00000100000A:1F90 0000000000000000FFFF00000200000A:A003 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0
`
	if n, err := parseEstablished([]byte(tcp6)); err != nil || n != 2 {
		t.Errorf("tcp6: %d established, %v; want 2 (fe80:: and ::ffff:10.0.0.1, not ::1 nor ::ffff:127.0.0.1)", n, err)
	}
	if _, err := parseEstablished([]byte("h\n 0: 0100000A 01\n")); err == nil {
		t.Error("parseEstablished took a line of 3 fields")
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		n    int
		segs map[int][]int
		ok   bool
	}{
		{0, nil, true},
		{MaxHosts, nil, true},
		{MaxHosts + 1, nil, false}, // host 254 would be 10.0.0.255, the broadcast
		{-1, nil, false},
		{3, map[int][]int{2: {0, 255}}, true},
		{3, map[int][]int{2: {256}}, false},
		{3, map[int][]int{2: {-1}}, false},
		{3, map[int][]int{3: {0}}, false}, // no host 3
	} {
		cfg := config{segments: c.segs}
		if err := cfg.check(c.n); (err == nil) != c.ok {
			t.Errorf("%d hosts, segments %v: check says %v; want ok %v", c.n, c.segs, err, c.ok)
		}
	}
}
