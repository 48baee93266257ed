package mdns

import (
	"errors"
	"fmt"
	"net/netip"
)

var (
	// ErrConflict is matched (errors.Is) by the error Register returns
	// when another host already answers for the name, or wins the
	// simultaneous-probe tie-break (RFC 6762 §8.2, §9). The error itself
	// is a *ConflictError naming that host.
	ErrConflict = errors.New("mdns: name conflict")

	// ErrNoAnswer is wrapped by the *net.DNSError that LookupHost returns
	// when its context ends before any host answered.
	ErrNoAnswer = errors.New("mdns: no answer")

	// ErrClosed is returned by Register and LookupHost once Close has
	// been called.
	ErrClosed = errors.New("mdns: connection closed")

	// ErrBadName is wrapped by the error returned for a name that cannot
	// be a single DNS label under .local: empty, longer than 63 octets,
	// containing a dot or a control character.
	ErrBadName = errors.New("mdns: bad name")

	// ErrNoInterface is returned by Listen when none of the chosen
	// interfaces could join the multicast group.
	ErrNoInterface = errors.New("mdns: no usable interface")
)

// A ConflictError is returned by Register when the name is taken: Host
// is the address of the host that answered for Name, Iface the interface
// its answer arrived on.
type ConflictError struct {
	Name  string // the FQDN, e.g. "alice.local"
	Host  netip.Addr
	Iface string
	// TieBreak is set when the other host was probing at the same time
	// and won the tie-break of RFC 6762 §8.2 too many times in a row.
	TieBreak bool
}

func (e *ConflictError) Error() string {
	how := "answered"
	if e.TieBreak {
		how = "is probing for it"
	}
	return fmt.Sprintf("mdns: %s is taken: host %s %s on %s", e.Name, e.Host, how, e.Iface)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
