package doctor

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"time"

	"scuttle/mdns"
)

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = 3 * time.Second

// Options says what Run checks.
type Options struct {
	// Interfaces names the interfaces to check; none means those
	// mdns.SelectInterfaces chooses by default.
	Interfaces []string
	// Port is the chat's TCP port, checked to be free; 0 skips the
	// check.
	Port uint16
	// Timeout bounds the self-test and the listening for other hosts;
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// Logger receives the mdns Conns' diagnostics; nil discards them.
	Logger *slog.Logger
}

// doctor is one Run: its options and where its findings go.
type doctor struct {
	opts   Options
	report func(Finding)
}

// Run performs the checks that doc.go lists, in that order, on the
// interfaces of opts, and calls report with each one's Finding, on the
// goroutine that called Run. Every outcome is a Finding, a check that
// cannot run included, so Run returns nothing; a caller that wants a
// failure status counts the FAILs. ctx bounds the self-test and the
// firewall tools; Run sends multicast (see doc.go).
func Run(ctx context.Context, opts Options, report func(Finding)) {
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	d := &doctor{opts: opts, report: report}
	ifaces, ok := d.checkSelection()
	if !ok {
		return
	}
	for _, ifi := range ifaces {
		d.checkInterface(ifi)
	}
	d.checkRoute(ifaces)
	holders, holdersErr := udpHolders(mdns.Port)
	d.checkShared(holders, holdersErr)
	md, err := mdns.Listen(ctx, mdns.Config{Interfaces: names(ifaces), Logger: opts.Logger})
	if err != nil {
		hint := "another program may hold UDP 5353 without SO_REUSEPORT; stop it, or run scuttle where it is not"
		if len(holders) > 0 {
			hint = "held by " + describeHolders(holders) + ": stop it or make it share the port (SO_REUSEPORT)"
		}
		d.report(failure("", "listen", "cannot open UDP port 5353: "+err.Error(), hint))
	} else {
		d.selfTest(ctx, md, ifaces)
		md.Close()
	}
	d.checkTCPPort()
	d.checkFirewall(ctx)
}

// checkSelection reports the interfaces to check, and whether there are
// any: if the ones named do not exist or are down, nothing else can be
// checked.
func (d *doctor) checkSelection() ([]net.Interface, bool) {
	ifaces, err := mdns.SelectInterfaces(d.opts.Interfaces)
	if err != nil {
		d.report(failure("", "interfaces", err.Error(), "name an interface that exists and is up with --iface (see: ip link)"))
		return nil, false
	}
	how := "chosen with --iface"
	if len(d.opts.Interfaces) == 0 {
		how = "the default: every multicast interface that is up, with an address, not loopback"
	}
	d.report(okay("", "interfaces", strings.Join(names(ifaces), ", ")+" ("+how+")"))
	return ifaces, true
}

// names returns the interfaces' names.
func names(ifaces []net.Interface) []string {
	var out []string
	for _, ifi := range ifaces {
		out = append(out, ifi.Name)
	}
	return out
}

// isLoopback reports whether the interface called name among ifaces is
// a loopback interface.
func isLoopback(ifaces []net.Interface, name string) bool {
	for _, ifi := range ifaces {
		if ifi.Name == name {
			return ifi.Flags&net.FlagLoopback != 0
		}
	}
	return false
}
