package topology

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The tests of this file back the threat model in doc.go.

// certFor makes a certificate for the public half of key, signed by
// signer (key itself for a self-signed one), to be used with key.
func certFor(t *testing.T, key, signer crypto.Signer) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// swarmCert is the certificate a Swarm with key presents.
func swarmCert(t *testing.T, key ed25519.PrivateKey) tls.Certificate {
	t.Helper()
	c, err := newCertificate(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// countingConn counts the bytes read from it.
type countingConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// fakeTLS runs one side of the TLS handshake of a hand-made peer on nc,
// presenting cert, with the deadline of a test wait. The fake peer is
// the attacker under test: it trusts anything (InsecureSkipVerify), and
// what is checked is the real side's VerifyPeerCertificate
// (identity.go) refusing it.
func fakeTLS(nc net.Conn, cert tls.Certificate, server bool) (*tls.Conn, error) {
	cfg := &tls.Config{
		Certificates:       []tls.Certificate{cert},
		MinVersion:         tls.VersionTLS13,
		NextProtos:         []string{alpn},
		InsecureSkipVerify: true,
	}
	nc.SetDeadline(time.Now().Add(waitTimeout))
	if server {
		cfg.ClientAuth = tls.RequireAnyClientCert
		cfg.SessionTicketsDisabled = true
		tc := tls.Server(nc, cfg)
		return tc, tc.Handshake()
	}
	tc := tls.Client(nc, cfg)
	return tc, tc.Handshake()
}

// fakeAcceptor listens on 127.0.0.1 as a hand-made peer: it accepts
// one connection, runs the TLS handshake as the server presenting cert
// and, if that succeeds, hands the connection to serve. When the test
// ends the listener and the connection are closed and the goroutine is
// waited for.
func fakeAcceptor(t *testing.T, cert tls.Certificate, serve func(tc *tls.Conn)) net.Listener {
	t.Helper()
	ln := listen(t, "127.0.0.1:0")
	accepted := make(chan net.Conn, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		accepted <- nc
		defer nc.Close()
		if tc, err := fakeTLS(nc, cert, true); err == nil {
			serve(tc)
		}
	})
	t.Cleanup(func() {
		ln.Close()
		select {
		case nc := <-accepted:
			nc.Close()
		default:
		}
		wg.Wait()
	})
	return ln
}

// stopAlone stops n and fails the test unless Listening was its only
// event: no peer got through.
func (n *node) stopAlone(t *testing.T) {
	t.Helper()
	n.stop()
	if len(n.events) != 1 {
		t.Errorf("%s's events: %v, want only Listening", n.sw.Name, n.events)
	}
}

// proof is the network proof of role on tc under netKey (nil: public).
func proof(t *testing.T, tc *tls.Conn, netKey []byte, role byte) []byte {
	t.Helper()
	if netKey == nil {
		netKey = []byte(publicNetworkKey)
	}
	p, err := networkProof(tc.ConnectionState(), netKey, role)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCertificate: the certificate a Swarm makes is self-signed Ed25519,
// for both usages, the same for the same key, and peerKey accepts it.
func TestCertificate(t *testing.T) {
	k := testKeys(1)[0]
	c1, c2 := swarmCert(t, k), swarmCert(t, k)
	if !bytes.Equal(c1.Certificate[0], c2.Certificate[0]) {
		t.Error("two certificates of one key differ")
	}
	x, err := x509.ParseCertificate(c1.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if x.SignatureAlgorithm != x509.PureEd25519 || !slices.Equal(x.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) || x.IsCA {
		t.Errorf("certificate: algorithm %v, usages %v, CA %v", x.SignatureAlgorithm, x.ExtKeyUsage, x.IsCA)
	}
	if got, err := peerKey([]*x509.Certificate{x}); err != nil || !got.Equal(pubKey(k)) {
		t.Errorf("peerKey: got %x, %v; want the key", got, err)
	}
}

// TestBadCertificates: a peer that presents anything but one self-signed
// Ed25519 certificate whose key it holds is refused during TLS, in
// either direction, before anything of the protocol is said.
func TestBadCertificates(t *testing.T) {
	k := testKeys(2)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	twoCerts := swarmCert(t, k[1])
	twoCerts.Certificate = append(twoCerts.Certificate, swarmCert(t, k[0]).Certificate[0])
	stolen := swarmCert(t, k[0]) // alice's certificate, without her key
	stolen.PrivateKey = k[1]
	tests := []struct {
		name   string
		cert   tls.Certificate
		logged string // by the swarm
	}{
		{"ecdsa", certFor(t, ec, ec), "bad peer certificate: ECDSA key, want Ed25519"},
		{"rsa", certFor(t, rs, rs), "bad peer certificate: RSA key, want Ed25519"},
		{"signed by another key", certFor(t, k[1], k[0]), "not signed by its own key"},
		{"two certificates", twoCerts, "2 certificates, want exactly 1"},
		{"another's certificate", stolen, "invalid signature by the"},
		{"none", tls.Certificate{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+", accepted", func(t *testing.T) {
			w := newWorld(t)
			alice := w.newNode(k[0], "alice", nil).start()
			nc, err := net.Dial("tcp", alice.sw.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			var certs []tls.Certificate
			if tt.cert.Certificate != nil {
				certs = []tls.Certificate{tt.cert}
			}
			tc := tls.Client(nc, &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS13, NextProtos: []string{alpn}, InsecureSkipVerify: true})
			tc.SetDeadline(time.Now().Add(waitTimeout))
			if err := tc.Handshake(); err == nil {
				// TLS 1.3: the server's verdict on the client's
				// certificate comes as an alert after the handshake.
				_, err = tc.Read(make([]byte, 1))
				if err == nil || !strings.Contains(err.Error(), "remote error: tls:") {
					t.Errorf("read after the handshake: got %v, want a TLS alert", err)
				}
			}
			logged := tt.logged
			if logged == "" {
				logged = "client didn't provide a certificate"
			}
			w.waitFor("alice logs "+logged, func() bool { return w.logged(logged) })
			alice.stopAlone(t)
		})
		if tt.cert.Certificate == nil {
			continue
		}
		t.Run(tt.name+", dialled", func(t *testing.T) {
			w := newWorld(t)
			ln := fakeAcceptor(t, tt.cert, func(tc *tls.Conn) { tc.Read(make([]byte, 1)) })
			alice := w.newNode(k[0], "alice", nil, ln.Addr().String()).start()
			want := tt.logged
			if tt.name == "another's certificate" {
				want = "invalid signature by the server certificate"
			}
			w.waitFor("alice logs "+want, func() bool { return w.logged(want) })
			alice.stopAlone(t)
		})
	}
}

// TestNetworkProof: a dialler with a valid certificate gets no byte from
// the acceptor after TLS unless its proof is the right one for this very
// connection and role, and is closed without any answer otherwise.
func TestNetworkProof(t *testing.T) {
	k := testKeys(2)
	netKey := bytes.Repeat([]byte{7}, NetworkKeySize)
	otherKey := bytes.Repeat([]byte{8}, NetworkKeySize)
	w := newWorld(t)
	alice := w.newNode(k[0], "alice", nil)
	alice.sw.NetworkKey = netKey
	alice.sw.HandshakeTimeout = time.Second
	alice.start()
	addr := alice.sw.Listener.Addr().String()
	dial := func(t *testing.T) (*tls.Conn, *countingConn) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		cc := &countingConn{Conn: nc}
		tc, err := fakeTLS(cc, swarmCert(t, k[1]), false)
		if err != nil {
			t.Fatalf("TLS handshake: %v", err)
		}
		return tc, cc
	}
	// A proof from an earlier connection, to replay.
	earlier, _ := dial(t)
	replayed := proof(t, earlier, netKey, roleDialer)
	earlier.Close()

	tests := []struct {
		name   string
		proof  func(tc *tls.Conn) []byte
		member bool
		logged string
	}{
		{"member", func(tc *tls.Conn) []byte { return proof(t, tc, netKey, roleDialer) }, true, ""},
		{"another network", func(tc *tls.Conn) []byte { return proof(t, tc, otherKey, roleDialer) }, false, "not in this network: its network proof does not match"},
		{"public network", func(tc *tls.Conn) []byte { return proof(t, tc, nil, roleDialer) }, false, "not in this network: its network proof does not match"},
		{"replayed from another connection", func(*tls.Conn) []byte { return replayed }, false, "not in this network: its network proof does not match"},
		{"acceptor's role (reflected)", func(tc *tls.Conn) []byte { return proof(t, tc, netKey, roleAcceptor) }, false, "not in this network: its network proof does not match"},
		{"short", func(tc *tls.Conn) []byte { return proof(t, tc, netKey, roleDialer)[:31] }, false, "reading network proof"},
		{"none", func(*tls.Conn) []byte { return nil }, false, "reading network proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, cc := dial(t)
			afterTLS := cc.n.Load()
			if _, err := tc.Write(tt.proof(tc)); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(io.LimitReader(tc, proofSize))
			if tt.member {
				if want := proof(t, tc, netKey, roleAcceptor); !bytes.Equal(got, want) || err != nil {
					t.Errorf("alice's proof: got %x, %v; want %x", got, err, want)
				}
				return
			}
			if !peerClosed(err) && err != nil {
				t.Errorf("reading after the proof: got %v, want the connection closed", err)
			}
			if n := cc.n.Load() - afterTLS; n != 0 || len(got) != 0 {
				t.Errorf("alice sent %d bytes after the TLS handshake to a non-member, want 0", n)
			}
			w.waitFor("alice logs "+tt.logged, func() bool { return w.logged(tt.logged) })
		})
	}
	alice.stopAlone(t)
}

// TestNetworkProofDialled: a dialler checks the acceptor's proof, and
// reports an acceptor that closes after its proof as "not in this
// network".
func TestNetworkProofDialled(t *testing.T) {
	k := testKeys(2)
	netKey := bytes.Repeat([]byte{7}, NetworkKeySize)
	tests := []struct {
		name   string
		answer func(t *testing.T, tc *tls.Conn) []byte // nil: close without one
		logged string
	}{
		{"wrong proof", func(t *testing.T, tc *tls.Conn) []byte { return proof(t, tc, nil, roleAcceptor) }, "not in this network: its network proof does not match"},
		{"reflected proof", func(t *testing.T, tc *tls.Conn) []byte { return proof(t, tc, netKey, roleDialer) }, "not in this network: its network proof does not match"},
		{"closed", nil, "not in this network: peer closed the connection after our network proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			ln := fakeAcceptor(t, swarmCert(t, k[1]), func(tc *tls.Conn) {
				io.ReadFull(tc, make([]byte, proofSize))
				if tt.answer != nil {
					tc.Write(tt.answer(t, tc))
					tc.Read(make([]byte, 1))
				}
			})
			alice := w.newNode(k[0], "alice", nil, ln.Addr().String())
			alice.sw.NetworkKey = netKey
			alice.start()
			w.waitFor("alice logs "+tt.logged, func() bool { return w.logged(tt.logged) })
			ln.Close()
			alice.stopAlone(t)
		})
	}
}

