package mdns

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// This file defends the names and service instances the Conn claims:
// the simultaneous-probe tie-break (§8.2) while probing, and conflicts
// (§9), while probing and once established.

// checkProbes looks in m's authority section for another host probing
// for a name we are probing for, and runs the tie-break of §8.2: the
// host whose records sort later wins; the loser waits a second and
// probes again.
func (c *Conn) checkProbes(m message, ifindex int) {
	if len(m.authorities) == 0 {
		return
	}
	var probing []*registration
	c.mu.Lock()
	for _, a := range m.authorities {
		if r := c.names[a.name]; r != nil && !r.established && !slices.Contains(probing, r) {
			probing = append(probing, r)
		}
	}
	c.mu.Unlock()
	if len(probing) == 0 {
		return
	}
	v4, v6 := c.addrs(ifindex)
	ours := append(v4, v6...)
	for _, r := range probing {
		var theirs []netip.Addr
		for _, a := range m.authorities {
			if a.name == r.fq && a.isAddr() {
				theirs = append(theirs, a.addr)
			}
		}
		if compareRecords(ours, theirs) < 0 {
			select {
			case r.lost <- struct{}{}:
			default:
			}
		}
	}
}

// compareRecords orders two sets of address records as §8.2.1 does:
// each sorted by type then data, compared pairwise; the first difference
// decides, and a set that runs out first is the lesser.
func compareRecords(a, b []netip.Addr) int {
	key := func(x netip.Addr) []byte {
		// A (type 1) sorts before AAAA (type 28); then the RDATA.
		if x.Is4() {
			v := x.As4()
			return append([]byte{0, 1}, v[:]...)
		}
		v := x.As16()
		return append([]byte{0, 28}, v[:]...)
	}
	ka := make([][]byte, len(a))
	for i, x := range a {
		ka[i] = key(x)
	}
	kb := make([][]byte, len(b))
	for i, x := range b {
		kb[i] = key(x)
	}
	return compareKeys(ka, kb)
}

// compareKeys is the comparison of §8.2.1 over records already encoded
// as type then RDATA: sorted, compared pairwise, the shorter set lesser.
func compareKeys(ka, kb [][]byte) int {
	slices.SortFunc(ka, bytes.Compare)
	slices.SortFunc(kb, bytes.Compare)
	for i := 0; i < len(ka) && i < len(kb); i++ {
		if d := bytes.Compare(ka[i], kb[i]); d != 0 {
			return d
		}
	}
	return len(ka) - len(kb)
}

// reportConflict tells the probe for fq, on its channel ch, that host
// src answered for the name on interface ifindex: while probing, any
// answer from another host is a conflict (§9), for a host name as for a
// service instance. The probe fails on the first; ch holds one, and
// later ones are dropped while it is full.
func (c *Conn) reportConflict(ch chan<- *ConflictError, fq string, src netip.AddrPort, ifindex int) {
	select {
	case ch <- &ConflictError{Name: display(fq), Host: src.Addr().WithZone(""), Iface: c.ifnames[ifindex]}:
	default:
	}
}

// checkConflicts looks at the records of a response from another host
// for names we own or probe for (§9). While probing, any answer is a
// conflict. Once established, an answer with other addresses than ours
// is logged and answered with our own records, so caches hold ours.
// Each of our names the response names is judged on its own: one
// response that conflicts with several is told to the probe of each,
// and each established one is defended, once.
func (c *Conn) checkConflicts(pc packetConn, recs []record, src netip.AddrPort, ifindex int) {
	var defended []*registration
	for _, rec := range recs {
		if rec.ttl == 0 || !rec.isAddr() {
			continue
		}
		c.mu.Lock()
		r := c.names[rec.name]
		est := r != nil && r.established
		c.mu.Unlock()
		if r == nil || slices.Contains(defended, r) {
			continue
		}
		if !est {
			c.reportConflict(r.conflict, r.fq, src, ifindex)
			continue
		}
		v4, v6 := c.addrs(ifindex)
		if slices.Contains(v4, rec.addr) || slices.Contains(v6, rec.addr) {
			continue // §9: identical data is no conflict
		}
		c.log.Warn("mdns: another host answers for our name", "name", display(r.fq), "host", src.Addr(), "addr", rec.addr, "iface", c.ifnames[ifindex])
		c.multicastAnswer(pc, hit{r: r}, append(v4, v6...), nil, ifindex, c.timing.rateLimit)
		defended = append(defended, r)
	}
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
func (c *Conn) checkServiceProbes(m message) {
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
// logged and answered with our records, so caches hold ours. As in
// checkConflicts, each instance the response names is judged on its own,
// and each established one defended once.
func (c *Conn) checkServiceConflicts(pc packetConn, recs []record, src netip.AddrPort, ifindex int) {
	var defended []*serviceReg
	for _, rec := range recs {
		if rec.ttl == 0 || (rec.rtype != dnsmessage.TypeSRV && rec.rtype != dnsmessage.TypeTXT) {
			continue
		}
		c.mu.Lock()
		r := c.services[rec.name]
		est := r != nil && r.established
		c.mu.Unlock()
		if r == nil || slices.Contains(defended, r) {
			continue
		}
		if !est {
			c.reportConflict(r.conflict, r.fq, src, ifindex)
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
		defended = append(defended, r)
	}
}
