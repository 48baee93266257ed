package mdns

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file is the DNS-SD responder (RFC 6763): a service instance is
// probed for, announced, answered for, defended and said goodbye to
// like a host name (RFC 6762 §8, §9, §10.1), with the records of
// RFC 6763 §4.1: a PTR from the service type to the instance, a PTR from
// _services._dns-sd._udp.local to the type (§9), an SRV naming the host
// and port (§5) and a TXT (§6).

// A Service is one DNS-SD service instance, advertised by
// RegisterService as Instance.Type.local.
type Service struct {
	// Instance is the instance's name, one DNS label of 1 to 63 octets
	// (RFC 6763 §4.1.1): "alice". Spaces and UTF-8 are allowed; dots,
	// backslashes and control characters are not (dnsmessage cannot
	// carry a dot inside a label).
	Instance string
	// Type is the service type, "_name._tcp" or "_name._udp", the name
	// 1 to 15 letters, digits and hyphens (RFC 6763 §7, RFC 6335 §5.1):
	// "_scuttle._tcp".
	Type string
	// Host is the SRV record's target, a name of this host, so that its
	// address records go with the SRV record (RFC 6763 §12.2): "alice"
	// or "alice.local". If it is not registered on the Conn yet,
	// RegisterService registers it too, as Register does; the instance
	// and the host name are probed for at the same time, and the
	// instance is announced once both are claimed.
	Host string
	// Port is the SRV record's port.
	Port uint16
	// TXT holds the TXT record's strings, "key=value" (RFC 6763 §6.3),
	// each at most 255 octets; none means one empty string (§6.1).
	TXT []string
}

// servicesName is the name that enumerates service types (RFC 6763 §9).
const servicesName = "_services._dns-sd._udp.local."

// maxServices bounds the services one Conn registers.
const maxServices = 16

// serviceReg is a service registered on the Conn. Its fields other than
// the channels are guarded by Conn.mu once it is in Conn.services.
type serviceReg struct {
	fq          string          // lower-case instance FQDN: "alice._scuttle._tcp.local."
	typeFQ      string          // lower-case type FQDN: "_scuttle._tcp.local."
	instance    dnsmessage.Name // as spelled, for the wire
	typ         dnsmessage.Name
	host        *registration // the SRV target
	port        uint16
	txt         []string
	established bool
	conflict    chan *ConflictError
	lost        chan struct{}
}

// serviceType checks typ ("_scuttle._tcp", optionally with ".local" or
// ".local.") and returns its lower-case FQDN and its wire name.
func serviceType(typ string) (string, dnsmessage.Name, error) {
	t := strings.TrimSuffix(typ, ".")
	if len(t) > len(".local") && strings.EqualFold(t[len(t)-len(".local"):], ".local") {
		t = t[:len(t)-len(".local")]
	}
	bad := func(why string) (string, dnsmessage.Name, error) {
		return "", dnsmessage.Name{}, fmt.Errorf("%w: service type %q: %s", ErrBadName, typ, why)
	}
	name, proto, ok := strings.Cut(t, ".")
	if !ok || (!strings.EqualFold(proto, "_tcp") && !strings.EqualFold(proto, "_udp")) {
		return bad(`want "_name._tcp" or "_name._udp"`)
	}
	if len(name) < 2 || len(name) > 16 || name[0] != '_' {
		return bad("the name after the underscore must be 1 to 15 octets (RFC 6763 §7)")
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return bad(fmt.Sprintf("%q at offset %d: only letters, digits and hyphens", c, i))
		}
	}
	wire, err := dnsmessage.NewName(t + localSuffix)
	if err != nil {
		return bad(err.Error())
	}
	return lowerASCII(t) + localSuffix, wire, nil
}

// checkInstance reports why l cannot be an instance label.
func checkInstance(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("empty")
	case len(l) > 63:
		return fmt.Errorf("label of %d octets, the limit is 63", len(l))
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; c == '.' || c < ' ' || c == 0x7f || c == '\\' {
			return fmt.Errorf("%q at offset %d: an instance name has no dots, control characters or backslashes", c, i)
		}
	}
	return nil
}

