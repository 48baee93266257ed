// Package doctor checks why multicast DNS peers might not find each
// other on this host, for scuttle doctor. Run performs the checks in
// order and reports each one's result as a Finding: OK, WARN or FAIL,
// what was found, and what to do about it.
//
// # Checks
//
// Each check looks at one thing mDNS needs, in the order a packet needs
// them, so the first FAIL is usually the cause:
//
//   - interfaces: which interfaces are checked (those named, or the
//     default choice of mdns.SelectInterfaces); none means nothing else
//     can be checked.
//   - up, multicast, addresses (per interface): the interface is up
//     with a carrier, carries multicast, and has addresses to answer
//     with; without IPv4 an IPv4-only peer cannot reach this host.
//   - route: whether 224.0.0.0/4 or a default route exists
//     (/proc/net/route). scuttle names the interface on every packet and
//     needs neither, but other mDNS tools (dig, drill) do, so it is only
//     ever a WARN. Skipped when loopback alone is checked.
//   - port 5353: the other processes holding UDP 5353
//     (/proc/net/udp{,6} and the sockets in /proc/*/fd): avahi-daemon
//     or another scuttle share it; one that does not share it makes the
//     listen fail, and the FAIL names it.
//   - group IPv4, group IPv6 (per interface): whether the kernel lists
//     224.0.0.251 and ff02::fb as joined (/proc/net/igmp, igmp6), after
//     our socket joined them.
//   - self-test IPv4, self-test IPv6 (per interface): a random name,
//     scuttle-doctor-XXXXXXXX.local, is claimed; hearing our own probes
//     and announcements back shows the group is joined and multicast
//     loops back. One family working is enough (a WARN for the other);
//     both failing is a FAIL.
//   - own name: a second socket resolves that name, as another process
//     of this host would; failing means multicast does not reach the
//     host's other sockets (a firewall, or IP_MULTICAST_LOOP off).
//   - other hosts (per interface, not loopback): whose mDNS traffic was
//     heard while the self-test ran, at least 1.5 s; none on a network
//     with peers suggests client isolation, a guest network, a firewall
//     or a router between the hosts.
//   - peers: the scuttle peers (_scuttle._tcp) seen meanwhile, if any.
//   - tcp port (with Options.Port): whether the chat's TCP port is free,
//     naming the process holding it (/proc/net/tcp{,6}) if not.
//   - firewall: the rules nft, iptables and ip6tables show, for one that
//     drops UDP 5353 or an input policy of drop that no rule for 5353
//     overrides.
//
// The /proc files are read on Linux only (proc_linux.go); elsewhere
// those checks say they were not checked. Their parsers (procnet.go)
// are portable, so they are tested everywhere.
//
// # Network
//
// Run sends multicast on the interfaces it checks: the self-test's
// probes, announcements and queries. This package's tests run none of
// it; the command's tests (the root's cmd_doctor_test.go and
// doctor_e2e_test.go) run it on loopback only or inside network
// namespaces (mdns/netlab).
package doctor
