package topology

import (
	"net"
	"time"
)

// Keep-alives are paced by the connections a swarm holds: a chat
// connected to every other of a room of 64 holds 63, and with the 5 s of
// keepAlive on each, a room of 64 chats idle would put about 1,600
// probes and acknowledgements a second on its network, more bytes than
// its lines. So each connection's idle time before the first probe grows
// with the connections registered (keepAliveIdle): a swarm sends at most
// about one probe every keepAlivePace, whatever its connections, and a
// peer that vanished is noticed within that idle time plus 15 s (the
// probes), rather than 20 s (TestKeepAliveIdle, TestKeepAlivePaced,
// TestKeepAliveMesh).

// keepAlivePace is, per connection registered, how long a connection
// stays idle before the kernel probes it: with n connections, about one
// probe every keepAlivePace all told.
const keepAlivePace = 2 * time.Second

// keepAliveIdle returns the idle time before the first keep-alive probe
// of each of n connections: keepAlive.Idle (5 s) for up to 2, then n
// times keepAlivePace rounded up to a power of two seconds (8 s, 16 s,
// …), so that the connections are reset only when n doubles; at most
// about 4 minutes (128 connections, MaxConns' default).
func keepAliveIdle(n int) time.Duration {
	want := time.Duration(n) * keepAlivePace
	idle := keepAlive.Idle
	for p := time.Second; idle < want; p *= 2 {
		idle = max(keepAlive.Idle, p)
	}
	return idle
}

// paceKeepAlives sets the keep-alive idle time of pc, just registered
// (nil: one just unregistered), and of every registered connection if
// the idle time for their number changed. The caller holds s.mu.
func (s *Swarm) paceKeepAlives(pc *peerConn) {
	idle := keepAliveIdle(len(s.conns))
	if idle == s.keepIdle {
		if pc != nil {
			setKeepAlive(pc.nc, idle)
		}
		return
	}
	s.keepIdle = idle
	for _, c := range s.conns {
		setKeepAlive(c.nc, idle)
	}
}

// setKeepAlive sets the keep-alive idle time of c, if it is a TCP
// connection (any other, such as a test's pipe, is left alone), keeping
// keepAlive's probes.
func setKeepAlive(c net.Conn, idle time.Duration) {
	if tc, ok := c.(*net.TCPConn); ok {
		cfg := keepAlive
		cfg.Idle = idle
		tc.SetKeepAliveConfig(cfg) // best effort: the kernel's default stays
	}
}
