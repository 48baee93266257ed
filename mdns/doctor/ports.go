package doctor

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// A holder is a process with a socket bound to a port; pid 0 stands for
// one this user cannot see.
type holder struct {
	pid  int
	comm string // the process's command name, /proc/PID/comm
}

// describeHolders names the holders for a finding: "avahi-daemon (pid
// 612), a process this user cannot see".
func describeHolders(hs []holder) string {
	var s []string
	for _, h := range hs {
		if h.pid == 0 {
			s = append(s, "a process this user cannot see")
			continue
		}
		s = append(s, fmt.Sprintf("%s (pid %d)", h.comm, h.pid))
	}
	return strings.Join(s, ", ")
}

// checkShared reports the other sockets on UDP 5353, before ours: hs,
// or err if they cannot be listed here.
func (d *doctor) checkShared(hs []holder, err error) {
	switch {
	case err != nil:
		d.report(okay("", "port 5353", "not checked: "+err.Error()))
	case len(hs) == 0:
		d.report(okay("", "port 5353", "no other responder on this host"))
	default:
		d.report(okay("", "port 5353", "shared with "+describeHolders(hs)+": each answers for its own names"))
	}
}

// checkTCPPort reports whether the chat's TCP port is free, by
// listening on it, and if not who holds it.
func (d *doctor) checkTCPPort() {
	port := d.opts.Port
	if port == 0 {
		return
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(int(port))))
	if err == nil {
		ln.Close()
		d.report(okay("", "tcp port", fmt.Sprintf("%d is free for the chat", port)))
		return
	}
	hint := "another program listens there: stop it, or chat with --port"
	if errors.Is(err, syscall.EADDRINUSE) {
		if hs := tcpListeners(port); len(hs) > 0 {
			hint = "held by " + describeHolders(hs) + ": a chat already running? Otherwise stop it, or chat with --port"
		}
	}
	d.report(failure("", "tcp port", fmt.Sprintf("%d is not free: %v", port, err), hint))
}
