package mdns

import (
	"log/slog"
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// BenchmarkHandleQuery measures the responder's work for one query it
// answers (parse, match, build, write to a sink), against
// BenchmarkUnpackBaseline: dnsmessage's full Unpack of the same bytes.
//
//	go test -run '^$' -bench . -benchmem ./mdns
func BenchmarkHandleQuery(b *testing.B) {
	for _, bc := range []struct {
		name string
		src  string
	}{
		{"multicast", "10.0.0.9:5353"},
		{"legacy", "10.0.0.9:40000"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sink := &sinkConn{done: make(chan struct{})}
			hh := (&hub{}).host(iface("lan0", 0, 1))
			tm := testTiming
			tm.rateLimit = 0
			c := newConn(slog.New(slog.DiscardHandler), []packetConn{sink}, hh.ifnames(), hh.addrsOf, hh.hostAddrs, tm)
			defer c.Close()
			c.names["alice.local."] = &registration{fq: "alice.local.", name: mustName("alice.local."), established: true}
			q := query(b, dnsmessage.Header{ID: 1}, []outQuestion{{name: mustName("alice.local."), qtype: dnsmessage.TypeA}}, nil)
			src := netip.MustParseAddrPort(bc.src)
			b.ReportAllocs()
			for b.Loop() {
				c.handlePacket(sink, q, src, groupV4.Addr(), 1)
				sink.take()
			}
		})
	}
}

func BenchmarkUnpackBaseline(b *testing.B) {
	q := query(b, dnsmessage.Header{ID: 1}, []outQuestion{{name: mustName("alice.local."), qtype: dnsmessage.TypeA}}, nil)
	b.ReportAllocs()
	for b.Loop() {
		var m dnsmessage.Message
		if err := m.Unpack(q); err != nil {
			b.Fatal(err)
		}
	}
}
