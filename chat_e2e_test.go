//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/replicate"
	"scuttle/mdns/netlab"
	"scuttle/topology"
	"scuttle/topology/testkit"
)

// The end-to-end tests of exercise 11: the built binary, run as a user
// runs it (default interfaces, NAME peers found by multicast DNS), on
// hosts that are network namespaces of a netlab.Lab.

// labChat starts "scuttle chat ARGS" on host h with its database in dir.
func labChat(t *testing.T, h *netlab.Host, dir string, args ...string) *chatProc {
	t.Helper()
	return startChat(t, h.Command, dir, args[0]+"@"+h.Name, args...)
}

// TestChatSeedFlow is the seed's test: alice types hello while bob is
// offline; bob starts later and prints it. Once on two hosts, once with
// both on one host (they share UDP 5353 and find each other by multicast
// loopback).
func TestChatSeedFlow(t *testing.T) {
	for _, sameHost := range []bool{false, true} {
		t.Run(fmt.Sprintf("same host %v", sameHost), func(t *testing.T) {
			lab := netlab.New(t, 2)
			ha, hb := lab.Hosts[0], lab.Hosts[1]
			if sameHost {
				hb = ha
			}
			a := labChat(t, ha, t.TempDir(), "alice", "bob")
			a.say("hello")
			a.expect("alice> hello")

			b := labChat(t, hb, t.TempDir(), "bob", "alice")
			b.expect("info> direct connection to alice", "alice> hello")
			a.expect("info> direct connection to bob")
			b.say("hi alice")
			a.expect("bob> hi alice")
			b.expect("bob> hi alice")
			a.stop(syscall.SIGTERM)
			b.expect("info> lost connection to alice")
			b.stop(syscall.SIGTERM)
			a.quiet()
			b.quiet()
		})
	}
}

// TestChatForwarding: carol names only bob, alice only bob; their messages
// reach each other through bob's copy of their logs.
func TestChatForwarding(t *testing.T) {
	lab := netlab.New(t, 3)
	a := labChat(t, lab.Hosts[0], t.TempDir(), "alice", "bob")
	b := labChat(t, lab.Hosts[1], t.TempDir(), "bob", "alice", "carol")
	c := labChat(t, lab.Hosts[2], t.TempDir(), "carol", "bob")
	testkit.ForwardThroughBob(a.chat(), b.chat(), c.chat())
	for _, p := range []*chatProc{a, b, c} {
		p.stop(syscall.SIGTERM)
	}
	testkit.CheckAliceNeverMetCarol(t, a.seen)
}

// TestChatPersistence kills alice with SIGKILL and restarts her: her
// history is all there, and what bob typed meanwhile arrives.
func TestChatPersistence(t *testing.T) {
	lab := netlab.New(t, 2)
	dirA := t.TempDir()
	a := labChat(t, lab.Hosts[0], dirA, "alice", "bob")
	b := labChat(t, lab.Hosts[1], t.TempDir(), "bob", "alice")
	a.expect("info> direct connection to bob")
	for i := range 3 {
		a.say(fmt.Sprint("before ", i))
		b.expect(fmt.Sprint("alice> before ", i))
	}
	a.stop(syscall.SIGKILL)
	b.expect("info> lost connection to alice")
	b.say("while you were out")
	b.expect("bob> while you were out")

	a = labChat(t, lab.Hosts[0], dirA, "alice", "bob")
	a.expect("alice> before 0", "alice> before 1", "alice> before 2", "bob> while you were out")
	a.say("back")
	b.expect("alice> back")
	a.stop(syscall.SIGTERM)
	b.stop(syscall.SIGTERM)
}

// TestChatPartition cuts bob's link, lets both type, and heals it: both
// sides end with identical databases.
func TestChatPartition(t *testing.T) {
	lab := netlab.New(t, 2)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := labChat(t, lab.Hosts[0], dirA, "alice", "bob")
	b := labChat(t, lab.Hosts[1], dirB, "bob", "alice")
	a.expect("info> direct connection to bob")
	b.expect("info> direct connection to alice")

	if err := lab.Hosts[1].Cut(); err != nil {
		t.Fatal(err)
	}
	a.say("alice during the cut")
	b.say("bob during the cut")
	a.expect("alice> alice during the cut")
	b.expect("bob> bob during the cut")
	if err := lab.Hosts[1].Restore(); err != nil {
		t.Fatal(err)
	}
	a.expect("bob> bob during the cut")
	b.expect("alice> alice during the cut")
	a.stop(syscall.SIGTERM)
	b.stop(syscall.SIGTERM)

	ja, jb := readJSON(t, filepath.Join(dirA, "alice.db")), readJSON(t, filepath.Join(dirB, "bob.db"))
	if !slices.Equal(ja, jb) || len(ja) != 2 {
		t.Errorf("after the heal the databases differ or hold other than 2 entries:\nalice: %q\nbob:   %q", ja, jb)
	}
}

