package mdns

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// reuseControl sets SO_REUSEADDR before bind, so port 5353 is shared
// with Windows' own mDNS responder, Bonjour and the other sockets of
// this Conn (RFC 6762 §15.1). On Windows SO_REUSEADDR lets several
// sockets bind one address and port, as SO_REUSEPORT does on Unix;
// there is no SO_REUSEPORT.
func reuseControl(network, address string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_REUSEADDR, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
