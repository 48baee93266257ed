//go:build linux

package mdns

import (
	"errors"
	"slices"
	"testing"

	"scuttle/mdns/netlab"
)

// TestChooseInterfaces runs the interface selection inside a lab host,
// whose interfaces the test sets up: lo, lan0 (up, multicast, addresses)
// and extra ones that the default selection must skip silently.
func TestChooseInterfaces(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, 1)
	h := lab.Hosts[0]
	ip := func(args ...string) {
		t.Helper()
		if out, err := h.Command(t.Context(), "ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	// noaddr: up, multicast, no address; nomcast: up with an address but
	// no multicast flag; down0: down. (veth pairs: the other ends, down,
	// are skipped too.)
	ip("link", "add", "noaddr", "type", "veth", "peer", "name", "noaddr-p")
	ip("link", "set", "noaddr", "addrgenmode", "none")
	ip("link", "set", "noaddr", "up")
	ip("link", "add", "nomcast", "type", "veth", "peer", "name", "nomcast-p")
	ip("link", "set", "nomcast", "multicast", "off")
	ip("addr", "add", "192.0.2.1/24", "dev", "nomcast")
	ip("link", "set", "nomcast", "up")
	ip("link", "add", "down0", "type", "veth", "peer", "name", "down0-p")
	ip("addr", "add", "198.51.100.1/24", "dev", "down0")

	choose := func(names ...string) ([]string, error) {
		var got []string
		err := h.Do(func() error {
			ifs, err := chooseInterfaces(names)
			for _, ifi := range ifs {
				got = append(got, ifi.Name)
			}
			return err
		})
		return got, err
	}
	tests := []struct {
		name    string
		names   []string
		setup   []string // an ip command run first
		want    []string
		wantErr string
	}{
		{name: "default", want: []string{"lan0"}},
		{name: "explicit lo", names: []string{"lo"}, want: []string{"lo"}},
		{name: "explicit two", names: []string{"lan0", "lo"}, want: []string{"lan0", "lo"}},
		{name: "unknown", names: []string{"nope"}, wantErr: `mdns: interface "nope": route ip+net: no such network interface`},
		{name: "explicit down", names: []string{"down0"}, wantErr: `mdns: interface "down0" is down: mdns: no usable interface`},
		{name: "only loopback left", setup: []string{"link", "set", "lan0", "down"}, want: []string{"lo"}},
	}
	for _, tt := range tests {
		if tt.setup != nil {
			ip(tt.setup...)
		}
		got, err := choose(tt.names...)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: chooseInterfaces(%q) = %v, %v; want error %q", tt.name, tt.names, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: chooseInterfaces(%q) = %v, %v; want %v", tt.name, tt.names, got, err, tt.want)
		}
	}
	if _, err := choose("down0"); !errors.Is(err, ErrNoInterface) {
		t.Errorf("explicit down interface: %v, want ErrNoInterface", err)
	}
}
