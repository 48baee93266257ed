//go:build !linux

package doctor

import "errors"

// Other systems have no /proc/net: the checks that read it say they were
// not checked, as on a Linux host where it cannot be read.

func routeTable() (string, error) {
	return "", errors.New("no /proc/net/route on this system")
}

func groupTables() (v4, v6 string, err error) {
	return "", "", errors.New("no /proc/net/igmp on this system")
}

func udpHolders(uint16) ([]holder, error) {
	return nil, errors.New("/proc/net/udp cannot be read here")
}

func tcpListeners(uint16) []holder { return nil }
