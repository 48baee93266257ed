// Package netlab builds small multi-host networks out of Linux network
// namespaces for tests, so multicast DNS and the chat can be tested
// between "hosts" without sending a packet on a real interface.
//
// A Lab has N hosts and one or more segments. Each segment is a Linux
// bridge living in a namespace of its own (the lab's bridge namespace),
// never attached to any interface of the root namespace. Each host is a
// namespace with loopback up and one veth interface per segment it is on
// (segment 0 unless OnSegments says otherwise), named lan0, lan1… inside
// the host; the other end of each veth is a
// port of the segment's bridge. On segment s, host i (both from 0) gets
//
//	IPv4        10.0.s.(i+1)/24
//	IPv6        fe80::(s+1):(i+1)/64, link-local, without duplicate detection
//
// and the host's first interface carries the route to 224.0.0.0/4, so a
// program that sends multicast without choosing an interface (drill)
// works. Bridges have multicast snooping off: every multicast reaches
// every port.
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
package netlab
