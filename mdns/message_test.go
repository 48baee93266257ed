package mdns

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Hand-made messages, some malformed on purpose. They seed the fuzz
// corpus too (see TestFuzzSeeds).

func hdr(id, flags, qd, an, ns, ar uint16) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(
		binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, id), flags), qd), an), ns), ar)
}

func wireName(labels ...string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

const (
	flagQR = 0x8400 // response, authoritative
	flagTC = 0x0200 // truncated: more known answers follow (RFC 6762 §7.2)
)

var (
	aliceName = wireName("alice", "local")
	qAliceA   = cat(aliceName, u16(1), u16(1))
	rrBobA    = cat(wireName("bob", "local"), u16(1), u16(0x8001), u32(120), u16(4), []byte{10, 0, 0, 2})
	// badNSEC is an NSEC record (type 47) whose RDLENGTH runs past the
	// end of the message, as python-zeroconf 0.47's malformed NSEC does
	// to strict parsers.
	badNSEC = cat(wireName("bob", "local"), u16(47), u16(0x8001), u32(120), u16(200), wireName("bob", "local"), []byte{0, 4, 0x40})
)

// malformed lists the messages of the list, each with what the
// responder makes of it.
var malformed = []struct {
	name      string
	msg       []byte
	parseErr  bool
	questions int // readable questions
	answers   int // readable address answers
}{
	{"truncated header", []byte{0, 0, 0, 0, 0}, true, 0, 0},
	{"empty", nil, true, 0, 0},
	{"counts of 65535", hdr(0, 0, 0xffff, 0xffff, 0xffff, 0xffff), false, 0, 0},
	{"counts of 65535 after a question", cat(hdr(0, 0, 0xffff, 0xffff, 0xffff, 0xffff), qAliceA), false, 1, 0},
	{"compression pointer loop", cat(hdr(0, 0, 1, 0, 0, 0), []byte{0xc0, 12}, u16(1), u16(1)), false, 0, 0},
	{"pointer forward", cat(hdr(0, 0, 1, 0, 0, 0), []byte{0xc0, 14, 0xc0, 12}, u16(1), u16(1)), false, 0, 0},
	{"name over 255 octets", cat(hdr(0, 0, 1, 0, 0, 0), wireName(strings.Repeat("a", 63), strings.Repeat("b", 63), strings.Repeat("c", 63), strings.Repeat("d", 63), "local"), u16(1), u16(1)), false, 0, 0},
	{"label over 63 octets", cat(hdr(0, 0, 1, 0, 0, 0), []byte{64}, bytes.Repeat([]byte{'a'}, 64), []byte{0}, u16(1), u16(1)), false, 0, 0},
	{"bad RDLENGTH", cat(hdr(0, flagQR, 0, 1, 0, 0), aliceName, u16(1), u16(0x8001), u32(120), u16(300), []byte{10, 0, 0, 1}), false, 0, 0},
	{"A record of 3 octets", cat(hdr(0, flagQR, 0, 2, 0, 0), aliceName, u16(1), u16(1), u32(120), u16(3), []byte{10, 0, 0}, rrBobA), false, 0, 1},
	{"bad NSEC after a good answer", cat(hdr(0, flagQR, 0, 2, 0, 0), rrBobA, badNSEC), false, 0, 1},
	{"question then bad NSEC known answer", cat(hdr(0, 0, 1, 1, 0, 0), qAliceA, badNSEC), false, 1, 0},
	{"9000 octets", cat(hdr(0, 0, 1, 0, 0, 0), qAliceA, make([]byte, 9000-12-len(qAliceA))), false, 1, 0},
	{"question truncated", cat(hdr(0, 0, 2, 0, 0, 0), qAliceA, aliceName, u16(1)), false, 1, 0},
}

func TestParseMalformed(t *testing.T) {
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseMessage(tt.msg)
			if (err != nil) != tt.parseErr {
				t.Fatalf("parseMessage error %v, want error %v", err, tt.parseErr)
			}
			if len(m.questions) != tt.questions || len(m.answers) != tt.answers {
				t.Errorf("read %d questions, %d answers; want %d, %d", len(m.questions), len(m.answers), tt.questions, tt.answers)
			}
		})
	}
}

// TestMalformedRecordTolerated: a query whose question is fine but whose
// known-answer section holds a malformed record is still answered; a
// response whose good answer is followed by a bad NSEC still feeds the
// cache.
func TestMalformedRecordTolerated(t *testing.T) {
	h := &hub{}
	tm := testTiming
	tm.rateLimit = 0
	c := h.host(iface("lan0", 0, 1)).conn(t, tm)
	register(t, c, "alice")
	waitAnnounced(t, h, 2*2)
	cl := h.host(iface("q0", 0, 9)).client(t, false, Port)
	cl.send(cat(hdr(0, 0, 1, 1, 0, 0), qAliceA, badNSEC), groupV4)
	_, m, ok := cl.recvResponse(maxWait)
	if !ok {
		t.Fatal("no answer to a query with a malformed known answer")
	}
	if got, want := recs(m.answers), []string{"alice.local. 10.0.0.1 120 flush"}; !slices.Equal(got, want) {
		t.Errorf("answers %q, want %q", got, want)
	}
	cl.send(cat(hdr(0, flagQR, 0, 2, 0, 0), rrBobA, badNSEC), groupV4)
	waitCached(t, c, "bob.local.", []string{"10.0.0.2"}, maxWait)
}