// TestNetworks: swarms connect only within one network: the same key, or
// all without one; keyed and unkeyed never, in either direction.
func TestNetworks(t *testing.T) {
	k := testKeys(2)
	n1 := bytes.Repeat([]byte{1}, NetworkKeySize)
	n2 := bytes.Repeat([]byte{2}, NetworkKeySize)
	tests := []struct {
		name     string
		a, b     []byte
		connects bool
	}{
		{"both public", nil, nil, true},
		{"same key", n1, n1, true},
		{"other keys", n1, n2, false},
		{"keyed dials public", n1, nil, false},
		{"public dials keyed", nil, n1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			bob := w.newNode(k[1], "bob", nil)
			bob.sw.NetworkKey = tt.b
			bob.start()
			dial := &countingDial{w: w}
			alice := w.newNode(k[0], "alice", nil, bob.sw.Listener.Addr().String())
			alice.sw.NetworkKey, alice.sw.Dial = tt.a, dial.dial
			alice.start()
			if tt.connects {
				w.waitFor("alice and bob connected", func() bool { return same(alice, bob) })
				return
			}
			w.waitFor("alice redials after being refused twice", func() bool {
				return dial.calls >= 3 && strings.Count(w.logs.String(), "not in this network") >= 4
			})
			alice.stop()
			bob.stop()
			for _, n := range []*node{alice, bob} {
				if len(n.events) != 1 {
					t.Errorf("%s's events: %v, want only Listening", n.sw.Name, n.events)
				}
			}
		})
	}
}

