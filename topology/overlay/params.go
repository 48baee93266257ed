package overlay

import (
	"fmt"
	"time"
)

// Params are a Machine's parameters. The zero value selects every
// default; Validate states the bounds, which doc.go repeats. For the
// fields whose range includes 0 (Extra, Near, ShuffleActive,
// ShufflePassive, EvictInterval), a negative value means 0.
type Params struct {
	// MaxActive bounds the active set, named peers aside: the peers this
	// one keeps a connection to. Default 10; 2 … 10.
	MaxActive int

	// Extra is c in the active set's target size, ceil(log2(N)) + c,
	// for a room of N peers (at most MaxActive). Default 1; 0 … 4.
	Extra int

	// Near is how many of the active links are chosen for a low
	// round-trip time rather than at random. Default 2; 0 … MaxActive/2.
	Near int

	// MaxPassive bounds the passive set: known peers not connected,
	// from which failed links are replaced. Default 30; 1 … 256.
	MaxPassive int

	// ActiveWalk is the length of a join's random walk (HyParView's
	// ARWL), and of a shuffle's. Default 6; 1 … 10.
	ActiveWalk int

	// PassiveWalk is the step of a join's walk at which the joiner is
	// put in the passive set (PRWL). Default 3; 1 … ActiveWalk.
	PassiveWalk int

	// ShuffleInterval is how often the peer exchanges part of its
	// views with a random walk's end. Default 10s; 100ms … 10m.
	ShuffleInterval time.Duration

	// ShuffleActive and ShufflePassive are how many active and passive
	// peers a shuffle carries (plus the sender). Default 3 and 4;
	// 0 … MaxActive and 0 … MaxPassive.
	ShuffleActive, ShufflePassive int

	// ReplyTimeout is how long a neighbour request or a join waits for
	// its answer before the next peer is tried. Default 2s; 10ms … 1m.
	ReplyTimeout time.Duration

	// EvictInterval bounds how often a request (a join, or a neighbour
	// request of high priority) may evict an active peer: one per
	// interval; others are refused. Default 1s; 0 … 1m.
	EvictInterval time.Duration
}

// Default values of Params' fields.
const (
	DefaultMaxActive       = 10
	DefaultExtra           = 1
	DefaultNear            = 2
	DefaultMaxPassive      = 30
	DefaultActiveWalk      = 6
	DefaultPassiveWalk     = 3
	DefaultShuffleInterval = 10 * time.Second
	DefaultShuffleActive   = 3
	DefaultShufflePassive  = 4
	DefaultReplyTimeout    = 2 * time.Second
	DefaultEvictInterval   = time.Second
)

// withDefaults returns p with zero fields given their defaults.
func (p Params) withDefaults() Params {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.MaxActive, DefaultMaxActive)
	def(&p.Extra, DefaultExtra)
	def(&p.Near, DefaultNear)
	def(&p.MaxPassive, DefaultMaxPassive)
	def(&p.ActiveWalk, DefaultActiveWalk)
	def(&p.PassiveWalk, DefaultPassiveWalk)
	def(&p.ShuffleActive, DefaultShuffleActive)
	def(&p.ShufflePassive, DefaultShufflePassive)
	if p.ShuffleInterval == 0 {
		p.ShuffleInterval = DefaultShuffleInterval
	}
	if p.ReplyTimeout == 0 {
		p.ReplyTimeout = DefaultReplyTimeout
	}
	if p.EvictInterval == 0 {
		p.EvictInterval = DefaultEvictInterval
	}
	// A negative value asks for 0 where 0 is allowed, as zero means the
	// default.
	for _, v := range []*int{&p.Extra, &p.Near, &p.ShuffleActive, &p.ShufflePassive} {
		if *v < 0 {
			*v = 0
		}
	}
	if p.EvictInterval < 0 {
		p.EvictInterval = 0
	}
	return p
}

// Validate reports whether p, once zero fields are given their
// defaults, is within the bounds its fields state.
func (p Params) Validate() error {
	p = p.withDefaults()
	in := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("overlay: %s %d not within %d … %d", name, v, lo, hi)
		}
		return nil
	}
	inD := func(name string, v, lo, hi time.Duration) error {
		if v < lo || v > hi {
			return fmt.Errorf("overlay: %s %v not within %v … %v", name, v, lo, hi)
		}
		return nil
	}
	for _, err := range []error{
		in("MaxActive", p.MaxActive, 2, 10),
		in("Extra", p.Extra, 0, 4),
		in("Near", p.Near, 0, p.MaxActive/2),
		in("MaxPassive", p.MaxPassive, 1, 256),
		in("ActiveWalk", p.ActiveWalk, 1, 10),
		in("PassiveWalk", p.PassiveWalk, 1, p.ActiveWalk),
		in("ShuffleActive", p.ShuffleActive, 0, p.MaxActive),
		in("ShufflePassive", p.ShufflePassive, 0, p.MaxPassive),
		inD("ShuffleInterval", p.ShuffleInterval, 100*time.Millisecond, 10*time.Minute),
		inD("ReplyTimeout", p.ReplyTimeout, 10*time.Millisecond, time.Minute),
		inD("EvictInterval", p.EvictInterval, 0, time.Minute),
	} {
		if err != nil {
			return err
		}
	}
	if n := p.ShuffleActive + p.ShufflePassive + 1; n > MaxWirePeers {
		return fmt.Errorf("overlay: a shuffle of %d peers (ShuffleActive+ShufflePassive+1), at most %d on the wire", n, MaxWirePeers)
	}
	return nil
}