// RegisterService advertises s on every interface of the Conn: it
// probes for the instance name Instance.Type.local (RFC 6762 §8.1, with
// the SRV and TXT records in the probes' authority section) and, if no
// other host answers for it, announces the service's records twice
// (§8.3) and returns. From then until Close the Conn answers for them:
//
//	_services._dns-sd._udp.local  PTR  Type.local                  TTL 4500, shared
//	Type.local                    PTR  Instance.Type.local         TTL 4500, shared
//	Instance.Type.local           SRV  0 0 Port Host.local         TTL 120, unique
//	Instance.Type.local           TXT  TXT...                      TTL 4500, unique
//
// with Host's addresses as additional records. Close says goodbye to
// them. A host name that RegisterService claimed stays claimed if the
// instance fails. If another host answers for the instance name while probing,
// RegisterService returns a *ConflictError naming it, as Register does;
// the instance is not renamed. ctx bounds the probing only.
func (c *Conn) RegisterService(ctx context.Context, s Service) error {
	typeFQ, typ, err := serviceType(s.Type)
	if err != nil {
		return err
	}
	if err := checkInstance(s.Instance); err != nil {
		return fmt.Errorf("%w: instance %q: %v", ErrBadName, s.Instance, err)
	}
	instance, err := dnsmessage.NewName(s.Instance + "." + typ.String())
	if err != nil {
		return fmt.Errorf("%w: instance %q: %v", ErrBadName, s.Instance, err)
	}
	hostFQ, err := fqdn(s.Host)
	if err != nil {
		return err
	}
	total := 0
	for _, t := range s.TXT {
		if len(t) > 255 {
			return fmt.Errorf("mdns: TXT string of %d octets, the limit is 255: %.20q…", len(t), t)
		}
		total += 1 + len(t)
	}
	if total > 1300 {
		// RFC 6763 §6.2: keep TXT records under 1300 octets, so a
		// response fits an Ethernet packet.
		return fmt.Errorf("mdns: TXT record of %d octets, the limit is 1300", total)
	}
	r := &serviceReg{
		fq:       lowerASCII(s.Instance) + "." + typeFQ,
		typeFQ:   typeFQ,
		instance: instance,
		typ:      typ,
		port:     s.Port,
		txt:      slices.Clone(s.TXT),
		conflict: make(chan *ConflictError, 1),
		lost:     make(chan struct{}, 1),
	}
	c.mu.Lock()
	host := c.names[hostFQ]
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.services[r.fq] != nil:
		c.mu.Unlock()
		return fmt.Errorf("mdns: service %s is already registered on this connection", display(r.fq))
	case len(c.services) >= maxServices:
		c.mu.Unlock()
		return fmt.Errorf("mdns: %d services are registered on this connection, the limit", maxServices)
	}
	c.mu.Unlock()
	var hostErr chan error
	if host == nil {
		// Claim the host name too, while probing for the instance.
		if host, err = c.addName(s.Host); err != nil {
			return err
		}
		hostErr = make(chan error, 1)
		go func() { hostErr <- c.claim(ctx, host) }()
	}
	c.mu.Lock()
	if c.services[r.fq] != nil {
		c.mu.Unlock()
		if hostErr != nil {
			<-hostErr
		}
		return fmt.Errorf("mdns: service %s is already registered on this connection", display(r.fq))
	}
	r.host = host
	c.services[r.fq] = r
	c.mu.Unlock()

	err = c.probe(ctx, prober{r.fq, r.conflict, r.lost, func() { c.sendServiceProbe(r) }})
	if hostErr != nil {
		// Our own claim of the host: its error, if any, says why the
		// service failed (the host name is the user's identity).
		if herr := <-hostErr; herr != nil {
			err = herr
		}
	}
	if err == nil && host.probed != nil {
		// The host name's probing, if it is still going on.
		select {
		case <-host.probed:
		case <-ctx.Done():
			err = fmt.Errorf("mdns: probing for %s: %w", display(r.fq), ctx.Err())
		case <-c.closing:
			err = ErrClosed
		}
	}
	c.mu.Lock()
	if err == nil && (!host.established || c.names[hostFQ] != host) {
		err = fmt.Errorf("mdns: service host %s: its name was not claimed", display(hostFQ))
	}
	if err != nil {
		delete(c.services, r.fq)
		c.mu.Unlock()
		return err
	}
	r.established = true
	c.mu.Unlock()
	c.log.Debug("mdns: service claimed", "instance", display(r.fq), "port", r.port)
	c.announceService(r, false)
	c.mu.Lock()
	c.goAfter(c.timing.announceGap, func() { c.announceService(r, false) })
	c.mu.Unlock()
	return nil
}

