package mdns

import (
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// TestSeveralConflicts: one response from another host names several
// of the names and service instances this Conn owns or probes for. Each
// is judged on its own: each established one whose data differs is
// defended by one multicast answer of our records, each probing one is
// told of the conflict, and identical data or a goodbye is no conflict.
// On the code before, the first defended name ended the look at the
// response, and the names after it were neither defended nor told.
func TestSeveralConflicts(t *testing.T) {
	ours, stranger, stranger6 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.9"), netip.MustParseAddr("fe80::9")
	addr := func(name string, a netip.Addr, ttl uint32) outRecord {
		return outRecord{name: mustName(name + ".local."), addr: a, ttl: ttl, flush: true}
	}
	srv := func(inst, target string, port uint16) outRecord {
		return outRecord{rtype: dnsmessage.TypeSRV, name: mustName(inst + "._scuttle._tcp.local."), target: mustName(target + ".local."), port: port, ttl: 120, flush: true}
	}
	tests := []struct {
		name     string
		answers  []outRecord
		defended []string // the names answered for, in order, once each
		told     []string // the probing names told of a conflict
	}{
		{"one name", []outRecord{addr("alice", stranger, 120)}, []string{"alice.local."}, nil},
		{"two names", []outRecord{addr("alice", stranger, 120), addr("bob", stranger, 120)}, []string{"alice.local.", "bob.local."}, nil},
		{"one name twice", []outRecord{addr("alice", stranger, 120), addr("alice", stranger6, 120)}, []string{"alice.local."}, nil},
		{"identical data first", []outRecord{addr("alice", ours, 120), addr("bob", stranger, 120)}, []string{"bob.local."}, nil},
		{"identical, then other data", []outRecord{addr("alice", ours, 120), addr("alice", stranger, 120)}, []string{"alice.local."}, nil},
		{"goodbye", []outRecord{addr("alice", stranger, 0)}, nil, nil},
		{"all three", []outRecord{addr("carol", stranger, 120), addr("bob", stranger, 120), addr("alice", stranger, 120)},
			[]string{"carol.local.", "bob.local.", "alice.local."}, nil},
		{"probing and established", []outRecord{addr("dave", stranger, 120), addr("alice", stranger, 120), addr("erin", stranger, 120), addr("bob", stranger, 120)},
			[]string{"alice.local.", "bob.local."}, []string{"dave.local.", "erin.local."}},
		{"two instances", []outRecord{srv("alice", "mallory", 1), srv("bob", "mallory", 2)}, []string{"alice._scuttle._tcp.local.", "bob._scuttle._tcp.local."}, nil},
		{"an instance and a name", []outRecord{srv("bob", "mallory", 2), addr("carol", stranger, 120)}, []string{"carol.local.", "bob._scuttle._tcp.local."}, nil},
		{"an instance's own data", []outRecord{srv("alice", "alice", 4242), srv("bob", "mallory", 2)}, []string{"bob._scuttle._tcp.local."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &hub{}
			c := h.host(iface("lan0", 0, 1)).conn(t, testTiming)
			regs := map[string]*registration{}
			c.mu.Lock()
			for _, n := range []string{"alice", "bob", "carol", "dave", "erin"} {
				fq := n + ".local."
				regs[fq] = &registration{fq: fq, name: mustName(fq), established: n < "d",
					conflict: make(chan *ConflictError, 1), lost: make(chan struct{}, 1)}
				c.names[fq] = regs[fq]
			}
			for _, n := range []string{"alice", "bob"} {
				fq := n + "._scuttle._tcp.local."
				c.services[fq] = &serviceReg{fq: fq, typeFQ: "_scuttle._tcp.local.", instance: mustName(fq), typ: mustName("_scuttle._tcp.local."),
					host: regs[n+".local."], port: 4242, txt: []string{"id=" + n}, established: true,
					conflict: make(chan *ConflictError, 1), lost: make(chan struct{}, 1)}
			}
			c.mu.Unlock()
			resp, err := buildMessage(nil, dnsmessage.Header{Response: true}, nil, tt.answers, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.handlePacket(c.conns[0], resp, netip.MustParseAddrPort("10.0.0.9:5353"), groupV4.Addr(), 1)

			var defended []string
			for _, p := range h.packets(func(p hubPacket, m message) bool { return m.header.Response }) {
				m, _ := parseMessage(p.data)
				if len(m.answers) > 0 {
					defended = append(defended, m.answers[0].name)
				}
			}
			if !slices.Equal(defended, tt.defended) {
				t.Errorf("defended %q, want %q", defended, tt.defended)
			}
			var told []string
			for _, n := range []string{"alice", "bob", "carol", "dave", "erin"} {
				select {
				case ce := <-regs[n+".local."].conflict:
					told = append(told, n+".local.")
					if ce.Host != stranger {
						t.Errorf("conflict of %s told with host %v, want %v", n, ce.Host, stranger)
					}
				default:
				}
			}
			if !slices.Equal(told, tt.told) {
				t.Errorf("conflicts told to %q, want %q", told, tt.told)
			}
		})
	}
}