func TestBuildMessageLimit(t *testing.T) {
	var rs []outRecord
	for i := range 600 {
		rs = append(rs, outRecord{name: dnsmessage.MustNewName("x.local."), addr: testV6(i), ttl: 120})
	}
	if _, err := buildMessage(nil, dnsmessage.Header{Response: true}, nil, rs, nil, nil); err == nil {
		t.Errorf("built a message of 600 AAAA records, want an error past 9000 octets")
	}
}

// DNS-SD messages, well-formed and not; they seed the fuzz corpus too.
var (
	scuttleType = wireName("_scuttle", "_tcp", "local")
	aliceInst   = wireName("alice", "_scuttle", "_tcp", "local")
	qPTR        = cat(scuttleType, u16(12), u16(1))
	srvBody     = cat(u16(0), u16(0), u16(4242), aliceName)
	txtBody     = cat([]byte{6}, []byte("id=abc"), []byte{3}, []byte("v=2"))
	rrPTR       = cat(scuttleType, u16(12), u16(1), u32(4500), u16(uint16(len(aliceInst))), aliceInst)
	rrSRV       = cat(aliceInst, u16(33), u16(0x8001), u32(120), u16(uint16(len(srvBody))), srvBody)
	rrTXT       = cat(aliceInst, u16(16), u16(0x8001), u32(4500), u16(uint16(len(txtBody))), txtBody)
)

var sdSeeds = []struct {
	name     string
	msg      []byte
	port5353 bool
	answers  int // readable answers
}{
	{"sd PTR query", cat(hdr(0, 0, 1, 0, 0, 0), qPTR), true, 0},
	{"sd PTR query QU", cat(hdr(0, 0, 1, 0, 0, 0), scuttleType, u16(12), u16(0x8001)), true, 0},
	{"sd PTR query with known answer", cat(hdr(0, 0, 1, 1, 0, 0), qPTR, rrPTR), true, 1},
	{"sd enumeration", cat(hdr(0, 0, 1, 0, 0, 0), wireName("_services", "_dns-sd", "_udp", "local"), u16(12), u16(1)), true, 0},
	{"sd SRV and TXT query", cat(hdr(0, 0, 2, 0, 0, 0), aliceInst, u16(33), u16(1), aliceInst, u16(16), u16(1)), true, 0},
	{"sd legacy SRV query", cat(hdr(9, 0, 1, 0, 0, 0), aliceInst, u16(33), u16(1)), false, 0},
	{"sd instance probe", cat(hdr(0, 0, 1, 0, 1, 0), aliceInst, u16(255), u16(1), rrSRV), true, 0},
	{"sd response", cat(hdr(0, flagQR, 0, 3, 0, 0), rrPTR, rrSRV, rrTXT), true, 3},
	{"sd conflicting SRV", cat(hdr(0, flagQR, 0, 1, 0, 0), aliceInst, u16(33), u16(0x8001), u32(120), u16(uint16(len(srvBody))), u16(0), u16(0), u16(1), aliceName), true, 1},
	{"sd SRV of 3 octets", cat(hdr(0, flagQR, 0, 2, 0, 0), aliceInst, u16(33), u16(1), u32(120), u16(3), []byte{0, 0, 0}, rrTXT), true, 1},
	{"sd SRV target pointer", cat(hdr(0, flagQR, 0, 1, 0, 0), aliceInst, u16(33), u16(1), u32(120), u16(8), u16(0), u16(0), u16(80), []byte{0xc0, 12}), true, 1},
	{"sd TXT empty", cat(hdr(0, flagQR, 0, 1, 0, 0), aliceInst, u16(16), u16(1), u32(4500), u16(0)), true, 1},
	{"sd TXT string past RDLENGTH", cat(hdr(0, flagQR, 0, 2, 0, 0), aliceInst, u16(16), u16(1), u32(4500), u16(2), []byte{5, 'a'}, rrPTR), true, 1},
	{"sd PTR query TC", cat(hdr(0, flagTC, 1, 1, 0, 0), qPTR, rrPTR), true, 1},
	{"sd PTR query short of a known answer", cat(hdr(0, 0, 1, 2, 0, 0), qPTR, rrPTR), true, 1},
	{"sd PTR with a dot in a label", cat(hdr(0, flagQR, 0, 1, 0, 0), scuttleType, u16(12), u16(1), u32(4500), u16(9), []byte{3, 'a', '.', 'b', 0xc0, 12}), true, 0},
}

func TestParseService(t *testing.T) {
	for _, tt := range sdSeeds {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseMessage(tt.msg)
			if err != nil || len(m.answers) != tt.answers {
				t.Fatalf("parseMessage: %d answers, %v; want %d", len(m.answers), err, tt.answers)
			}
		})
	}
	m, err := parseMessage(cat(hdr(0, flagQR, 0, 3, 0, 0), rrPTR, rrSRV, rrTXT))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"_scuttle._tcp.local. PTR alice._scuttle._tcp.local. 4500",
		"alice._scuttle._tcp.local. SRV alice.local.:4242 120 flush",
		`alice._scuttle._tcp.local. TXT ["id=abc" "v=2"] 4500 flush`,
	}
	if got := recs(m.answers); !slices.Equal(got, want) {
		t.Errorf("records %q, want %q", got, want)
	}
}