// The records of a service, for the wire.

func (r *serviceReg) srvRecord(ttl uint32, flush bool) outRecord {
	return outRecord{rtype: dnsmessage.TypeSRV, name: r.instance, target: r.host.name, port: r.port, ttl: ttl, flush: flush}
}

func (r *serviceReg) txtRecord(ttl uint32, flush bool) outRecord {
	return outRecord{rtype: dnsmessage.TypeTXT, name: r.instance, txt: r.txt, ttl: ttl, flush: flush}
}

// ptrRecord is Type.local PTR Instance.Type.local: shared, so never
// with the cache-flush bit (RFC 6762 §10.2).
func (r *serviceReg) ptrRecord(ttl uint32) outRecord {
	return outRecord{rtype: dnsmessage.TypePTR, name: r.typ, target: r.instance, ttl: ttl}
}

// enumRecord is _services._dns-sd._udp.local PTR Type.local (RFC 6763 §9).
func (r *serviceReg) enumRecord(ttl uint32) outRecord {
	return outRecord{rtype: dnsmessage.TypePTR, name: dnsmessage.MustNewName(servicesName), target: r.typ, ttl: ttl}
}

// sendServiceProbe multicasts one probe for r on every interface: a
// question of type ANY for the instance name with the SRV and TXT
// records in the authority section (§8.1, §8.2).
func (c *Conn) sendServiceProbe(r *serviceReg) {
	q := []outQuestion{{name: r.instance, qtype: dnsmessage.TypeALL}}
	auth := []outRecord{r.srvRecord(defaultTTL, false), r.txtRecord(serviceTTL, false)}
	b, err := buildMessage(nil, dnsmessage.Header{}, q, nil, auth, nil)
	if err != nil {
		c.log.Debug("mdns: build service probe", "err", err)
		return
	}
	for _, pc := range c.conns {
		for ifindex := range c.ifnames {
			c.send(pc, b, pc.group(), ifindex)
		}
	}
}

// announceService multicasts r's records on every interface (§8.3), or
// its goodbyes: the same records with TTL 0 (§10.1). The enumeration PTR
// is left out of a goodbye while another service of the type remains.
func (c *Conn) announceService(r *serviceReg, goodbye bool) {
	ttl := func(t uint32) uint32 {
		if goodbye {
			return 0
		}
		return t
	}
	ans := []outRecord{r.ptrRecord(ttl(serviceTTL)), r.srvRecord(ttl(defaultTTL), !goodbye), r.txtRecord(ttl(serviceTTL), !goodbye)}
	c.mu.Lock()
	other := false
	for _, s := range c.services {
		other = other || s != r && s.established && s.typeFQ == r.typeFQ
	}
	c.mu.Unlock()
	if !goodbye || !other {
		ans = append(ans, r.enumRecord(ttl(serviceTTL)))
	}
	now := time.Now()
	for _, pc := range c.conns {
		for ifindex := range c.ifnames {
			var add []outRecord
			if !goodbye {
				add = c.hostRecords(r.host, ifindex, pc)
			}
			b, err := buildMessage(nil, dnsmessage.Header{Response: true, Authoritative: true}, nil, ans, nil, add)
			if err != nil {
				c.log.Debug("mdns: build service announcement", "err", err)
				continue
			}
			c.mu.Lock()
			for _, k := range []string{r.fq, r.typeFQ} {
				c.lastMcast[mcastKey{k, ifindex, pc.group().Addr().Is6()}] = now
			}
			c.mu.Unlock()
			c.send(pc, b, pc.group(), ifindex)
		}
	}
}

// hostRecords returns the address records of h on ifindex, the family
// of pc first (RFC 6763 §12.2, RFC 6762 §6.2).
func (c *Conn) hostRecords(h *registration, ifindex int, pc packetConn) []outRecord {
	v4, v6 := c.addrs(ifindex)
	as := append(v4, v6...)
	if pc.group().Addr().Is6() {
		as = append(v6, v4...)
	}
	return addrRecords(h.name, as, defaultTTL, true)
}

