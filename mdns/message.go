package mdns

import (
	"errors"
	"net/netip"

	"golang.org/x/net/dns/dnsmessage"
)

// This file is the wire side: reading the parts of a message mDNS cares
// about with dnsmessage.Parser, record by record, and building queries
// and responses with dnsmessage.Builder.
//
// A malformed record stops the reading of its section and of every
// section after it, but what was read before is kept (RFC 6762 §18 asks
// for robustness; python-zeroconf 0.47 sends malformed NSEC records after
// good answers). A record whose body is bad but whose length is sane is
// skipped and reading goes on.

const (
	// maxPacket is the largest message accepted or built (RFC 6762 §17:
	// 9000 octets including IP and UDP headers; we allow the payload that
	// size and drop anything longer).
	maxPacket = 9000
	// maxPerSection bounds the questions and records kept per section, so
	// a message claiming 65535 of them costs at most this much work.
	maxPerSection = 64

	classMask  = 0x7fff // class without the top bit
	topBit     = 0x8000 // QU in questions (§5.4), cache-flush in records (§10.2)
	defaultTTL = 120    // host address records and SRV records (§10)
	serviceTTL = 4500   // PTR and TXT records of DNS-SD (§10: 75 minutes)
	legacyTTL  = 10     // cap for answers to legacy queriers (§6.7)
	// maxTXT bounds the strings kept of one TXT record.
	maxTXT = 64
)

type question struct {
	name    string // lower-case FQDN
	qtype   dnsmessage.Type
	class   dnsmessage.Class // without the QU bit
	unicast bool             // QU bit (§5.4)
}

// record is a record of the IN class that mDNS uses: an address record
// (A or AAAA, addr valid), or a DNS-SD record (PTR, SRV, TXT; RFC 6763);
// other records are skipped when reading.
type record struct {
	name  string // lower-case FQDN
	flush bool   // cache-flush bit (§10.2)
	ttl   uint32
	addr  netip.Addr // A, AAAA; invalid for the other types

	rtype  dnsmessage.Type // A, AAAA, PTR, SRV or TXT
	owner  string          // PTR, SRV, TXT: name as spelled on the wire
	target string          // PTR, SRV: the name pointed to, as spelled on the wire
	port   uint16          // SRV
	txt    []string        // TXT
}

// isAddr reports whether r is an A or AAAA record.
func (r record) isAddr() bool { return r.addr.IsValid() }

// message is what the Conn uses of a received message.
type message struct {
	header    dnsmessage.Header
	questions []question
	answers   []record
	// allAnswers is set when every record the header counts in the
	// answer section was read into answers: a query's whole list of
	// known answers (RFC 6762 §7.3 needs it).
	allAnswers  bool
	authorities []record
	additionals []record
}

// parseMessage reads b. It fails only when the header cannot be read;
// past that it returns what it could read.
func parseMessage(b []byte) (message, error) {
	var m message
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil {
		return m, err
	}
	m.header = h
	anCount := int(b[6])<<8 | int(b[7]) // Start read the 12-octet header
	for {
		q, err := p.Question()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return m, nil
		}
		if len(m.questions) == maxPerSection {
			if p.SkipAllQuestions() != nil {
				return m, nil
			}
			break
		}
		m.questions = append(m.questions, question{
			name:    lowerASCII(q.Name.String()),
			qtype:   q.Type,
			class:   q.Class & classMask,
			unicast: q.Class&topBit != 0,
		})
	}
	sections := []struct {
		head func() (dnsmessage.ResourceHeader, error)
		skip func() error
		out  *[]record
	}{
		{p.AnswerHeader, p.SkipAnswer, &m.answers},
		{p.AuthorityHeader, p.SkipAuthority, &m.authorities},
		{p.AdditionalHeader, p.SkipAdditional, &m.additionals},
	}
	for i, s := range sections {
		if !readRecords(&p, s.head, s.skip, s.out) {
			return m, nil
		}
		if i == 0 {
			m.allAnswers = len(m.answers) == anCount
		}
	}
	return m, nil
}

// readRecords reads one section's address records into out. It reports
// whether the section ended cleanly, so the next one can be read.
func readRecords(p *dnsmessage.Parser, head func() (dnsmessage.ResourceHeader, error), skip func() error, out *[]record) bool {
	for n := 0; ; n++ {
		h, err := head()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return true
		}
		if err != nil || n >= 4*maxPerSection {
			return false
		}
		r, ok := readAddr(p, h)
		if !ok {
			r, ok = readService(p, h)
		}
		if ok && len(*out) < maxPerSection {
			*out = append(*out, r)
			continue
		}
		if !ok {
			// Not an address record, or a bad one: skip its body by
			// RDLENGTH, which the header read has checked.
			if skip() != nil {
				return false
			}
		}
	}
}

