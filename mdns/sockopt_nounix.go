//go:build !unix

package mdns

import "syscall"

// reuseControl does nothing where SO_REUSEPORT is not available.
func reuseControl(network, address string, rc syscall.RawConn) error { return nil }