// serviceAnswer is what one query asks of one registered service.
type serviceAnswer struct {
	r         *serviceReg
	enum, ptr bool // answer the enumeration PTR, the type's PTR
	srv, txt  bool // answer the SRV, the TXT record
	unicast   bool // every question for it has the QU bit (§5.4)
	probe     bool // another host probes for the instance name (§8.1)
}

// answerServices answers the questions of m that ask about our
// established services (RFC 6763 §4, §9, §12). Answers holding only
// shared records (PTR) are multicast after a random 20–120 ms (§6), so
// the answers of several hosts do not collide; SRV and TXT records are
// unique and answered at once.
func (c *Conn) answerServices(pc packetConn, m message, src netip.AddrPort, dst netip.Addr, ifindex int) {
	if len(m.questions) == 0 {
		return
	}
	c.mu.Lock()
	if len(c.services) == 0 {
		c.mu.Unlock()
		return
	}
	var hits []*serviceAnswer
	get := func(r *serviceReg) *serviceAnswer {
		for _, h := range hits {
			if h.r == r {
				return h
			}
		}
		h := &serviceAnswer{r: r, unicast: true}
		hits = append(hits, h)
		return h
	}
	enumTypes := map[string]bool{}
	for _, q := range m.questions {
		if q.class != dnsmessage.ClassINET && q.class != dnsmessage.ClassANY {
			continue
		}
		for _, r := range c.services {
			if !r.established {
				continue
			}
			var h *serviceAnswer
			switch {
			case q.name == servicesName && (q.qtype == dnsmessage.TypePTR || q.qtype == dnsmessage.TypeALL):
				if enumTypes[r.typeFQ] {
					continue // one PTR per type
				}
				enumTypes[r.typeFQ] = true
				h = get(r)
				h.enum = true
			case q.name == r.typeFQ && (q.qtype == dnsmessage.TypePTR || q.qtype == dnsmessage.TypeALL):
				h = get(r)
				h.ptr = true
			case q.name == r.fq && (q.qtype == dnsmessage.TypeSRV || q.qtype == dnsmessage.TypeTXT || q.qtype == dnsmessage.TypeALL):
				h = get(r)
				h.srv = h.srv || q.qtype != dnsmessage.TypeTXT
				h.txt = h.txt || q.qtype != dnsmessage.TypeSRV
				h.probe = h.probe || slices.ContainsFunc(m.authorities, func(a record) bool { return a.name == r.fq })
			default:
				continue
			}
			h.unicast = h.unicast && q.unicast
		}
	}
	c.mu.Unlock()
	legacy := src.Port() != Port
	direct := dst.IsValid() && !dst.IsMulticast()
	for _, h := range hits {
		ans, add := c.serviceRecords(h, ifindex, pc, m.answers)
		if len(ans) == 0 {
			continue
		}
		shared := !h.srv && !h.txt
		key := mcastKey{h.r.fq, ifindex, pc.group().Addr().Is6()}
		if shared {
			key.name = h.r.typeFQ
		}
		switch {
		case legacy:
			// §6.7: to the querier's port, its ID and questions
			// repeated, TTL at most 10, no cache-flush bit.
			var qs []outQuestion
			for _, q := range m.questions {
				if n, err := dnsmessage.NewName(q.name); err == nil {
					qs = append(qs, outQuestion{name: n, qtype: q.qtype})
				}
			}
			for _, rs := range [][]outRecord{ans, add} {
				for i := range rs {
					rs[i].ttl, rs[i].flush = min(rs[i].ttl, legacyTTL), false
				}
			}
			c.sendBuilt(pc, dnsmessage.Header{ID: m.header.ID, Response: true, Authoritative: true}, qs, ans, add, src, ifindex)
		case h.unicast || direct:
			// §5.4, §5.5: unicast; a querier on this host is also
			// answered by multicast, as for host names, because a
			// unicast to port 5353 reaches one of the sockets sharing
			// it; and so is a prober (§8.1), so every cache hears.
			c.sendBuilt(pc, dnsmessage.Header{Response: true, Authoritative: true}, nil, ans, add, src, ifindex)
			switch {
			case c.isLocal(src.Addr()):
				c.multicastService(pc, key, ans, add, ifindex, shared, h.probe, c.timing.rateLimit/10)
			case h.probe:
				c.multicastService(pc, key, ans, add, ifindex, shared, true, c.timing.rateLimit)
			}
		default:
			c.multicastService(pc, key, ans, add, ifindex, shared, h.probe, c.timing.rateLimit)
		}
	}
}