// mallory is a man in the middle: it accepts alice's connection, dials
// bob, terminates TLS toward each with its own key, and either relays
// everything after TLS (relay) or, knowing the network key, makes its
// own proofs on each side and relays the rest.
func mallory(t *testing.T, ln net.Listener, bobAddr string, key ed25519.PrivateKey, netKey []byte) {
	cert := swarmCert(t, key)
	for {
		a, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer a.Close()
			b, err := net.Dial("tcp", bobAddr)
			if err != nil {
				return
			}
			defer b.Close()
			ta, err := fakeTLS(a, cert, true)
			if err != nil {
				return
			}
			tb, err := fakeTLS(b, cert, false)
			if err != nil {
				return
			}
			if netKey != nil {
				if _, err := io.ReadFull(ta, make([]byte, proofSize)); err != nil {
					return
				}
				ta.Write(proof(t, ta, netKey, roleAcceptor))
				tb.Write(proof(t, tb, netKey, roleDialer))
				if _, err := io.ReadFull(tb, make([]byte, proofSize)); err != nil {
					return
				}
			}
			go func() { io.Copy(tb, ta); b.Close() }()
			io.Copy(ta, tb)
		}()
	}
}

// TestManInTheMiddle: alice dials bob through mallory, who terminates
// TLS with her own key toward each. Relaying alice's proof fails at bob
// (the two TLS sessions have different exporters), so neither connects;
// and a mallory who knows the network key passes as herself only:
// Authorize on each side gets mallory's key, never the other's.
func TestManInTheMiddle(t *testing.T) {
	k := testKeys(3)
	netKey := bytes.Repeat([]byte{7}, NetworkKeySize)
	for _, member := range []bool{false, true} {
		t.Run(map[bool]string{false: "relaying proofs", true: "a member"}[member], func(t *testing.T) {
			w := newWorld(t)
			var asked []Peer // by alice and bob; guarded by w.mu
			authorize := func(want ed25519.PrivateKey) func(Peer, ConnInfo) error {
				return func(p Peer, c ConnInfo) error {
					w.update(func() { asked = append(asked, p) })
					if !p.Key.Equal(pubKey(want)) {
						return fmt.Errorf("key %s is not the one you know", p.KeyString())
					}
					return nil
				}
			}
			bob := w.newNode(k[1], "bob", nil)
			bob.sw.NetworkKey, bob.sw.Authorize = netKey, authorize(k[0])
			bob.sw.HandshakeTimeout = 500 * time.Millisecond
			bob.start()
			mln := listen(t, "127.0.0.1:0")
			var wg sync.WaitGroup
			wg.Go(func() {
				var nk []byte
				if member {
					nk = netKey
				}
				mallory(t, mln, bob.sw.Listener.Addr().String(), k[2], nk)
			})
			alice := w.newNode(k[0], "alice", nil, mln.Addr().String())
			alice.sw.NetworkKey, alice.sw.Authorize = netKey, authorize(k[1])
			alice.sw.HandshakeTimeout = 500 * time.Millisecond
			alice.start()
			if member {
				// alice and bob both decide against mallory, so both
				// wait for a report the other should send: the
				// refusal is logged at the handshake timeout.
				w.waitFor("both refuse mallory's key", func() bool {
					return strings.Count(w.logs.String(), "is not the one you know") >= 2
				})
			} else {
				w.waitFor("bob refuses the relayed proof, twice", func() bool {
					return strings.Count(w.logs.String(), "its network proof does not match") >= 2 &&
						w.logged("not in this network: peer closed the connection after our network proof")
				})
			}
			alice.stop()
			bob.stop()
			mln.Close()
			wg.Wait()
			w.mu.Lock()
			defer w.mu.Unlock()
			for _, n := range []*node{alice, bob} {
				if len(n.events) != 1 {
					t.Errorf("%s's events: %v, want only Listening", n.sw.Name, n.events)
				}
			}
			if !member && len(asked) != 0 {
				t.Errorf("Authorize asked about %d peers, want none: no proof passed", len(asked))
			}
			for _, p := range asked {
				if !p.Key.Equal(pubKey(k[2])) {
					t.Errorf("Authorize asked about key %s, want mallory's %s", p.KeyString(), keyString(pubKey(k[2])))
				}
			}
			if member && len(asked) == 0 {
				t.Error("Authorize never asked")
			}
		})
	}
}

