package replicate

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"sync"

	"scuttle/applog"
)

// fakeStore is an in-memory Store with a toy record format that still has
// what replication must respect: seqs, a chain to the previous record, and
// a "signature" on some records that Insert checks.
//
// record = seq (8, big endian) | signed (1) | crc32 of previous record (4) |
// data | if signed: 4-byte crc32 of the bytes before it, xor 0x5c5c5c5c
type fakeStore struct {
	mu      sync.Mutex
	logs    map[applog.ID][][]byte
	changed chan struct{}
	inserts int
	// deleteAt makes log id vanish as a block does while it is read: an
	// iterator that reaches seq deleteAt[id] fails with applog.ErrBlocked,
	// and from then on Heads leaves the log out.
	deleteAt map[applog.ID]uint64
	deleted  map[applog.ID]bool
}

func newFake() *fakeStore {
	return &fakeStore{logs: make(map[applog.ID][][]byte), changed: make(chan struct{})}
}

// testID returns a valid log id derived from name.
func testID(name string) applog.ID {
	h := sha256.Sum256([]byte(name))
	return applog.ID(base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding).EncodeToString(h[:]))
}

func fakeRecord(seq uint64, prev []byte, data []byte, signed bool) []byte {
	r := binary.BigEndian.AppendUint64(nil, seq)
	s := byte(0)
	if signed {
		s = 1
	}
	r = append(r, s)
	r = binary.BigEndian.AppendUint32(r, crc32.ChecksumIEEE(prev))
	r = append(r, data...)
	if signed {
		r = binary.BigEndian.AppendUint32(r, crc32.ChecksumIEEE(r)^0x5c5c5c5c)
	}
	return r
}

func fakeSigned(rec []byte) bool { return len(rec) > 8 && rec[8] == 1 }

// appendN appends n entries to log id, signing every signEvery-th and the
// last, and returns the new head.
func (s *fakeStore) appendN(id applog.ID, n, signEvery int) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.logs[id]
	for i := range n {
		var prev []byte
		if len(l) > 0 {
			prev = l[len(l)-1]
		}
		seq := uint64(len(l) + 1)
		signed := i == n-1 || (signEvery > 0 && (i+1)%signEvery == 0)
		l = append(l, fakeRecord(seq, prev, fmt.Appendf(nil, "%s entry %d", id.Short(), seq), signed))
	}
	s.logs[id] = l
	s.notify()
	return uint64(len(l))
}

func (s *fakeStore) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *fakeStore) Heads() map[applog.ID]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := make(map[applog.ID]uint64, len(s.logs))
	for id, l := range s.logs {
		if !s.deleted[id] {
			h[id] = uint64(len(l))
		}
	}
	return h
}

func (s *fakeStore) Head(id applog.ID) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(len(s.logs[id]))
}

func (s *fakeStore) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// snapshot returns a deep copy of the logs.
func (s *fakeStore) snapshot() map[applog.ID][][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[applog.ID][][]byte, len(s.logs))
	for id, l := range s.logs {
		m[id] = append([][]byte(nil), l...)
	}
	return m
}

// restore replaces the content of log id by its first n records.
func (s *fakeStore) truncate(id applog.ID, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logs[id] = s.logs[id][:n]
}

func (s *fakeStore) Iter(id applog.ID, from uint64) Iterator {
	return &fakeIter{s: s, id: id, next: max(from, 1)}
}

type fakeIter struct {
	s    *fakeStore
	id   applog.ID
	next uint64
	rec  []byte
	err  error
}

func (it *fakeIter) Next() bool {
	it.s.mu.Lock()
	defer it.s.mu.Unlock()
	if it.err != nil {
		return false
	}
	if at, ok := it.s.deleteAt[it.id]; ok && it.next >= at {
		if it.s.deleted == nil {
			it.s.deleted = make(map[applog.ID]bool)
		}
		it.s.deleted[it.id] = true
		it.err = fmt.Errorf("fake: %w: log %s deleted while read", applog.ErrBlocked, it.id.Short())
		return false
	}
	l := it.s.logs[it.id]
	if it.next > uint64(len(l)) {
		return false
	}
	it.rec = l[it.next-1]
	it.next++
	return true
}

func (it *fakeIter) Record() []byte { return it.rec }
func (it *fakeIter) Signed() bool   { return fakeSigned(it.rec) }
func (it *fakeIter) Err() error     { return it.err }
func (it *fakeIter) Close() error   { return nil }

func (s *fakeStore) Insert(id applog.ID, recs [][]byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inserts++
	l := s.logs[id]
	stored := 0
	var run [][]byte
	defer func() {
		if stored > 0 {
			s.notify()
		}
	}()
	for _, rec := range recs {
		if len(rec) < 13 {
			return stored, fmt.Errorf("fake: short record: %w", applog.ErrChain)
		}
		seq := binary.BigEndian.Uint64(rec)
		head := uint64(len(l) + len(run))
		if seq <= head {
			var old []byte
			if seq <= uint64(len(l)) {
				old = l[seq-1]
			} else {
				old = run[seq-1-uint64(len(l))]
			}
			if !bytes.Equal(old, rec) {
				return stored, fmt.Errorf("fake: seq %d: %w", seq, applog.ErrFork)
			}
			continue
		}
		if seq != head+1 {
			return stored, fmt.Errorf("fake: seq %d after %d: %w", seq, head, applog.ErrGap)
		}
		var prev []byte
		if len(run) > 0 {
			prev = run[len(run)-1]
		} else if len(l) > 0 {
			prev = l[len(l)-1]
		}
		if binary.BigEndian.Uint32(rec[9:]) != crc32.ChecksumIEEE(prev) {
			return stored, fmt.Errorf("fake: seq %d: %w", seq, applog.ErrChain)
		}
		run = append(run, bytes.Clone(rec))
		if rec[8] == 1 {
			n := len(rec) - 4
			if n < 13 || binary.BigEndian.Uint32(rec[n:]) != crc32.ChecksumIEEE(rec[:n])^0x5c5c5c5c {
				return stored, fmt.Errorf("fake: seq %d: %w", seq, applog.ErrSignature)
			}
			l = append(l, run...)
			s.logs[id] = l
			stored += len(run)
			run = run[:0]
		}
	}
	if len(run) > 0 {
		return stored, fmt.Errorf("fake: run ends unsigned: %w", applog.ErrUnsigned)
	}
	return stored, nil
}

// equalLogs reports the first difference between two snapshots, "" if none.
func equalLogs(a, b map[applog.ID][][]byte) string {
	for _, id := range sortedKeys(a, b) {
		la, lb := a[id], b[id]
		if len(la) != len(lb) {
			return fmt.Sprintf("log %s: %d records vs %d", id.Short(), len(la), len(lb))
		}
		for i := range la {
			if !bytes.Equal(la[i], lb[i]) {
				return fmt.Sprintf("log %s seq %d differs", id.Short(), i+1)
			}
		}
	}
	return ""
}

func sortedKeys(ms ...map[applog.ID][][]byte) []applog.ID {
	set := map[applog.ID]bool{}
	for _, m := range ms {
		for id := range m {
			set[id] = true
		}
	}
	var ids []applog.ID
	for id := range maps.Keys(set) {
		ids = append(ids, id)
	}
	return ids
}
