// Package netlab builds small multi-host networks out of Linux network
// namespaces for tests, so multicast DNS and the chat can be tested
// between "hosts" without sending a packet on a real interface.
//
// A Lab has N hosts and one or more segments. Each segment is a Linux
// bridge living in a namespace of its own (the lab's bridge namespace),
// never attached to any interface of the root namespace. Each host is a
// namespace with loopback up and one veth interface per segment it is on
// (segment 0 unless OnSegments says otherwise), named lan0, lan1… inside
// the host; the other end of each veth is a port of the segment's
// bridge. On segment s, host i (both from 0) gets
//
//	IPv4        10.0.s.(i+1)/24
//	IPv6        fe80::(s+1):(i+1)/64, link-local, without duplicate detection
//
// and the host's first interface carries the route to 224.0.0.0/4, so a
// program that sends multicast without choosing an interface (drill)
// works. Bridges have multicast snooping off: every multicast reaches
// every port. A /24 a segment bounds a lab to MaxHosts (254) hosts and 256
// segments; New fails the test beyond them (TestCheck), rather than give
// two hosts one address.
//
// Each host knows the others of its segments as permanent neighbours
// (ARP and NDP entries), its interface on segment s having the MAC
// address 02:73:63:s:00:(i+1). The kernel keeps the neighbours of every
// namespace in one table a family, which drops packets once it holds
// gc_thresh3 (1,024 by default) learnt entries: a lab of 33 hosts
// talking all to all needs more, and other labs of the machine share the
// table. Permanent entries do not count (Linux 4.19 and later), so a
// lab's hosts always reach each other (TestLab64).
//
// Namespace names start with "sc-" and a random tag, so labs of tests
// running in parallel never meet. New registers a t.Cleanup that deletes
// every namespace of the lab, which removes its interfaces and bridges,
// whether the test passed or not.
//
// Creating namespaces needs root and the ip command (iproute2): New skips
// the test, saying which is missing, without them.
//
// Host.StartLines runs a program in a host and lets a test wait for a
// line of its output; Host.StartAvahi runs avahi-daemon (with a private
// D-Bus bus, if asked) in a host, for interoperation tests, and skips
// when it is not installed.
//
// It exists on Linux only (the files other than this one build only
// there), so the tests that use it carry a //go:build linux line too.
//
// # Size and cost
//
// A lab of 64 hosts (TestLab64, which opens a TCP connection from every
// host to every other over IPv4 and IPv6 link-local, 8,064 at once) took
// 0.9 to 1.4 s to build and 0.25 to 0.35 s to delete on a 2-CPU machine
// shared with other work (Linux 6.18, iproute2 6.1): three processes a
// host (ip netns add, and one ip -batch in the bridge's namespace and
// one in the host's). While it stood, the kernel's slab memory grew by
// 17 to 22 MB (about 300 KB a host), and came back within 5 s of the
// deletion, which the kernel completes asynchronously. No other limit of
// the kernel is near at that size: a bridge takes 1,024 ports, and each
// namespace has its own sysctls.
//
// # Counters
//
// Host.Counters reads what a host has sent on its lan interfaces (bytes
// and frames) and the multicast part of it, and Host.Established counts
// its established TCP connections, from the kernel's figures for its
// namespace, for tests that measure what a protocol costs on the wire
// (TestCounters). Counters is cheap; Established makes the kernel walk
// the connections of every namespace, up to tens of milliseconds a
// host. A veth offloads TCP segmentation, so a bulk transfer counts the
// headers of frames of up to 64 KB, fewer than a 1500-byte wire would
// carry; a small message is one frame either way.
package netlab
