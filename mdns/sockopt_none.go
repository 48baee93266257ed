//go:build !unix && !windows

package mdns

import "syscall"

// reuseControl does nothing where sharing a port is not available.
func reuseControl(network, address string, rc syscall.RawConn) error { return nil }
