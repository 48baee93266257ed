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
		pc := &peerConn{conn: &Conn{Conn: c}, nc: c, key: string(rune('a' + i))}
		pcs = append(pcs, pc)
		s.mu.Lock()
		s.conns[pc.key] = pc
		s.paceKeepAlives(pc)
		s.mu.Unlock()
	}
	idle := func(pc *peerConn) time.Duration {
		t.Helper()
		return keepIdle(t, pc.nc)
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

// TestKeepAliveMesh: in a mesh of four swarms, each holding three
// connections, both ends of every connection idle 8 s before a probe.
func TestKeepAliveMesh(t *testing.T) {
	w := newWorld(t)
	const n = 4
	var lns []net.Listener
	for range n {
		lns = append(lns, listen(t, "127.0.0.1:0"))
	}
	k := testKeys(n)
	var nodes []*node
	for i := range n {
		var peers []string
		for j := range n {
			if j != i {
				peers = append(peers, lns[j].Addr().String())
			}
		}
		nodes = append(nodes, w.newNode(k[i], string(rune('a'+i)), lns[i], peers...).start())
	}
	w.waitFor("every pair linked by one connection", func() bool {
		for i := range n {
			for j := i + 1; j < n; j++ {
				if !same(nodes[i], nodes[j]) {
					return false
				}
			}
		}
		return true
	})
	for _, nd := range nodes {
		nd.sw.mu.Lock()
		for _, pc := range nd.sw.conns {
			if got := keepIdle(t, pc.nc); got != 8*time.Second {
				t.Errorf("%s: connection to %s idles %v before a probe, want 8s", nd.sw.Name, pc.conn.Peer.Name, got)
			}
		}
		if len(nd.sw.conns) != n-1 {
			t.Errorf("%s: %d connections registered, want %d", nd.sw.Name, len(nd.sw.conns), n-1)
		}
		nd.sw.mu.Unlock()
	}
}

// keepIdle returns the keep-alive idle time of c, a TCP connection, as
// the kernel has it.
func keepIdle(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
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
