package doctor

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// This file reads the /proc files of the checks; procnet.go parses
// them. proc_other.go stands in for it elsewhere.

// routeTable returns the text of /proc/net/route.
func routeTable() (string, error) {
	b, err := os.ReadFile("/proc/net/route")
	return string(b), err
}

// groupTables returns the texts of /proc/net/igmp and /proc/net/igmp6,
// one of them empty if it cannot be read, and an error if neither can.
func groupTables() (v4, v6 string, err error) {
	b4, err4 := os.ReadFile("/proc/net/igmp")
	b6, err6 := os.ReadFile("/proc/net/igmp6")
	if err4 != nil && err6 != nil {
		return "", "", errors.Join(err4, err6)
	}
	return string(b4), string(b6), nil
}

// udpHolders lists the processes holding a UDP socket (either family)
// bound to port, from /proc/net/udp{,6} and the sockets in /proc/*/fd.
func udpHolders(port uint16) ([]holder, error) {
	inodes, read := portInodes(port, anyState, "/proc/net/udp", "/proc/net/udp6")
	if read == 0 {
		return nil, errors.New("/proc/net/udp cannot be read here")
	}
	return socketOwners(inodes), nil
}

// tcpListeners lists the processes listening on TCP port (either
// family).
func tcpListeners(port uint16) []holder {
	inodes, _ := portInodes(port, tcpListen, "/proc/net/tcp", "/proc/net/tcp6")
	return socketOwners(inodes)
}

// portInodes returns the inodes of the sockets in the tables files
// that socketInodes finds for port and state, and how many of the files
// it could read.
func portInodes(port uint16, state string, files ...string) (inodes map[string]bool, read int) {
	inodes = map[string]bool{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		read++
		for _, ino := range socketInodes(string(b), port, state) {
			inodes[ino] = true
		}
	}
	return inodes, read
}

// socketOwners finds the processes other than this one whose open files
// include the sockets of inodes; sockets of processes it cannot read
// count as one unknown holder in all.
func socketOwners(inodes map[string]bool) []holder {
	if len(inodes) == 0 {
		return nil
	}
	var out []holder
	seen := map[string]bool{}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		target, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(target, "socket:[") {
			continue
		}
		ino := strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")
		if !inodes[ino] || seen[ino] {
			continue
		}
		seen[ino] = true
		pidDir := filepath.Dir(filepath.Dir(fd))
		pid, _ := strconv.Atoi(filepath.Base(pidDir))
		if pid == os.Getpid() {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(pidDir, "comm"))
		h := holder{pid: pid, comm: strings.TrimSpace(string(comm))}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for ino := range inodes {
		if !seen[ino] {
			out = append(out, holder{})
			break
		}
	}
	return out
}
