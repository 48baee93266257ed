//go:build linux

package netlab

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Counters are what a host has sent on its lan interfaces so far, as
// its namespace's kernel counts them. A test subtracts two readings to
// measure what a phase cost.
type Counters struct {
	// TxBytes and TxPackets are the bytes (Ethernet frames, headers
	// included) and packets the host has sent on its lan interfaces:
	// everything it put on the lab's segments. Loopback is not counted.
	TxBytes, TxPackets uint64
	// McastOctets is the part of the IP traffic the host sent that was
	// multicast (multicast DNS, in the chat's case, and the kernel's own
	// IGMP and MLD reports), IP headers included, Ethernet headers not:
	// the kernel's IpExt OutMcastOctets plus Ip6OutMcastOctets.
	McastOctets uint64
}

// Sub returns c − old.
func (c Counters) Sub(old Counters) Counters {
	return Counters{
		TxBytes:     c.TxBytes - old.TxBytes,
		TxPackets:   c.TxPackets - old.TxPackets,
		McastOctets: c.McastOctets - old.McastOctets,
	}
}

// Counters reads the host's counters. It reads /proc/thread-self/net
// on a thread inside the host's namespace (through Do), so it starts no
// process: well under a millisecond a host.
func (h *Host) Counters() (Counters, error) {
	var c Counters
	err := h.Do(func() error {
		dev, err := os.ReadFile("/proc/thread-self/net/dev")
		if err != nil {
			return err
		}
		if c.TxBytes, c.TxPackets, err = parseDevTx(dev, "lan"); err != nil {
			return err
		}
		netstat, err := os.ReadFile("/proc/thread-self/net/netstat")
		if err != nil {
			return err
		}
		v4, err := parseNetstat(netstat, "IpExt", "OutMcastOctets")
		if err != nil {
			return err
		}
		snmp6, err := os.ReadFile("/proc/thread-self/net/snmp6")
		if err != nil {
			return err
		}
		v6, err := parseSnmp6(snmp6, "Ip6OutMcastOctets")
		if err != nil {
			return err
		}
		c.McastOctets = v4 + v6
		return nil
	})
	if err != nil {
		return Counters{}, fmt.Errorf("netlab: counters of %s: %w", h.Name, err)
	}
	return c, nil
}

// Established returns the number of TCP connections (IPv4 and IPv6) of
// the host in state ESTABLISHED whose local address is not a loopback
// address. It reads /proc/thread-self/net/tcp and tcp6 inside the host's
// namespace; the kernel makes each read walk its one table of the
// connections of all namespaces, which took up to 75 ms for the two on a
// loaded 2-CPU machine with 4,000 connections open: call it once per
// phase, not in a loop.
func (h *Host) Established() (int, error) {
	n := 0
	err := h.Do(func() error {
		for _, f := range []string{"tcp", "tcp6"} {
			b, err := os.ReadFile("/proc/thread-self/net/" + f)
			if err != nil {
				return err
			}
			m, err := parseEstablished(b)
			if err != nil {
				return fmt.Errorf("/proc/net/%s: %w", f, err)
			}
			n += m
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("netlab: established connections of %s: %w", h.Name, err)
	}
	return n, nil
}

// parseDevTx sums the transmitted bytes and packets of the interfaces
// whose name starts with prefix in b, the text of /proc/net/dev: two
// header lines, then "NAME: rx×8 tx×8" per interface, tx bytes and
// packets being the 9th and 10th numbers.
func parseDevTx(b []byte, prefix string) (txBytes, txPackets uint64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 0; sc.Scan(); line++ {
		if line < 2 {
			continue
		}
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			return 0, 0, fmt.Errorf("/proc/net/dev: line %d has no colon: %q", line+1, sc.Text())
		}
		if !strings.HasPrefix(strings.TrimSpace(name), prefix) {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 10 {
			return 0, 0, fmt.Errorf("/proc/net/dev: line %d has %d numbers, want 16: %q", line+1, len(f), sc.Text())
		}
		nb, err1 := strconv.ParseUint(f[8], 10, 64)
		np, err2 := strconv.ParseUint(f[9], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("/proc/net/dev: line %d: tx bytes %q, packets %q: not numbers", line+1, f[8], f[9])
		}
		txBytes += nb
		txPackets += np
	}
	return txBytes, txPackets, sc.Err()
}

// parseNetstat returns the counter field of group in b, the text of
// /proc/net/netstat (or snmp): per group, a line of names and a line of
// values, both starting with "GROUP:".
func parseNetstat(b []byte, group, field string) (uint64, error) {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != group+":" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == field {
				if i >= len(f) {
					return 0, fmt.Errorf("%s %s: no value (%d values, %d names)", group, field, len(f), len(names))
				}
				return strconv.ParseUint(f[i], 10, 64)
			}
		}
		return 0, fmt.Errorf("%s has no counter %s", group, field)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s lines", group)
}

// parseSnmp6 returns the counter field of b, the text of
// /proc/net/snmp6: one "NAME VALUE" per line.
func parseSnmp6(b []byte, field string) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == field {
			return strconv.ParseUint(f[1], 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("snmp6 has no counter %s", field)
}

// parseEstablished counts the sockets of b, the text of /proc/net/tcp or
// tcp6, in state 01 (ESTABLISHED) whose local address is not loopback.
// Each line after the header is "sl: LOCAL:PORT REMOTE:PORT ST …", the
// addresses in hex as the kernel holds them in memory.
func parseEstablished(b []byte) (int, error) {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 0; sc.Scan(); line++ {
		if line == 0 {
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			return 0, fmt.Errorf("line %d has %d fields: %q", line+1, len(f), sc.Text())
		}
		if f[3] != "01" {
			continue
		}
		addr, _, ok := strings.Cut(f[1], ":")
		if !ok {
			return 0, fmt.Errorf("line %d: local address %q has no port", line+1, f[1])
		}
		if !isLoopbackHex(addr) {
			n++
		}
	}
	return n, sc.Err()
}

// isLoopbackHex says whether a, an address of /proc/net/tcp or tcp6 as
// 8 or 32 hex digits in 32-bit words of host (little-endian) byte order,
// is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104.
func isLoopbackHex(a string) bool {
	switch len(a) {
	case 8: // 127.x.y.z is "zzyyxx7F"
		return strings.HasSuffix(a, "7F")
	case 32:
		if a == "00000000000000000000000001000000" { // ::1
			return true
		}
		// ::ffff:127.x.y.z: two zero words, 0000FFFF as "FFFF0000", the IPv4 word.
		return strings.HasPrefix(a, "0000000000000000FFFF0000") && strings.HasSuffix(a, "7F")
	}
	return false
}