// TestAuthorize: the hook gets the proven key, the claimed name, the
// target and the remote address; its refusal, on either side, ends the
// connection before any event, tells the peer, and the dialler backs
// off and retries.
func TestAuthorize(t *testing.T) {
	k := testKeys(2)
	for _, refuser := range []string{"acceptor", "dialer"} {
		for _, deciderIsDialer := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s refuses, dialer decides %v", refuser, deciderIsDialer), func(t *testing.T) {
				w := newWorld(t)
				dk, ak := k[0], k[1] // the dialer's and the acceptor's keys
				if !deciderIsDialer {
					dk, ak = ak, dk
				}
				type call struct {
					p Peer
					c ConnInfo
				}
				calls := map[string][]call{} // by side; guarded by w.mu
				hook := func(side string, refuse bool) func(Peer, ConnInfo) error {
					return func(p Peer, c ConnInfo) error {
						w.update(func() { calls[side] = append(calls[side], call{p, c}) })
						if refuse {
							return errNo
						}
						return nil
					}
				}
				acc := w.newNode(ak, "acc", nil)
				acc.sw.Authorize = hook("acceptor", refuser == "acceptor")
				acc.start()
				target := acc.sw.Listener.Addr().String()
				dial := &countingDial{w: w}
				dl := w.newNode(dk, "dl", nil, target)
				dl.sw.Authorize, dl.sw.Dial = hook("dialer", refuser == "dialer"), dial.dial
				dl.start()
				w.waitFor("three refusals", func() bool {
					return dial.calls >= 3 && strings.Count(w.logs.String(), "refused by Authorize: not the bob you know") >= 3
				})
				acc.stop()
				dl.stop()
				w.mu.Lock()
				defer w.mu.Unlock()
				if !w.logged("the peer refused this connection") || !w.logged("topology: connection refused") {
					t.Errorf("log lacks the refusal seen from the other side:\n%s", w.logs.String())
				}
				for _, n := range []*node{acc, dl} {
					if len(n.events) != 1 {
						t.Errorf("%s's events: %v, want only Listening", n.sw.Name, n.events)
					}
				}
				if refuser == "dialer" && len(calls["acceptor"]) == 0 {
					t.Error("the acceptor never asked its hook")
				}
				for _, c := range calls["dialer"] {
					if !c.p.Key.Equal(pubKey(ak)) || c.p.Name != "acc" || c.p.Addr != target || !c.c.Dialed || c.c.Target != target || c.c.Remote.String() != target {
						t.Errorf("dialer's hook got %+v, %+v", c.p, c.c)
					}
				}
				for _, c := range calls["acceptor"] {
					if !c.p.Key.Equal(pubKey(dk)) || c.p.Name != "dl" || c.c.Dialed || c.c.Target != "" || c.c.Remote == nil {
						t.Errorf("acceptor's hook got %+v, %+v", c.p, c.c)
					}
				}
			})
		}
	}
}