// TestChatChurn: five hosts type 100 messages each while random peers are
// killed and restarted; all converge, with nothing lost or doubled.
func TestChatChurn(t *testing.T) {
	const hosts, rounds, perRound = 5, 10, 10
	lab := netlab.New(t, hosts)
	names := make([]string, hosts)
	dirs := make([]string, hosts)
	for i := range hosts {
		names[i], dirs[i] = fmt.Sprint("n", i), t.TempDir()
	}
	start := func(i int) *chatProc {
		others := slices.Concat(names[:i], names[i+1:])
		return labChat(t, lab.Hosts[i], dirs[i], append([]string{names[i]}, others...)...)
	}
	procs := make([]*chatProc, hosts)
	for i := range hosts {
		procs[i] = start(i)
	}
	all := map[string]bool{}
	for r := range rounds {
		for i, p := range procs {
			for k := range perRound {
				msg := fmt.Sprintf("m%d.%d", r, k)
				p.say(msg)
				all[names[i]+"> "+msg] = true
			}
		}
		for i, p := range procs { // typed lines are durable once echoed
			var own []string
			for k := range perRound {
				own = append(own, fmt.Sprintf("%s> m%d.%d", names[i], r, k))
			}
			p.await(own)
		}
		victim := randIntn(t, hosts)
		procs[victim].stop(syscall.SIGKILL)
		procs[victim] = start(victim)
	}
	want := slices.Sorted(func(yield func(string) bool) {
		for l := range all {
			if !yield(l) {
				return
			}
		}
	})
	for _, p := range procs {
		p.await(want)
	}
	for _, p := range procs {
		p.stop(syscall.SIGTERM)
	}
	first := readJSON(t, filepath.Join(dirs[0], names[0]+".db"))
	if len(first) != hosts*rounds*perRound {
		t.Errorf("%s holds %d entries, want %d", names[0], len(first), hosts*rounds*perRound)
	}
	for i := range hosts {
		db := filepath.Join(dirs[i], names[i]+".db")
		if out, errs, code := scuttle(t, "", "", nil, "verify", "--db", db); code != 0 {
			t.Errorf("verify %s: exit status %d\n%s%s", db, code, out, errs)
		}
		if i > 0 && !slices.Equal(readJSON(t, db), first) {
			t.Errorf("%s and %s differ", names[i], names[0])
		}
	}
}

// chat is p as testkit's exchanges see it.
func (p *chatProc) chat() testkit.Chat { return testkit.Chat{Say: p.say, Expect: p.expect} }

// quiet fails the test if the process wrote to stderr: without -v the
// chat prints diagnostics only for what went wrong.
func (p *chatProc) quiet() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stderr.Len() > 0 {
		p.t.Errorf("%s wrote to stderr:\n%s", p.name, p.stderr.String())
	}
}

// await waits until the process has printed every line of want (in any
// order, among others), and fails if it prints a chat line twice.
func (p *chatProc) await(want []string) {
	p.t.Helper()
	p.awaitWithin(want, testkit.ChatWait)
}

// awaitWithin is await with a time limit of its own.
func (p *chatProc) awaitWithin(want []string, limit time.Duration) {
	p.t.Helper()
	missing := map[string]bool{}
	for _, w := range want {
		missing[w] = true
	}
	printed := map[string]bool{}
	for _, l := range p.seen {
		printed[l] = true
		delete(missing, l)
	}
	deadline := time.After(limit)
	for len(missing) > 0 {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("%s ended with %d lines missing", p.name, len(missing))
			}
			p.seen = append(p.seen, l)
			if printed[l] && !strings.HasPrefix(l, "info> ") {
				p.t.Fatalf("%s printed %q twice", p.name, l)
			}
			printed[l] = true
			delete(missing, l)
		case <-deadline:
			p.t.Fatalf("%s: %d lines missing after %v, e.g. %q", p.name, len(missing), limit, slices.Collect(func(yield func(string) bool) {
				for l := range missing {
					yield(l)
					return
				}
			}))
		}
	}
}

func randIntn(t *testing.T, n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		t.Fatal(err)
	}
	return int(v.Int64())
}

