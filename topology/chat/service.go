package chat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"scuttle/mdns"
	"scuttle/topology"
)

// The chat's DNS-SD service: each chat advertises ME._scuttle._tcp.local
// (RFC 6763) with an SRV record naming ME.local and the port it listens
// on, and a TXT record
//
//	id=<log ID>   the own log's ID: who ME is, as the TLS handshake will prove
//	v=<version>   topology.ProtocolVersion
//	net=<tag>     topology.NetworkTag of the network key; absent on the public network
//
// so that avahi-browse, Bonjour browsers, scuttle peers and chat
// --discover list it, and a NAME peer is dialled at its SRV port (a chat
// started with --port is still found by name).

// ServiceType is the DNS-SD service type of scuttle chats.
const ServiceType = "_scuttle._tcp"

// serviceTXT returns the TXT strings of a chat with log id and network key.
func serviceTXT(id string, key []byte) []string {
	txt := []string{"id=" + id, "v=" + strconv.Itoa(topology.ProtocolVersion)}
	if tag := topology.NetworkTag(key); tag != "" {
		txt = append(txt, "net="+tag)
	}
	return txt
}

// A Registrar advertises a DNS-SD service: *mdns.Conn.
type Registrar interface {
	RegisterService(ctx context.Context, s mdns.Service) error
}

// Retries of a taken name (see Advertise): the first after
// claimRetry, then doubling up to maxClaimRetry. RFC 6762 §9 asks for
// no more than 15 probes in 10 s; these are far fewer.
const (
	claimRetry    = 30 * time.Second
	maxClaimRetry = 10 * time.Minute
)

// Advertise claims ME.local and ME._scuttle._tcp.local on md, probing
// for both at once, with the port of listenAddr (":PORT") and the TXT
// record of log id and network key.
//
// A name that another host holds (scuttle announce ME elsewhere,
// another chat as ME, or one forged mDNS answer) does not end the
// chat, and is not renamed either: ME is the user's identity, and a
// spoofer that answers for every name would take ME-2, ME-3… as well.
// The chat runs without the advertisement, still dialling its peers and
// reached by those who name it as HOST:PORT; info says so once, and
// Advertise tries the claim again after claimRetry, then less and less
// often (up to maxClaimRetry apart), until it succeeds (info says so
// too) or ctx ends. It returns nil then, or the first error that is no
// conflict.
func Advertise(ctx context.Context, md Registrar, me, listenAddr, id string, key []byte, info func(line string)) error {
	_, p, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return fmt.Errorf("advertising %s: listen address %q: %w", me, listenAddr, err)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return fmt.Errorf("advertising %s: listen address %q: %w", me, listenAddr, err)
	}
	svc := mdns.Service{Instance: me, Type: ServiceType, Host: me, Port: uint16(port), TXT: serviceTXT(id, key)}
	wait := claimRetry
	for taken := false; ; taken = true {
		err := md.RegisterService(ctx, svc)
		var ce *mdns.ConflictError
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			if taken {
				info(Escape(mdns.FQDN(me)) + " is free now: this chat is advertised, and peers find it by name")
			}
			return nil
		case !errors.As(err, &ce):
			return fmt.Errorf("claiming %s: %w", mdns.FQDN(me), err)
		case !taken:
			info(conflictLine(ce, port))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
		wait = min(2*wait, maxClaimRetry)
	}
}

// conflictLine is the info line that tells of the conflict ce, the chat
// listening on port.
func conflictLine(ce *mdns.ConflictError, port uint64) string {
	how := "answered for it"
	if ce.TieBreak {
		how = "is claiming it"
	}
	return fmt.Sprintf("%s is taken: host %s %s on %s; running without it: peers reach this chat as HOST:%d, it still dials its peers, and it claims the name once it is free",
		Escape(ce.Name), Escape(ce.Host.String()), how, Escape(ce.Iface), port)
}

// Resolver is the chat's resolver over multicast DNS (Config.Resolver):
// NAME.local's addresses, and the port of NAME._scuttle._tcp.local's SRV
// record (topology.PortResolver).
type Resolver struct{ *mdns.Conn }

// LookupPort returns the port of name's chat service.
func (r Resolver) LookupPort(ctx context.Context, name string) (uint16, error) {
	e, err := r.LookupService(ctx, name, ServiceType)
	if err != nil {
		return 0, err
	}
	return e.Port, nil
}

// TXTValue returns the value of key in TXT strings ("key=value"), and
// whether it is there (RFC 6763 §6.4: the first occurrence counts; keys
// compare case-insensitively).
func TXTValue(txt []string, key string) (string, bool) {
	for _, s := range txt {
		if k, v, _ := strings.Cut(s, "="); strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// unreachable prints that the NAME peer e.Target resolved to e.Addr,
// where no scuttle answers (a forged or stale mDNS record, or a port
// that runs something else): the swarm redials it less often, and says
// so once per target and run.
func (c *Chat) unreachable(e topology.Event) {
	c.info(fmt.Sprintf("no scuttle answers at %s, where %s resolved: dialling it less often, up to a minute apart",
		Escape(e.Addr.String()), Escape(mdns.FQDN(e.Target))))
}