// TestKickOff: mallory cannot end alice's connection to bob: with her
// own key she is another peer (bob keeps both), and with alice's
// certificate but not alice's key she fails TLS.
func TestKickOff(t *testing.T) {
	k := testKeys(3)
	w := newWorld(t)
	bob := w.newNode(k[1], "bob", nil).start()
	alice := w.newNode(k[0], "alice", nil, bob.sw.Listener.Addr().String()).start()
	w.waitFor("alice and bob connected", func() bool { return same(alice, bob) })

	// mallory as a full swarm, calling herself alice.
	mal := w.newNode(k[2], "alice", nil, bob.sw.Listener.Addr().String()).start()
	w.waitFor("bob serves mallory too", func() bool { return bob.active[id(k[2])] != nil && mal.active[id(k[1])] != nil })
	mal.stop()

	// mallory with alice's certificate and her own key.
	stolen := swarmCert(t, k[0])
	stolen.PrivateKey = k[2]
	nc, err := net.Dial("tcp", bob.sw.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if tc, err := fakeTLS(nc, stolen, false); err == nil {
		tc.Read(make([]byte, 1))
	}
	w.waitFor("bob refuses the stolen certificate", func() bool { return w.logged("invalid signature by the client certificate") })

	w.mu.Lock()
	defer w.mu.Unlock()
	if got, want := bob.kinds(k[0]), []EventKind{Connected}; !slices.Equal(got, want) {
		t.Errorf("bob's events for alice: %v, want %v: her connection untouched", got, want)
	}
	if !same(alice, bob) {
		t.Error("alice and bob no longer share their connection")
	}
}

// TestImpostorRefused: bob knows alice by her key (as the chat's name
// bindings do); mallory, with a valid certificate of her own key,
// claiming to be alice, dials bob and is refused by bob's Authorize
// (TestAuthorize has both directions), and alice's connection stays.
func TestImpostorRefused(t *testing.T) {
	k := testKeys(3)
	w := newWorld(t)
	known := map[string]ed25519.PublicKey{"alice": pubKey(k[0])}
	bob := w.newNode(k[1], "bob", nil)
	bob.sw.Authorize = func(p Peer, c ConnInfo) error {
		if want, ok := known[p.Name]; ok && !p.Key.Equal(want) {
			return fmt.Errorf("key %s is not the alice you know", shortKey(p.Key))
		}
		return nil
	}
	bob.start()
	alice := w.newNode(k[0], "alice", nil, bob.sw.Listener.Addr().String()).start()
	w.waitFor("alice and bob connected", func() bool { return same(alice, bob) })
	mal := w.newNode(k[2], "alice", nil, bob.sw.Listener.Addr().String()).start()
	want := "refused by Authorize: key " + shortKey(pubKey(k[2])) + " is not the alice you know"
	w.waitFor("bob refuses mallory twice", func() bool { return strings.Count(w.logs.String(), want) >= 2 })
	mal.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if got := bob.kinds(k[2]); len(got) != 0 {
		t.Errorf("bob's events for mallory: %v, want none", got)
	}
	if got := mal.kinds(k[1]); len(got) != 0 {
		t.Errorf("mallory's events for bob: %v, want none", got)
	}
	if got, want := bob.kinds(k[0]), []EventKind{Connected}; !slices.Equal(got, want) || !same(alice, bob) {
		t.Errorf("bob's events for alice: %v, want %v: her connection untouched", got, want)
	}
}

// silentConn is a connection whose Close stops it without telling the
// peer (no FIN, no RST), like a machine that vanished: the socket stays
// open until the test ends.
type silentConn struct{ net.Conn }

func (c *silentConn) Close() error {
	c.SetDeadline(time.Unix(1, 0)) // ends blocked reads and writes
	return nil
}

// TestReturningPeer: alice vanishes without closing (bob's end of her
// connection stays open) and comes back with the same key: bob lets her
// new connection replace the old one at once, whoever decides, instead
// of refusing her until keep-alive notices.
func TestReturningPeer(t *testing.T) {
	k := testKeys(2)
	for _, aliceDecides := range []bool{true, false} {
		t.Run(map[bool]string{true: "alice decides", false: "bob decides"}[aliceDecides], func(t *testing.T) {
			ak, bk := k[1], k[0]
			if aliceDecides {
				ak, bk = bk, ak
			}
			w := newWorld(t)
			bob := w.newNode(bk, "bob", nil).start()
			baddr := bob.sw.Listener.Addr().String()
			var raw []net.Conn
			old := w.newNode(ak, "alice", nil, baddr)
			old.sw.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				raw = append(raw, c)
				return &silentConn{Conn: c}, nil
			}
			old.start()
			w.waitFor("alice and bob connected", func() bool { return same(old, bob) })
			old.stop() // vanishes: bob is not told
			defer func() {
				for _, c := range raw {
					c.Close()
				}
			}()
			w.mu.Lock()
			if got, want := bob.kinds(ak), []EventKind{Connected}; !slices.Equal(got, want) {
				t.Fatalf("bob's events for alice before she returns: %v, want %v", got, want)
			}
			w.mu.Unlock()

			start := time.Now()
			alice := w.newNode(ak, "alice", nil, baddr).start()
			w.waitFor("alice and bob connected again", func() bool { return same(alice, bob) })
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("alice was back after %v, want at once", d)
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			if got, want := bob.kinds(ak), []EventKind{Connected, Disconnected, Connected}; !slices.Equal(got, want) {
				t.Errorf("bob's events for alice: %v, want %v", got, want)
			} else if e := bob.events[2]; !errors.Is(e.Err, ErrReplaced) {
				t.Errorf("bob's Disconnected reason: %v, want ErrReplaced", e.Err)
			}
		})
	}
}