// serviceRecords returns the answer and additional records for h on
// ifindex, less those the querier already holds with at least half
// their TTL left (§7.1). The additionals follow RFC 6763 §12: a PTR
// brings the SRV, the TXT and the host's addresses; an SRV brings the
// addresses.
func (c *Conn) serviceRecords(h *serviceAnswer, ifindex int, pc packetConn, known []record) (ans, add []outRecord) {
	r := h.r
	if h.enum {
		ans = append(ans, r.enumRecord(serviceTTL))
	}
	if h.ptr {
		ans = append(ans, r.ptrRecord(serviceTTL))
	}
	if h.srv {
		ans = append(ans, r.srvRecord(defaultTTL, true))
	}
	if h.txt {
		ans = append(ans, r.txtRecord(serviceTTL, true))
	}
	ans = slices.DeleteFunc(ans, func(o outRecord) bool { return knownAnswer(o, known) })
	if len(ans) == 0 {
		return nil, nil
	}
	if h.ptr && !h.srv {
		add = append(add, r.srvRecord(defaultTTL, true))
	}
	if h.ptr && !h.txt {
		add = append(add, r.txtRecord(serviceTTL, true))
	}
	if h.ptr || h.srv {
		add = append(add, c.hostRecords(r.host, ifindex, pc)...)
	}
	return ans, add
}

// knownAnswer reports whether known holds o with at least half its TTL
// (§7.1).
func knownAnswer(o outRecord, known []record) bool {
	name := lowerASCII(o.name.String())
	return slices.ContainsFunc(known, func(k record) bool {
		if k.name != name || k.rtype != o.rtype || k.ttl < o.ttl/2 {
			return false
		}
		switch o.rtype {
		case dnsmessage.TypePTR:
			return strings.EqualFold(k.target, o.target.String())
		case dnsmessage.TypeSRV:
			return k.port == o.port && strings.EqualFold(k.target, o.target.String())
		case dnsmessage.TypeTXT:
			return slices.Equal(k.txt, o.txt) || len(o.txt) == 0 && slices.Equal(k.txt, []string{""})
		}
		return false
	})
}

func (c *Conn) sendBuilt(pc packetConn, h dnsmessage.Header, qs []outQuestion, ans, add []outRecord, dst netip.AddrPort, ifindex int) {
	b, err := buildMessage(nil, h, qs, ans, nil, add)
	if err != nil {
		c.log.Debug("mdns: build service answer", "err", err)
		return
	}
	c.send(pc, b, dst, ifindex)
}

// multicastService multicasts a service answer on ifindex: at most once
// per limit per key (the records' name, interface and family, §6), an
// answer held back by the limit being sent when it is over, once; an
// answer of shared records only after a random 20–120 ms more (§6).
// Answers to probes go at once (§8.1).
func (c *Conn) multicastService(pc packetConn, key mcastKey, ans, add []outRecord, ifindex int, shared, probe bool, limit time.Duration) {
	b, err := buildMessage(nil, dnsmessage.Header{Response: true, Authoritative: true}, nil, ans, nil, add)
	if err != nil {
		c.log.Debug("mdns: build service answer", "err", err)
		return
	}
	wait := time.Duration(0)
	if shared {
		lo, hi := c.timing.sharedDelayMin, c.timing.sharedDelayMax
		wait = lo + time.Duration(rand.Int64N(int64(hi-lo)+1))
	}
	now := time.Now()
	c.mu.Lock()
	if last, ok := c.lastMcast[key]; ok && !probe {
		wait = max(wait, limit-now.Sub(last))
	}
	if wait <= 0 {
		c.lastMcast[key] = now
		c.mu.Unlock()
		c.send(pc, b, pc.group(), ifindex)
		return
	}
	if !c.pending[key] {
		c.pending[key] = c.goAfter(wait, func() {
			c.mu.Lock()
			delete(c.pending, key)
			c.lastMcast[key] = time.Now()
			c.mu.Unlock()
			c.send(pc, b, pc.group(), ifindex)
		})
	}
	c.mu.Unlock()
}

