package topology

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// TestKeepAlivePaced: registering connections sets each one's
// keep-alive idle time for their number, as the kernel reads it back;
// unregistering lowers it again.
func TestKeepAlivePaced(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := &Swarm{conns: make(map[string]*peerConn)}
	var pcs []*peerConn
	for i := range 5 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		pc := &peerConn{conn: &Conn{Conn: c}, key: string(rune('a' + i))}
		pcs = append(pcs, pc)
		s.mu.Lock()
		s.conns[pc.key] = pc
		s.paceKeepAlives(pc)
		s.mu.Unlock()
	}
	idle := func(pc *peerConn) time.Duration {
		t.Helper()
		rc, err := pc.conn.Conn.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var serr error
		if err := rc.Control(func(fd uintptr) {
			v, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
		}); err != nil || serr != nil {
			t.Fatal(err, serr)
		}
		return time.Duration(v) * time.Second
	}
	for _, pc := range pcs {
		if got := idle(pc); got != 16*time.Second {
			t.Errorf("5 connections: %s's idle time %v, want 16s", pc.key, got)
		}
	}
	s.mu.Lock()
	for _, pc := range pcs[2:] {
		delete(s.conns, pc.key)
		s.paceKeepAlives(nil)
	}
	s.mu.Unlock()
	for _, pc := range pcs[:2] {
		if got := idle(pc); got != 5*time.Second {
			t.Errorf("2 connections: %s's idle time %v, want 5s", pc.key, got)
		}
	}
}