// TestOldVersionDialled: a version 2 dialler whose peer closes during
// the TLS handshake, as a version 1 acceptor does when the first byte is
// not its name length, says that the peer may be an older scuttle.
func TestOldVersionDialled(t *testing.T) {
	w := newWorld(t)
	ln := listen(t, "127.0.0.1:0")
	defer ln.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// What version 1's readHello does with a TLS record.
			var b [1]byte
			io.ReadFull(c, b[:])
			c.Close()
		}
	})
	alice := w.newNode(testKeys(1)[0], "alice", nil, ln.Addr().String()).start()
	w.waitFor("alice's log line", func() bool {
		return strings.Count(w.logs.String(), "TLS handshake failed: peer closed the connection (an older scuttle, version 1?)") >= 2
	})
	ln.Close()
	alice.stopAlone(t)
}

// TestLaterVersionDialled: an acceptor that speaks TLS and proofs but
// answers with a Hello of version 3 is logged with both versions, and
// redialled at the slowest pace.
func TestLaterVersionDialled(t *testing.T) {
	k := testKeys(2)
	w := newWorld(t)
	ln := fakeAcceptor(t, swarmCert(t, k[1]), func(tc *tls.Conn) {
		io.ReadFull(tc, make([]byte, proofSize))
		tc.Write(proof(t, tc, nil, roleAcceptor))
		if _, err := readHello(tc); err != nil {
			return
		}
		tc.Write(frame(3, []byte("\x01x\x00")))
		tc.Read(make([]byte, 1))
	})
	alice := w.newNode(k[0], "alice", nil, ln.Addr().String()).start()
	w.waitFor("mismatch logged", func() bool {
		return w.logged("peer speaks another protocol; retrying slowly") && w.logged("peer speaks scuttle-topology version 3, this is version 2")
	})
	ln.Close()
	alice.stopAlone(t)
}

