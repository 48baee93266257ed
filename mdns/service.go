package mdns

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// This file is the DNS-SD responder (RFC 6763): a service instance is
// probed for, announced and said goodbye to like a host name (RFC 6762
// §8, §10.1), with the records of RFC 6763 §4.1: a PTR from the service
// type to the instance, a PTR from _services._dns-sd._udp.local to the
// type (§9), an SRV naming the host and port (§5) and a TXT (§6).
// serviceanswer.go answers for them; conflict.go defends them (§9).

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
	r, hostFQ, err := newServiceReg(s)
	if err != nil {
		return err
	}
	host, hostErr, err := c.reserveService(ctx, r, hostFQ, s.Host)
	if err != nil {
		return err
	}
	err = c.probe(ctx, prober{r.fq, r.conflict, r.lost, func() { c.sendServiceProbe(r) }})
	if hostErr != nil {
		// Our own claim of the host: its error, if any, says why the
		// service failed (the host name is the user's identity).
		if herr := <-hostErr; herr != nil {
			err = herr
		}
	}
	if err == nil {
		err = c.awaitHost(ctx, r, host)
	}
	if err := c.establishService(r, host, hostFQ, err); err != nil {
		return err
	}
	c.log.Debug("mdns: service claimed", "instance", display(r.fq), "port", r.port)
	c.announceService(r, false)
	c.mu.Lock()
	c.goAfter(c.timing.announceGap, func() { c.announceService(r, false) })
	c.mu.Unlock()
	return nil
}

// newServiceReg checks s and returns its registration, not yet holding
// its host, and the lower-case FQDN of its host.
func newServiceReg(s Service) (*serviceReg, string, error) {
	typeFQ, typ, err := serviceType(s.Type)
	if err != nil {
		return nil, "", err
	}
	if err := checkInstance(s.Instance); err != nil {
		return nil, "", fmt.Errorf("%w: instance %q: %v", ErrBadName, s.Instance, err)
	}
	instance, err := dnsmessage.NewName(s.Instance + "." + typ.String())
	if err != nil {
		return nil, "", fmt.Errorf("%w: instance %q: %v", ErrBadName, s.Instance, err)
	}
	hostFQ, err := fqdn(s.Host)
	if err != nil {
		return nil, "", err
	}
	if err := checkTXT(s.TXT); err != nil {
		return nil, "", err
	}
	return &serviceReg{
		fq:       lowerASCII(s.Instance) + "." + typeFQ,
		typeFQ:   typeFQ,
		instance: instance,
		typ:      typ,
		port:     s.Port,
		txt:      slices.Clone(s.TXT),
		conflict: make(chan *ConflictError, 1),
		lost:     make(chan struct{}, 1),
	}, hostFQ, nil
}

// checkTXT reports why txt cannot be a TXT record's strings.
func checkTXT(txt []string) error {
	total := 0
	for _, t := range txt {
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
	return nil
}

// reserveService puts r in c.services, not yet established, with its
// host: the registration of hostFQ on the Conn, or else one for
// hostName that it starts claiming, its claim's error coming on
// hostErr (nil when the host was registered already).
func (c *Conn) reserveService(ctx context.Context, r *serviceReg, hostFQ, hostName string) (host *registration, hostErr chan error, err error) {
	c.mu.Lock()
	host = c.names[hostFQ]
	switch {
	case c.closed:
		c.mu.Unlock()
		return nil, nil, ErrClosed
	case c.services[r.fq] != nil:
		c.mu.Unlock()
		return nil, nil, fmt.Errorf("mdns: service %s is already registered on this connection", display(r.fq))
	case len(c.services) >= maxServices:
		c.mu.Unlock()
		return nil, nil, fmt.Errorf("mdns: %d services are registered on this connection, the limit", maxServices)
	}
	c.mu.Unlock()
	if host == nil {
		// Claim the host name too, while probing for the instance.
		if host, err = c.addName(hostName); err != nil {
			return nil, nil, err
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
		return nil, nil, fmt.Errorf("mdns: service %s is already registered on this connection", display(r.fq))
	}
	r.host = host
	c.services[r.fq] = r
	c.mu.Unlock()
	return host, hostErr, nil
}

// awaitHost waits for the probing of host, r's SRV target, if it is
// still going on (another Register or RegisterService claiming it).
func (c *Conn) awaitHost(ctx context.Context, r *serviceReg, host *registration) error {
	if host.probed == nil {
		return nil
	}
	select {
	case <-host.probed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mdns: probing for %s: %w", display(r.fq), ctx.Err())
	case <-c.closing:
		return ErrClosed
	}
}

// establishService ends the claim of r: established if probing
// succeeded (err is nil) and its host, hostFQ, is ours; otherwise r
// leaves c.services and the error says why.
func (c *Conn) establishService(r *serviceReg, host *registration, hostFQ string, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && (!host.established || c.names[hostFQ] != host) {
		err = fmt.Errorf("mdns: service host %s: its name was not claimed", display(hostFQ))
	}
	if err != nil {
		delete(c.services, r.fq)
		return err
	}
	r.established = true
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
	c.multicastQuery(q, nil, auth, 0)
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
