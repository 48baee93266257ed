package names

import (
	"strings"

	"scuttle/applog"
	"scuttle/applog/names/glyph"
)

// This file is the store's state, the replay of its file: the bindings
// by skeleton, the names bound to each log, and the queue of claims to
// evict. apply is the one place the rules of the package doc are made,
// for the records of the file and for the claims kept in memory alike,
// so that every process that replays one file agrees on its state.

// Skeleton returns the form of name under which names that print alike
// are one name: invisible and bidi characters dropped, and each other
// character folded to the letter or digit it reads as, in lower case
// (applog/names/glyph: case, fullwidth and mathematical letters, Latin,
// Cyrillic, Greek and Armenian look-alikes, 0 and o, 1 i l and I).
// "bob", "BOB", "bоb" (Cyrillic о), "b0b" and "bob\u200b" have one
// skeleton. Skeleton(Skeleton(s)) == Skeleton(s).
func Skeleton(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		if !glyph.Invisible(r) {
			b.WriteRune(glyph.Fold(r))
		}
	}
	return b.String()
}

// state is the bindings in force, with the counts the bounds need.
type state struct {
	maxDirect, maxClaimed int

	byKey  map[string]Binding     // by Skeleton(name)
	byID   map[applog.ID][]string // the keys bound to each log
	claims []string               // keys claimed, oldest first; may hold keys no longer claimed
	direct int                    // Direct bindings in byKey
	nclaim int                    // Claimed bindings in byKey
}

func newState(maxDirect, maxClaimed int) state {
	return state{maxDirect: maxDirect, maxClaimed: maxClaimed, byKey: map[string]Binding{}, byID: map[applog.ID][]string{}}
}

func (s *state) reset() {
	clear(s.byKey)
	clear(s.byID)
	s.claims, s.direct, s.nclaim = s.claims[:0], 0, 0
}

// applies reports whether apply would change the state with b: a
// Trusted binding always does (unless it is in force already); a Named
// one if the name is unbound, only claimed, or bound Direct to b's log;
// a Direct one if the name is unbound or only claimed, and there is
// room; a Claimed one if the name is unbound and b's log has no binding
// yet.
func (s *state) applies(key string, b Binding) bool {
	cur, bound := s.byKey[key]
	switch b.How {
	case Trusted:
		return !bound || cur.How != Trusted || cur.ID != b.ID
	case Named:
		return !bound || cur.How == Claimed || cur.How == Direct && cur.ID == b.ID
	case Direct:
		return (!bound || cur.How == Claimed) && s.direct < s.maxDirect
	case Claimed:
		return !bound && len(s.byID[b.ID]) == 0
	}
	return false
}

// apply makes b's binding if applies says so, evicting the oldest claim
// if the claims are at their bound, and reports whether it did.
func (s *state) apply(b Binding) bool {
	key := Skeleton(b.Name)
	if !s.applies(key, b) {
		return false
	}
	if cur, bound := s.byKey[key]; bound {
		s.remove(key, cur)
	}
	if b.How == Claimed {
		for s.nclaim >= s.maxClaimed {
			s.evictClaim()
		}
		s.claims = append(s.claims, key)
		s.nclaim++
		if len(s.claims) > 2*s.maxClaimed+16 {
			s.compactClaims()
		}
	}
	if b.How == Direct {
		s.direct++
	}
	s.byKey[key] = b
	s.byID[b.ID] = append(s.byID[b.ID], key)
	return true
}

// remove unbinds key, bound as cur.
func (s *state) remove(key string, cur Binding) {
	delete(s.byKey, key)
	keys := s.byID[cur.ID]
	for i, k := range keys {
		if k == key {
			keys = append(keys[:i], keys[i+1:]...)
			break
		}
	}
	if len(keys) == 0 {
		delete(s.byID, cur.ID)
	} else {
		s.byID[cur.ID] = keys
	}
	switch cur.How {
	case Direct:
		s.direct--
	case Claimed:
		s.nclaim--
	}
}

// evictClaim unbinds the oldest claim. Keys of the queue that are no
// longer claims (a stronger binding replaced them) are dropped on the
// way.
func (s *state) evictClaim() {
	for len(s.claims) > 0 {
		key := s.claims[0]
		s.claims = s.claims[1:]
		if cur, ok := s.byKey[key]; ok && cur.How == Claimed {
			s.remove(key, cur)
			return
		}
	}
}

// compactClaims drops from the queue the keys that are no longer claims,
// into a new array, so the queue stays within twice the claims held.
func (s *state) compactClaims() {
	live := make([]string, 0, s.nclaim+s.nclaim/2)
	for _, k := range s.claims {
		if b, ok := s.byKey[k]; ok && b.How == Claimed {
			live = append(live, k)
		}
	}
	s.claims = live
}

// nameOf returns the strongest binding of a name to id, the first by
// name among equals.
func (s *state) nameOf(id applog.ID) (Binding, bool) {
	var best Binding
	found := false
	for _, k := range s.byID[id] {
		b := s.byKey[k]
		if !found || rank(b.How) > rank(best.How) || rank(b.How) == rank(best.How) && Skeleton(b.Name) < Skeleton(best.Name) {
			best, found = b, true
		}
	}
	return best, found
}

// rank orders the ways of learning a binding by the weight of their
// evidence: the user's word, then the user's dial of a name asked for,
// then a connection, then a claim.
func rank(h How) int {
	switch h {
	case Trusted:
		return 4
	case Named:
		return 3
	case Direct:
		return 2
	}
	return 1
}