// readAddr reads the body of an A or AAAA record of class IN whose
// header is h. ok is false, with the body unread, for anything else.
func readAddr(p *dnsmessage.Parser, h dnsmessage.ResourceHeader) (record, bool) {
	if h.Class&classMask != dnsmessage.ClassINET {
		return record{}, false
	}
	r := record{
		name:  lowerASCII(h.Name.String()),
		flush: h.Class&topBit != 0,
		ttl:   h.TTL,
		rtype: h.Type,
	}
	switch {
	case h.Type == dnsmessage.TypeA && h.Length == 4:
		a, err := p.AResource()
		if err != nil {
			return record{}, false
		}
		r.addr = netip.AddrFrom4(a.A)
	case h.Type == dnsmessage.TypeAAAA && h.Length == 16:
		a, err := p.AAAAResource()
		if err != nil {
			return record{}, false
		}
		r.addr = netip.AddrFrom16(a.AAAA)
	default:
		return record{}, false
	}
	return r, true
}

// readService reads the body of a PTR, SRV or TXT record of class IN
// whose header is h. ok is false, with the body unread, for anything
// else; a bad body is ok false too, and the caller skips it by RDLENGTH
// (a failed read leaves the parser where it was).
func readService(p *dnsmessage.Parser, h dnsmessage.ResourceHeader) (record, bool) {
	if h.Class&classMask != dnsmessage.ClassINET {
		return record{}, false
	}
	r := record{
		name:  lowerASCII(h.Name.String()),
		owner: h.Name.String(),
		flush: h.Class&topBit != 0,
		ttl:   h.TTL,
		rtype: h.Type,
	}
	switch h.Type {
	case dnsmessage.TypePTR:
		v, err := p.PTRResource()
		if err != nil {
			return record{}, false
		}
		r.target = v.PTR.String()
	case dnsmessage.TypeSRV:
		v, err := p.SRVResource()
		if err != nil {
			return record{}, false
		}
		r.target, r.port = v.Target.String(), v.Port
	case dnsmessage.TypeTXT:
		v, err := p.TXTResource()
		if err != nil {
			return record{}, false
		}
		r.txt = v.TXT[:min(len(v.TXT), maxTXT)]
	default:
		return record{}, false
	}
	return r, true
}

// outRecord is a record to send: an address record when rtype is zero,
// else a PTR, SRV or TXT record.
type outRecord struct {
	name  dnsmessage.Name
	addr  netip.Addr
	ttl   uint32
	flush bool

	rtype  dnsmessage.Type
	target dnsmessage.Name // PTR, SRV
	port   uint16          // SRV
	txt    []string        // TXT
}

// typ returns r's type.
func (r outRecord) typ() dnsmessage.Type {
	switch {
	case r.rtype != 0:
		return r.rtype
	case r.addr.Is4():
		return dnsmessage.TypeA
	}
	return dnsmessage.TypeAAAA
}

// addrRecords returns one record per address in addrs.
func addrRecords(name dnsmessage.Name, addrs []netip.Addr, ttl uint32, flush bool) []outRecord {
	out := make([]outRecord, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, outRecord{name: name, addr: a, ttl: ttl, flush: flush})
	}
	return out
}

func addRecord(b *dnsmessage.Builder, r outRecord) error {
	class := dnsmessage.ClassINET
	if r.flush {
		class |= topBit
	}
	h := dnsmessage.ResourceHeader{Name: r.name, Class: class, TTL: r.ttl}
	switch r.rtype {
	case dnsmessage.TypePTR:
		return b.PTRResource(h, dnsmessage.PTRResource{PTR: r.target})
	case dnsmessage.TypeSRV:
		// RFC 6763 §5 and RFC 2782: priority and weight 0, as one
		// instance has one target; the target is not compressed
		// (dnsmessage never compresses it).
		return b.SRVResource(h, dnsmessage.SRVResource{Target: r.target, Port: r.port})
	case dnsmessage.TypeTXT:
		txt := r.txt
		if len(txt) == 0 {
			txt = []string{""} // RFC 6763 §6.1: never empty
		}
		return b.TXTResource(h, dnsmessage.TXTResource{TXT: txt})
	}
	if r.addr.Is4() {
		return b.AResource(h, dnsmessage.AResource{A: r.addr.As4()})
	}
	return b.AAAAResource(h, dnsmessage.AAAAResource{AAAA: r.addr.As16()})
}

// outQuestion is a question to send.
type outQuestion struct {
	name    dnsmessage.Name
	qtype   dnsmessage.Type
	unicast bool
}

// buildMessage appends to buf (which it may reuse) the message with the
// given header and sections.
func buildMessage(buf []byte, h dnsmessage.Header, qs []outQuestion, answers, authorities, additionals []outRecord) ([]byte, error) {
	b := dnsmessage.NewBuilder(buf[:0], h)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	for _, q := range qs {
		class := dnsmessage.ClassINET
		if q.unicast {
			class |= topBit
		}
		if err := b.Question(dnsmessage.Question{Name: q.name, Type: q.qtype, Class: class}); err != nil {
			return nil, err
		}
	}
	sections := []struct {
		start func() error
		recs  []outRecord
	}{{b.StartAnswers, answers}, {b.StartAuthorities, authorities}, {b.StartAdditionals, additionals}}
	for _, s := range sections {
		if err := s.start(); err != nil {
			return nil, err
		}
		for _, r := range s.recs {
			if err := addRecord(&b, r); err != nil {
				return nil, err
			}
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil, err
	}
	if len(out) > maxPacket {
		return nil, errors.New("mdns: message over 9000 octets")
	}
	return out, nil
}