// TestChatHostilePeer connects peers that complete the handshake and then
// send garbage, a record with a flipped byte, or records signed by another
// key than the log's: each is disconnected, the chat goes on, and nothing
// it sent is stored or printed.
func TestChatHostilePeer(t *testing.T) {
	lab := netlab.New(t, 2)
	dirA := t.TempDir()
	a := labChat(t, lab.Hosts[0], dirA, "alice")
	a.say("before")
	a.expect("alice> before")
	aliceAddr := net.JoinHostPort(lab.Hosts[0].IPv4().String(), fmt.Sprint(topology.HashToPort("alice")))

	mallory := newTestDB(t, "mallory says hi", "and again")
	victim := newTestDB(t)
	tests := []struct {
		name    string
		handler func(ctx context.Context, c *topology.Conn) error
	}{
		{"garbage", func(ctx context.Context, c *topology.Conn) error {
			junk := make([]byte, 4096)
			rand.Read(junk)
			_, err := c.Write(junk)
			return err
		}},
		{"flipped byte", func(ctx context.Context, c *topology.Conn) error {
			return replicate.Serve(ctx, c, tamperedStore{Store: replicate.FromDB(mallory)}, nil)
		}},
		{"forged author", func(ctx context.Context, c *topology.Conn) error {
			return replicate.Serve(ctx, c, forgedStore{Store: replicate.FromDB(mallory), as: victim.ID(), from: mallory.ID()}, nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served := make(chan struct{}, 1)
			var connected atomic.Int32
			sw := &topology.Swarm{
				Events: func(e topology.Event) {
					if e.Kind == topology.Connected {
						connected.Add(1)
					}
				},
				Key:   mallory.PrivateKey(),
				Name:  "mallory",
				Peers: []string{aliceAddr},
				Dial: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
					err = lab.Hosts[1].Do(func() error {
						c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
						return err
					})
					return c, err
				},
				Handler: func(ctx context.Context, c *topology.Conn) error {
					err := tt.handler(ctx, c)
					if err == nil { // wait for alice to close it
						_, err = c.Read(make([]byte, 1))
					}
					select {
					case served <- struct{}{}:
					default:
					}
					return err
				},
			}
			if err := lab.Hosts[1].Do(func() error {
				ln, err := net.Listen("tcp", net.JoinHostPort(lab.Hosts[1].IPv4().String(), "0"))
				sw.Listener = ln
				return err
			}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error)
			go func() { done <- sw.Run(ctx) }()
			select {
			case <-served:
			case <-time.After(testkit.ChatWait):
				t.Fatal("the hostile handler did not end")
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("hostile swarm: %v", err)
			}
			// alice saw each connection come and go (the swarm may have
			// redialled before it was stopped).
			var want []string
			for range connected.Load() {
				want = append(want, "info> direct connection to mallory", "info> lost connection to mallory")
			}
			a.expect(want...)
			a.say("still here after " + tt.name)
			a.expect("alice> still here after " + tt.name)
		})
	}
	a.stop(syscall.SIGTERM)
	a.quiet() // a hostile peer is a diagnostic, shown with -v
	for _, l := range a.seen {
		if !strings.HasPrefix(l, "info> ") && !strings.HasPrefix(l, "alice> ") {
			t.Errorf("alice printed %q", l)
		}
	}
	out := mustScuttle(t, "", "", "logs", "--json", "--db", filepath.Join(dirA, "alice.db"))
	var li struct {
		Own     bool   `json:"own"`
		Entries uint64 `json:"entries"`
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &li) != nil || !li.Own || li.Entries != 5 {
		t.Errorf("alice's database holds:\n%s\nwant only her own log with 5 entries (her key and 4 lines)", out)
	}
}

// tamperedStore serves its records with one byte flipped in each.
type tamperedStore struct{ replicate.Store }

func (s tamperedStore) Iter(id applog.ID, from uint64) replicate.Iterator {
	return tamperedIter{s.Store.Iter(id, from)}
}

type tamperedIter struct{ replicate.Iterator }

func (it tamperedIter) Record() []byte {
	r := slices.Clone(it.Iterator.Record())
	r[len(r)/2] ^= 0x20
	return r
}

// forgedStore offers the records of log from as log as.
type forgedStore struct {
	replicate.Store
	as, from applog.ID
}

func (s forgedStore) Heads() map[applog.ID]uint64 {
	return map[applog.ID]uint64{s.as: s.Store.Head(s.from)}
}

func (s forgedStore) Head(id applog.ID) uint64 {
	if id == s.as {
		return s.Store.Head(s.from)
	}
	return 0
}

func (s forgedStore) Iter(id applog.ID, from uint64) replicate.Iterator {
	if id == s.as {
		id = s.from
	}
	return s.Store.Iter(id, from)
}
