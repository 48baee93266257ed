package names

import (
	"errors"
	"strconv"
	"time"

	"scuttle/applog"
)

// How says how a binding was learned. The numbers are not stored (the
// file holds String's words) and may change.
type How uint8

// The ways a binding is learned; see the package doc.
const (
	// Direct: an authenticated connection dialled to the name, or
	// accepted from a peer that gave that name; replaces a claim.
	Direct How = iota + 1
	// Claimed: a log whose chat entries carried the name, while no
	// connection presented it; evictable, and one per log.
	Claimed
	// Trusted: set by the user; the only binding that replaces another.
	Trusted
)

// String returns the word the names file and "scuttle names" use:
// "direct", "claimed" or "trusted".
func (h How) String() string {
	switch h {
	case Direct:
		return "direct"
	case Claimed:
		return "claimed"
	case Trusted:
		return "trusted"
	}
	return "How(" + strconv.Itoa(int(h)) + ")"
}

// parseHow is the inverse of String for the three known values.
func parseHow(s string) (How, bool) {
	for _, h := range []How{Direct, Claimed, Trusted} {
		if s == h.String() {
			return h, true
		}
	}
	return 0, false
}

// A Binding says that Name belongs to the log ID, how that was learned
// and when.
type Binding struct {
	Name string
	ID   applog.ID
	How  How
	Time time.Time // UTC, to the second
}

var (
	// ErrBadName is wrapped by the error for a name the store cannot
	// hold (see the package doc).
	ErrBadName = errors.New("names: bad name")
	// ErrFull is returned by Bind for a Direct binding of a name that is
	// unbound or only claimed when the store holds Options.MaxBindings
	// Direct bindings already. Claims never get it: the oldest is
	// evicted instead.
	ErrFull = errors.New("names: too many bindings")
)
