package chat

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base32"
	"flag"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/replicate"
	"scuttle/topology"
)

// The made-up peers of the closing figures: a chat's memory with many
// strangers connected, each as costly as a stranger can make itself.

var (
	madeUpAddr  = flag.String("madeup-addr", "", "TestMadeUpPeers: HOST:PORT of a running chat to connect made-up peers to (\"\": skip)")
	madeUpPeers = flag.Int("madeup-peers", 100, "TestMadeUpPeers: how many")
	madeUpHold  = flag.Duration("madeup-hold", 20*time.Second, "TestMadeUpPeers: how long they stay once all are connected")
)

// madeUpHeads is a stranger's Store that advertises replicate.MaxLogs-1
// heads of logs nobody holds, and has nothing to send; one map for all
// the peers of a test.
type madeUpHeads map[applog.ID]uint64

func (m madeUpHeads) Heads() map[applog.ID]uint64               { return m }
func (m madeUpHeads) Head(id applog.ID) uint64                  { return m[id] }
func (m madeUpHeads) Changed() <-chan struct{}                  { return nil }
func (m madeUpHeads) Iter(applog.ID, uint64) replicate.Iterator { return emptyIter{} }
func (m madeUpHeads) Insert(applog.ID, [][]byte) (int, error)   { return 0, nil }
func newMadeUpHeads() madeUpHeads {
	m := make(madeUpHeads, replicate.MaxLogs-1)
	enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	for i := range replicate.MaxLogs - 1 {
		h := sha256.Sum256(fmt.Append(nil, "made up ", i))
		m[applog.ID(enc.EncodeToString(h[:]))] = uint64(i + 1)
	}
	return m
}

// TestMadeUpPeers connects -madeup-peers made-up peers, each with a
// fresh key and advertising 65,535 heads of made-up logs, to the chat
// at -madeup-addr, keeps them connected for -madeup-hold, and leaves;
// the chat's resident memory is read from outside meanwhile
// (/proc/PID/status VmRSS; GODEBUG=gctrace=1 shows its live heap). In a
// network namespace of its own, so that nothing leaves the host:
//
//	go build -o /tmp/scuttle . && go test -c -o /tmp/chat.test ./topology/chat
//	unshare -n sh -c 'ip link set lo up
//	  mkfifo /tmp/in; GODEBUG=gctrace=1 /tmp/scuttle chat --db /tmp/bob.db --iface lo --port 7001 bob </tmp/in &
//	  exec 3>/tmp/in; sleep 3; grep VmRSS /proc/$!/status
//	  /tmp/chat.test -test.run TestMadeUpPeers -madeup-addr 127.0.0.1:7001 -madeup-hold 15s & ...'
func TestMadeUpPeers(t *testing.T) {
	if *madeUpAddr == "" {
		t.Skip("no -madeup-addr")
	}
	heads := newMadeUpHeads()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	connected := make(chan struct{}, *madeUpPeers)
	for i := range *madeUpPeers {
		_, key, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := &topology.Swarm{Key: key, Name: fmt.Sprint("m", i), Listener: ln, Peers: []string{*madeUpAddr},
			Handler: func(ctx context.Context, c *topology.Conn) error {
				return replicate.Serve(ctx, c, heads, &replicate.Options{WriteTimeout: -1})
			},
			Events: func(e topology.Event) {
				if e.Kind == topology.Connected {
					connected <- struct{}{}
				}
			},
		}
		wg.Go(func() { s.Run(ctx) })
	}
	timeout := time.After(time.Minute)
	for n := range *madeUpPeers {
		select {
		case <-connected:
		case <-timeout:
			t.Fatalf("%d of %d made-up peers connected within a minute", n, *madeUpPeers)
		}
	}
	fmt.Printf("connected %d\n", *madeUpPeers)
	select {
	case <-time.After(*madeUpHold):
	case <-ctx.Done():
	}
}
