package topology

// Connection slots: Swarm.MaxConns bounds the peers connected at once,
// and the peers of Swarm.Peers are admitted past it.

// takeSlot counts a connection to the peer of key, past its proofs, as
// holding that peer's slot until releaseSlot. Connections to a peer that
// holds a slot already (a replacement, a simultaneous dial) share it. A
// peer without one gets one while fewer than MaxConns peers hold one,
// and always if it is named: dialled for t, an entry of Peers, or
// holding the key found at such an entry last. Otherwise takeSlot
// returns errFull.
func (s *Swarm) takeSlot(key string, t *target) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slots[key] == 0 && len(s.slots) >= s.maxConns() && !s.isNamed(key, t) {
		return errFull
	}
	if s.slots == nil {
		s.slots = make(map[string]int)
	}
	s.slots[key]++
	return nil
}

// releaseSlot undoes one takeSlot of key.
func (s *Swarm) releaseSlot(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slots[key]--; s.slots[key] <= 0 {
		delete(s.slots, key)
	}
}

// isNamed reports whether a connection dialled for t (nil if accepted)
// to the peer of key is one to a peer the user named. The caller holds
// s.mu.
func (s *Swarm) isNamed(key string, t *target) bool {
	if t != nil && t.named {
		return true
	}
	for _, k := range s.named {
		if k == key {
			return true
		}
	}
	return false
}

// foundAt records the key a dial of t found, if t is a named entry, so
// that the peer's own connections to this side count as named too. One
// key per entry: a stranger answering for a name in its place displaces
// the last one, never adds to them.
func (s *Swarm) foundAt(t *target) {
	if !t.named {
		return
	}
	s.mu.Lock()
	s.named[t] = t.lastKey
	s.mu.Unlock()
}

// maxConns is MaxConns or its default.
func (s *Swarm) maxConns() int {
	if s.MaxConns > 0 {
		return s.MaxConns
	}
	return defaultMaxConns
}
