package doctor

import (
	"strconv"
	"strings"
)

// This file parses the Linux /proc/net tables the checks read. The
// parsers are pure, so they build and are tested on every OS;
// proc_linux.go reads the files.

// tcpListen is the state column of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

// anyState matches every socket in socketInodes.
const anyState = ""

// socketInodes returns the inodes of the sockets bound to local port
// port in table, the text of /proc/net/udp, udp6, tcp or tcp6, whose
// state column is state (anyState for all). Each line after the header
// is "sl local_address rem_address st ... uid timeout inode ...", the
// address as hex IP:PORT.
func socketInodes(table string, port uint16, state string) []string {
	var out []string
	lines := strings.Split(table, "\n")
	for _, l := range lines[1:] {
		fs := strings.Fields(l)
		if len(fs) < 10 || state != anyState && fs[3] != state {
			continue
		}
		_, p, ok := strings.Cut(fs[1], ":")
		if v, err := strconv.ParseUint(p, 16, 16); ok && err == nil && uint16(v) == port {
			out = append(out, fs[9])
		}
	}
	return out
}

// multicastRoute returns what carries multicast in table, the text of
// /proc/net/route: "a route for 224.0.0.0/4 via IFACE", else "a default
// route via IFACE" (the last one listed), else "".
func multicastRoute(table string) string {
	found := ""
	for _, l := range strings.Split(table, "\n") {
		fs := strings.Fields(l)
		if len(fs) < 8 || fs[0] == "Iface" {
			continue
		}
		// Destination and Mask in host byte order hex (little-endian).
		if fs[1] == "00000000" && fs[7] == "00000000" {
			found = "a default route via " + fs[0]
		}
		if fs[1] == "000000E0" && fs[7] == "000000F0" {
			return "a route for 224.0.0.0/4 via " + fs[0]
		}
	}
	return found
}

// igmpGroups returns the devices of /proc/net/igmp that list group (hex,
// as the file writes it: "FB0000E0" for 224.0.0.251). A device's line
// is "Idx Device : Count Querier"; its groups follow, indented by a tab.
func igmpGroups(text, group string) map[string]bool {
	out := map[string]bool{}
	dev := ""
	for _, l := range strings.Split(text, "\n") {
		fs := strings.Fields(l)
		if len(fs) == 0 || fs[0] == "Idx" {
			continue
		}
		if !strings.HasPrefix(l, "\t") && len(fs) >= 2 {
			dev = fs[1]
			continue
		}
		if strings.EqualFold(fs[0], group) {
			out[dev] = true
		}
	}
	return out
}

// igmp6Groups returns the devices of /proc/net/igmp6 that list group
// (32 hex digits: "ff0200000000000000000000000000fb" for ff02::fb), one
// "Idx Device Group Users ..." line each.
func igmp6Groups(text, group string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		fs := strings.Fields(l)
		if len(fs) >= 3 && fs[2] == group {
			out[fs[1]] = true
		}
	}
	return out
}