// TestPendingLimit: at most maxPendingPerSource accepted connections
// from one address are in their handshake at a time; more from there are
// closed at once, and a finished handshake frees its slot.
func TestPendingLimit(t *testing.T) {
	k := testKeys(2)
	w := newWorld(t)
	alice := w.newNode(k[0], "alice", nil).start()
	addr := alice.sw.Listener.Addr().String()
	var silent []net.Conn
	defer func() {
		for _, c := range silent {
			c.Close()
		}
	}()
	for range maxPendingPerSource {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		silent = append(silent, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetDeadline(time.Now().Add(waitTimeout))
	start := time.Now()
	if n, err := extra.Read(make([]byte, 1)); n != 0 || !peerClosed(err) {
		t.Errorf("connection over the limit: read %d, %v; want it closed", n, err)
	}
	if d := time.Since(start); d >= defaultHandshakeTimeout/2 {
		t.Errorf("connection over the limit closed after %v, want at once", d)
	}
	w.waitFor("the limit logged", func() bool { return w.logged("too many handshakes in progress") })

	silent[0].Close() // its handshake fails at once, freeing a slot
	bob := w.newNode(k[1], "bob", nil, addr).start()
	w.waitFor("bob connects in the freed slot", func() bool { return same(alice, bob) })
}

// relay forwards TCP between a listener and addr, recording what passes
// from the dialler to the acceptor. Once tamper is set, it flips a bit of
// the next chunk it forwards that way.
type relay struct {
	ln     net.Listener
	addr   string
	mu     sync.Mutex
	seen   bytes.Buffer // guarded by mu
	tamper atomic.Bool
	wg     sync.WaitGroup
}

func (r *relay) run() {
	for {
		a, err := r.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", r.addr)
		if err != nil {
			a.Close()
			continue
		}
		r.wg.Go(func() { io.Copy(a, b); a.Close(); b.Close() })
		r.wg.Go(func() {
			defer b.Close()
			defer a.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := a.Read(buf)
				if n > 0 {
					r.mu.Lock()
					r.seen.Write(buf[:n])
					r.mu.Unlock()
					if r.tamper.CompareAndSwap(true, false) {
						buf[n-1] ^= 1
					}
					if _, err := b.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		})
	}
}

// TestRelay: alice dials bob through a relay. They connect as directly,
// with each other's keys; the relay sees neither the data nor the names
// in the Hellos; a byte it alters ends the connection at bob instead of
// reaching his Handler.
func TestRelay(t *testing.T) {
	k := testKeys(2)
	w := newWorld(t)
	const secret = "send me the keys"
	got := make(chan string, 10)
	bob := w.newNode(k[1], "bob-the-builder", nil)
	bobHandle := bob.sw.Handler
	bob.sw.Handler = func(ctx context.Context, c *Conn) error {
		b := make([]byte, len(secret))
		if _, err := io.ReadFull(c, b); err != nil {
			return err
		}
		got <- string(b)
		return bobHandle(ctx, c)
	}
	r := &relay{ln: listen(t, "127.0.0.1:0"), addr: bob.sw.Listener.Addr().String()}
	go r.run()
	t.Cleanup(func() { r.ln.Close(); r.wg.Wait() }) // after the nodes' stop
	bob.start()
	send := make(chan struct{}, 10)
	alice := w.newNode(k[0], "alice-in-chains", nil, r.ln.Addr().String())
	alice.sw.Handler = func(ctx context.Context, c *Conn) error {
		for {
			select {
			case <-send:
				if _, err := c.Write([]byte(secret)); err != nil {
					return err
				}
			case <-ctx.Done():
				return nil
			}
		}
	}
	alice.start()
	w.waitFor("alice connected to bob through the relay", func() bool {
		return len(alice.kinds(k[1])) == 1 && len(bob.kinds(k[0])) == 1
	})
	send <- struct{}{}
	select {
	case s := <-got:
		if s != secret {
			t.Fatalf("bob got %q, want %q", s, secret)
		}
	case <-time.After(waitTimeout):
		t.Fatal("bob got nothing")
	}
	r.mu.Lock()
	for _, s := range []string{secret, "alice-in-chains", "bob-the-builder", protoName + "\x00"} {
		if bytes.Contains(r.seen.Bytes(), []byte(s)) {
			t.Errorf("the relay saw %q in the clear", s)
		}
	}
	r.mu.Unlock()

	r.tamper.Store(true)
	send <- struct{}{}
	w.waitFor("bob ends the altered connection", func() bool {
		ks := bob.kinds(k[0])
		return len(ks) >= 2 && ks[1] == Disconnected
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := bob.events[2]; e.Kind != Disconnected || e.Err == nil || !strings.Contains(e.Err.Error(), "bad record MAC") {
		t.Errorf("bob's event: %v, want Disconnected by a bad record MAC", e)
	}
	select {
	case s := <-got:
		t.Errorf("bob's Handler got %q after the relay altered it", s)
	default:
	}
}
