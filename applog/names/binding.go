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
	// Direct: an authenticated connection accepted from a peer that
	// gave the name, or dialled to a name the user did not ask for;
	// replaces a claim. Bounded (Options.MaxBindings), since a stranger
	// makes as many as it makes keys.
	Direct How = iota + 1
	// Claimed: a log whose chat entries carried the name, while no
	// connection presented it; evictable, and one per log.
	Claimed
	// Trusted: set by the user; the only binding that replaces another.
	Trusted
	// Named: an authenticated connection dialled to a name the user
	// asked for (on the command line); replaces a claim, and a Direct
	// binding of the same log. Never bounded by the Direct bindings, so
	// that a flood of keys cannot leave it no room: only the user makes
	// new ones, one per name asked for.
	Named
)

// String returns the word the names file and "scuttle names" use:
// "direct", "claimed", "trusted" or "named".
func (h How) String() string {
	switch h {
	case Direct:
		return "direct"
	case Claimed:
		return "claimed"
	case Trusted:
		return "trusted"
	case Named:
		return "named"
	}
	return "How(" + strconv.Itoa(int(h)) + ")"
}

// parseHow is the inverse of String for the known values.
func parseHow(s string) (How, bool) {
	for _, h := range []How{Direct, Claimed, Trusted, Named} {
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
