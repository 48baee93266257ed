package doctor

import (
	"slices"
	"testing"
)

func TestIGMPGroups(t *testing.T) {
	igmp := "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n" +
		"1\tlo        :     2      V3\n\t\t\t\tFB0000E0     1 0:00000000\t\t0\n\t\t\t\t010000E0     1 0:00000000\t\t0\n" +
		"2\tlan0      :     1      V3\n\t\t\t\t010000E0     1 0:00000000\t\t0\n"
	if got := igmpGroups(igmp, "FB0000E0"); !got["lo"] || got["lan0"] || len(got) != 1 {
		t.Errorf("igmpGroups = %v, want lo only", got)
	}
	igmp6 := "1    lo              ff0200000000000000000000000000fb     1 00000004 0\n" +
		"2    lan0            ff020000000000000000000000000001     1 0000000C 0\n"
	if got := igmp6Groups(igmp6, "ff0200000000000000000000000000fb"); !got["lo"] || len(got) != 1 {
		t.Errorf("igmp6Groups = %v, want lo only", got)
	}
}

func TestSocketInodes(t *testing.T) {
	const (
		udpHeader = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
		tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		// Port 5353 is 14E9, 8080 is 1F90.
		udp5353  = " 1234: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000   104        0 23456 2 0000000000000000 0\n"
		udp5353b = " 1235: FB0000E0:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 23457 2 0000000000000000 0\n"
		udpOther = " 1236: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 31000 2 0000000000000000 0\n"
		udp6     = "  10: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   104        0 23458 2 0000000000000000 0\n"
		tcpListn = "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 40001 1 0000000000000000 100 0 0 10 0\n"
		tcpEstab = "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 40002 1 0000000000000000 20 4 30 10 -1\n"
	)
	tests := []struct {
		name  string
		table string
		port  uint16
		state string
		want  []string
	}{
		{"empty", "", 5353, anyState, nil},
		{"header only", udpHeader, 5353, anyState, nil},
		{"udp, two on the port", udpHeader + udp5353 + udpOther + udp5353b, 5353, anyState, []string{"23456", "23457"}},
		{"udp, another port", udpHeader + udpOther, 5353, anyState, nil},
		{"udp6", udpHeader + udp6, 5353, anyState, []string{"23458"}},
		{"the header is never a socket", udp5353 + udpOther, 5353, anyState, nil},
		{"tcp, listening only", tcpHeader + tcpListn + tcpEstab, 8080, tcpListen, []string{"40001"}},
		{"tcp, any state", tcpHeader + tcpListn + tcpEstab, 8080, anyState, []string{"40001", "40002"}},
		{"short line", udpHeader + " 1: 00000000:14E9 00000000:0000 07\n", 5353, anyState, nil},
		{"no port", udpHeader + " 1: 00000000 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 5 2 0 0\n", 0, anyState, nil},
		{"port not hex", udpHeader + " 1: 00000000:XYZW 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 5 2 0 0\n", 0, anyState, nil},
		{"port too wide", udpHeader + " 1: 00000000:114E9 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 5 2 0 0\n", 5353, anyState, nil},
	}
	for _, tt := range tests {
		if got := socketInodes(tt.table, tt.port, tt.state); !slices.Equal(got, tt.want) {
			t.Errorf("%s: socketInodes(port %d, state %q) = %q, want %q", tt.name, tt.port, tt.state, got, tt.want)
		}
	}
}

func TestMulticastRoute(t *testing.T) {
	const header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	const (
		deflt   = "eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
		deflt2  = "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
		subnet  = "eth0\t0000000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
		mcast   = "lan0\t000000E0\t00000000\t0001\t0\t0\t0\t000000F0\t0\t0\t0\n"
		badMask = "lan0\t000000E0\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0\n"
	)
	tests := []struct {
		name, table, want string
	}{
		{"empty", "", ""},
		{"header only", header, ""},
		{"a subnet only", header + subnet, ""},
		{"default", header + subnet + deflt, "a default route via eth0"},
		{"the last default", header + deflt + deflt2, "a default route via wlan0"},
		{"multicast before default", header + mcast + deflt, "a route for 224.0.0.0/4 via lan0"},
		{"multicast after default", header + deflt + mcast, "a route for 224.0.0.0/4 via lan0"},
		{"224.0.0.0/8 is not 224.0.0.0/4", header + badMask, ""},
		{"short line", header + "lan0\t000000E0\t00000000\n", ""},
	}
	for _, tt := range tests {
		if got := multicastRoute(tt.table); got != tt.want {
			t.Errorf("%s: multicastRoute = %q, want %q", tt.name, got, tt.want)
		}
	}
}
