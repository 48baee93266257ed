//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"scuttle/mdns/netlab"
	"scuttle/topology"
	"scuttle/topology/testkit"
)

// The end-to-end tests of trust on a real LAN (issue 10): the built
// binary on netlab hosts, checked with tools no one here wrote (tcpdump,
// openssl s_client).

// capture runs tcpdump on h's first interface, writing TCP packets to a
// file, and returns a function that stops it and returns what it caught.
func capture(t *testing.T, h *netlab.Host) (stop func() []byte) {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed (Debian package tcpdump; .ci/run installs it)")
	}
	file := filepath.Join(t.TempDir(), "cap.pcap")
	cmd := h.Command(t.Context(), "tcpdump", "--immediate-mode", "-i", h.Ifaces[0].Name, "-U", "-s", "0", "-w", file, "tcp")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting tcpdump: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// tcpdump says "listening on IFACE" once its capture is open.
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				ready <- nil
				for sc.Scan() {
				}
				return
			}
		}
		ready <- fmt.Errorf("tcpdump ended before it listened: %v", sc.Err())
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testkit.ChatWait):
		t.Fatal("tcpdump did not start listening")
	}
	return func() []byte {
		t.Helper()
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// TestChatEncrypted: a capture between two chatting hosts holds TLS
// records, and none of the chat's text.
func TestChatEncrypted(t *testing.T) {
	lab := netlab.New(t, 2)
	stop := capture(t, lab.Hosts[1])
	a := labChat(t, lab.Hosts[0], t.TempDir(), "alice", "bob")
	b := labChat(t, lab.Hosts[1], t.TempDir(), "bob", "alice")
	secret := "the secret is " + strings.ToLower(rand8())
	a.say(secret)
	b.expect("info> direct connection to alice", "alice> "+secret)
	b.say("reply " + secret)
	a.expect("info> direct connection to bob", "alice> "+secret, "bob> reply "+secret)
	a.stop(syscall.SIGTERM)
	b.stop(syscall.SIGTERM)

	pcap := stop()
	// (The ALPN protocol name, "scuttle-topology/2", is in clear in the
	// ClientHello, as TLS sends it; it is no chat text.)
	for _, leak := range []string{secret, "username", `"message"`} {
		if bytes.Contains(pcap, []byte(leak)) {
			t.Errorf("the capture holds %q in clear", leak)
		}
	}
	// TLS 1.3 application data records (type 23, legacy version 3.3)
	// prove that the capture saw the chat's traffic at all.
	if n := bytes.Count(pcap, []byte{23, 3, 3}); n < 4 {
		t.Errorf("the capture (%d bytes) holds %d TLS application records; it missed the chat", len(pcap), n)
	}
}

// TestChatOpenSSL: openssl s_client, a TLS client no one here wrote,
// negotiates TLS 1.3 with a chat's port and is asked for a certificate
// it does not have, so the chat refuses it.
func TestChatOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	lab := netlab.New(t, 2)
	a := labChat(t, lab.Hosts[0], t.TempDir(), "alice")
	a.say("up")
	a.expect("alice> up")
	addr := net.JoinHostPort(lab.Hosts[0].IPv4().String(), fmt.Sprint(topology.HashToPort("alice")))
	cmd := lab.Hosts[1].Command(t.Context(), "openssl", "s_client", "-tls1_3", "-connect", addr, "-state")
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput() // s_client fails: the chat refuses a client without a certificate
	text := string(out)
	for _, want := range []string{
		"SSL_connect:SSLv3/TLS read server certificate request", // the chat asks for a client certificate
		"TLSv1.3", // and negotiated TLS 1.3
	} {
		if !strings.Contains(text, want) {
			t.Errorf("openssl s_client output lacks %q:\n%s", want, text)
		}
	}
	a.say("still up")
	a.expect("alice> still up")
}

// TestChatPrivateNetwork: three hosts with one network key (carol's read
// from --network-file), one with another key and one with none. The group's messages stay in the group,
// and the others never get a connection to any member.
func TestChatPrivateNetwork(t *testing.T) {
	lab := netlab.New(t, 5)
	key, other := networkKey(t), networkKey(t)
	names := []string{"alice", "bob", "carol", "dave", "erin"}
	keys := []string{key, key, key, other, ""}
	procs := make([]*chatProc, len(names))
	dirs := make([]string, len(names))
	for i, n := range names {
		args := []string{"-v"}
		switch {
		case n == "carol": // the key from a file, out of argv
			file := filepath.Join(t.TempDir(), "network")
			if err := os.WriteFile(file, []byte(keys[i]+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--network-file", file)
		case keys[i] != "":
			args = append(args, "--network", keys[i])
		}
		args = append(args, n)
		for _, p := range names {
			if p != n {
				args = append(args, p)
			}
		}
		dirs[i] = t.TempDir()
		procs[i] = labChatArgs(t, lab.Hosts[i], dirs[i], n, args...)
	}
	a, b, c, d, e := procs[0], procs[1], procs[2], procs[3], procs[4]
	a.say("for the group")
	a.expect("alice> for the group")
	b.expect("alice> for the group")
	c.expect("alice> for the group")
	d.say("dave alone")
	e.say("erin alone")
	d.expect("dave> dave alone")
	e.expect("erin> erin alone")
	b.say("bob too")
	b.expect("bob> bob too")
	a.expect("bob> bob too")
	c.expect("bob> bob too")
	for _, p := range procs {
		p.stop(syscall.SIGTERM)
	}
	for i, p := range procs {
		for _, l := range p.seen {
			member := i < 3
			for j, n := range names {
				peerMember := j < 3
				if j == i || member == peerMember && (member || keys[i] == keys[j]) {
					continue
				}
				if strings.HasPrefix(l, n+">") || l == "info> direct connection to "+n {
					t.Errorf("%s printed %q: %s is not in its network", names[i], l, n)
				}
			}
		}
	}
	// Each outsider holds only its own log; dave says why with -v.
	for _, i := range []int{3, 4} {
		if n := logCount(t, filepath.Join(dirs[i], names[i]+".db")); n != 1 {
			t.Errorf("%s holds %d logs, want only its own", names[i], n)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !strings.Contains(d.stderr.String(), "not in this network") {
		t.Errorf("dave -v does not say why the group refused it; stderr:\n%s", d.stderr.String())
	}
}

// labChatArgs is labChat with the process's name and its arguments apart,
// for command lines that start with flags.
func labChatArgs(t *testing.T, h *netlab.Host, dir, name string, args ...string) *chatProc {
	t.Helper()
	return startChat(t, h.Command, dir, name+"@"+h.Name, args...)
}

// stderrText is what the process wrote to stderr so far.
func (p *chatProc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// networkKey returns a new key from "scuttle network".
func networkKey(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(mustScuttle(t, "", "", "network"))
}

// logCount returns how many logs the database in dir holds.
func logCount(t *testing.T, dir string) int {
	t.Helper()
	out := mustScuttle(t, "", "", "logs", "--json", "--db", dir)
	n := 0
	for l := range strings.Lines(out) {
		var v map[string]any
		if json.Unmarshal([]byte(l), &v) == nil {
			n++
		}
	}
	return n
}

func rand8() string { return uniqueName("x")[2:] }
