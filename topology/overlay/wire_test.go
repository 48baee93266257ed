package overlay

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func wireAddr(p Peer) string { return "10.0.0." + string(p[len(p)-1:]) + ":4000" }

// TestWireRoundTrip: each kind decodes to what was encoded, with the
// addresses the sender gave, and one encoding is pinned byte for byte.
func TestWireRoundTrip(t *testing.T) {
	peers := []Peer{"p1", "p2", "p3"}
	for _, m := range []Msg{
		{Kind: Join},
		{Kind: ForwardJoin, Peer: "j1", TTL: 6},
		{Kind: Neighbor, High: true},
		{Kind: Neighbor},
		{Kind: NeighborReply, Accept: true},
		{Kind: Disconnect},
		{Kind: Shuffle, Peer: "o9", TTL: 10, Peers: peers},
		{Kind: ShuffleReply, Peers: peers},
		{Kind: ShuffleReply},
	} {
		b, err := AppendMsg(nil, m, wireAddr)
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		if len(b) > MaxMsgSize {
			t.Errorf("%+v: %d bytes, past MaxMsgSize %d", m, len(b), MaxMsgSize)
		}
		got, es, err := DecodeMsg(b)
		if err != nil {
			t.Fatalf("%+v: decode: %v", m, err)
		}
		if got.Peers == nil && m.Peers != nil || len(m.Peers) == 0 {
			got.Peers = m.Peers
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("decoded %+v, want %+v", got, m)
		}
		var want []Entry
		if m.Peer != "" {
			want = append(want, Entry{m.Peer, wireAddr(m.Peer)})
		}
		for _, p := range m.Peers {
			want = append(want, Entry{p, wireAddr(p)})
		}
		if !reflect.DeepEqual(es, want) {
			t.Errorf("%v: entries %v, want %v", m.Kind, es, want)
		}
	}
	b, _ := AppendMsg(nil, Msg{Kind: Shuffle, Peer: "o", TTL: 3, Peers: []Peer{"a"}}, func(p Peer) string {
		if p == "a" {
			return "h:1"
		}
		return ""
	})
	if got, want := hex.EncodeToString(b), "06"+"016f00"+"03"+"01"+"0161"+"03683a31"; got != want {
		t.Errorf("encoding %s, want %s", got, want)
	}
}

// TestWireEncodeBounds: what the wire cannot carry is an error, and an
// address too long goes as none.
func TestWireEncodeBounds(t *testing.T) {
	for _, m := range []Msg{
		{Kind: 0},
		{Kind: 8},
		{Kind: ForwardJoin, Peer: ""},
		{Kind: ForwardJoin, Peer: Peer(strings.Repeat("x", MaxIDLen+1))},
		{Kind: ForwardJoin, Peer: "x", TTL: MaxTTL + 1},
		{Kind: ShuffleReply, Peers: make([]Peer, MaxWirePeers+1)},
	} {
		if _, err := AppendMsg(nil, m, nil); err == nil {
			t.Errorf("%+v: encoded, want an error", m)
		}
	}
	b, err := AppendMsg(nil, Msg{Kind: ForwardJoin, Peer: "x"}, func(Peer) string { return strings.Repeat("a", MaxAddrLen+1) })
	if err != nil {
		t.Fatal(err)
	}
	if _, es, err := DecodeMsg(b); err != nil || len(es) != 1 || es[0].Addr != "" {
		t.Errorf("an address past MaxAddrLen decoded as %v, %v; want none", es, err)
	}
}

// TestWireMalformed: bytes out of the format are an error wrapping
// ErrMalformed, never a panic.
func TestWireMalformed(t *testing.T) {
	long := append([]byte{2, MaxIDLen + 1}, bytes.Repeat([]byte{'x'}, MaxIDLen+1)...)
	for name, b := range map[string][]byte{
		"empty":                  nil,
		"kind 0":                 {0},
		"kind 8":                 {8},
		"join with a byte after": {1, 0},
		"neighbor without flags": {3},
		"neighbor flags 2":       {3, 2},
		"reply flags 0x81":       {4, 0x81},
		"forward join, empty id": {2, 0, 0, 1},
		"forward join, long id":  long,
		"forward join, no ttl":   {2, 1, 'a', 0},
		"forward join, ttl 11":   {2, 1, 'a', 0, 11},
		"address past 64":        {2, 1, 'a', 65},
		"address truncated":      {2, 1, 'a', 3, 'h'},
		"shuffle count 17":       {7, 17},
		"shuffle count short":    {7, 2, 1, 'a', 0},
		"count a bad uvarint":    {7, 0x80},
		"count not minimal":      {7, 0x80, 0},
		"shuffle without count":  {6, 1, 'o', 0, 3},
	} {
		m, es, err := DecodeMsg(b)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: DecodeMsg = %+v, %v, %v; want ErrMalformed", name, m, es, err)
		}
	}
}

// FuzzDecodeMsg: any bytes decode to a message within the wire's
// bounds, which encodes back to the same bytes, or to ErrMalformed.
func FuzzDecodeMsg(f *testing.F) {
	for _, m := range []Msg{
		{Kind: Join}, {Kind: Disconnect}, {Kind: Neighbor, High: true}, {Kind: NeighborReply},
		{Kind: ForwardJoin, Peer: "j", TTL: 6},
		{Kind: Shuffle, Peer: "o", TTL: 2, Peers: []Peer{"a", "b"}},
		{Kind: ShuffleReply, Peers: []Peer{"a"}},
	} {
		b, err := AppendMsg(nil, m, wireAddr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, es, err := DecodeMsg(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(m.Peers) > MaxWirePeers || m.TTL > MaxTTL || len(es) > MaxWirePeers+1 {
			t.Fatalf("decoded past the bounds: %+v", m)
		}
		addrs := map[Peer]string{}
		for _, e := range es {
			if len(e.Peer) == 0 || len(e.Peer) > MaxIDLen || len(e.Addr) > MaxAddrLen {
				t.Fatalf("entry past the bounds: %+v", e)
			}
			if a, ok := addrs[e.Peer]; ok && a != e.Addr {
				return // one peer twice with two addresses: not re-encodable as is
			}
			addrs[e.Peer] = e.Addr
		}
		again, err := AppendMsg(nil, m, func(p Peer) string { return addrs[p] })
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", m, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x, want %x", again, b)
		}
	})
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Join: "join", NeighborReply: "neighbor reply", ShuffleReply: "shuffle reply", 0: "Kind(0)", 8: "Kind(8)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}