// serviceKeys returns the records of r in the authority section of its
// probes, encoded for the tie-break of §8.2.1: type, then RDATA.
func (r *serviceReg) serviceKeys() [][]byte {
	return [][]byte{
		srvKey(0, 0, r.port, r.host.name.String()),
		txtKey(r.txt),
	}
}

func srvKey(prio, weight, port uint16, target string) []byte {
	k := []byte{0, 33, byte(prio >> 8), byte(prio), byte(weight >> 8), byte(weight), byte(port >> 8), byte(port)}
	for _, l := range strings.Split(strings.TrimSuffix(target, "."), ".") {
		k = append(k, byte(len(l)))
		k = append(k, l...)
	}
	return append(k, 0)
}

func txtKey(txt []string) []byte {
	if len(txt) == 0 {
		txt = []string{""}
	}
	k := []byte{0, 16}
	for _, t := range txt {
		k = append(k, byte(len(t)))
		k = append(k, t...)
	}
	return k
}

// recordKey encodes a received SRV or TXT record as serviceKeys does.
func recordKey(a record) ([]byte, bool) {
	switch a.rtype {
	case dnsmessage.TypeSRV:
		return srvKey(0, 0, a.port, a.target), true
	case dnsmessage.TypeTXT:
		return txtKey(a.txt), true
	}
	return nil, false
}

// checkServiceProbes runs the tie-break of §8.2 for the service
// instances we are probing for that m's authority section names: the
// records that sort later win; the loser waits a second and probes
// again.
func (c *Conn) checkServiceProbes(m message, ifindex int) {
	if len(m.authorities) == 0 {
		return
	}
	var probing []*serviceReg
	c.mu.Lock()
	for _, a := range m.authorities {
		if r := c.services[a.name]; r != nil && !r.established && !slices.Contains(probing, r) {
			probing = append(probing, r)
		}
	}
	c.mu.Unlock()
	for _, r := range probing {
		var theirs [][]byte
		for _, a := range m.authorities {
			if k, ok := recordKey(a); ok && a.name == r.fq {
				theirs = append(theirs, k)
			}
		}
		if compareKeys(r.serviceKeys(), theirs) < 0 {
			select {
			case r.lost <- struct{}{}:
			default:
			}
		}
	}
}

// checkServiceConflicts looks at the SRV and TXT records of a response
// from another host for our service instances (§9). While probing, any
// such record is a conflict. Once established, other data than ours is
// logged and answered with our records, so caches hold ours.
func (c *Conn) checkServiceConflicts(pc packetConn, recs []record, src netip.AddrPort, ifindex int) {
	for _, rec := range recs {
		if rec.ttl == 0 || (rec.rtype != dnsmessage.TypeSRV && rec.rtype != dnsmessage.TypeTXT) {
			continue
		}
		c.mu.Lock()
		r := c.services[rec.name]
		est := r != nil && r.established
		c.mu.Unlock()
		if r == nil {
			continue
		}
		if !est {
			e := &ConflictError{Name: display(r.fq), Host: src.Addr().WithZone(""), Iface: c.ifnames[ifindex]}
			select {
			case r.conflict <- e:
			default:
			}
			continue
		}
		k, _ := recordKey(rec)
		if slices.ContainsFunc(r.serviceKeys(), func(x []byte) bool { return string(x) == string(k) }) {
			continue // §9: identical data is no conflict
		}
		c.log.Warn("mdns: another host answers for our service", "instance", display(r.fq), "host", src.Addr(), "iface", c.ifnames[ifindex])
		key := mcastKey{r.fq, ifindex, pc.group().Addr().Is6()}
		ans := []outRecord{r.srvRecord(defaultTTL, true), r.txtRecord(serviceTTL, true)}
		c.multicastService(pc, key, ans, c.hostRecords(r.host, ifindex, pc), ifindex, false, false, c.timing.rateLimit)
		return
	}
}
