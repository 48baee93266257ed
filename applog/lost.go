package applog

import (
	"crypto/ed25519"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// This file finds the logs the log table does not list, from their
// directories: after a table record failed its CRC, or when the table
// is shorter than the state says (see findLost).

// mayMissLogs reports whether the table may not list every log: a
// record failed its CRC, or the file holds fewer records than the state
// file has entries (the table only grows). It costs nothing per log, so
// an undamaged table is never checked against the directory.
func (t *logTable) mayMissLogs() bool {
	if t.checked == t.fileLen {
		return false // looked since the last read found something
	}
	if t.holes > 0 || t.checked < 0 {
		return true
	}
	return t.st.hdr != nil && t.fileCount() < int(t.st.hdr.n)
}

// lostLog is a log directory the table does not list that holds at
// least one record.
type lostLog struct {
	pub      ed25519.PublicKey
	tailBase uint64 // base of its last segment
	tailSize int64  // size of that segment
}

// findLost finds, from the log directories, the logs the table does not
// list (the segments are the truth), if mayMissLogs or always, and puts
// them in the holes:
//
//  1. List DIR; every directory named by an ID that the table does not
//     list and whose segments hold more than a header is a lost log.
//  2. Match holes to lost logs by their state entries: a hole whose
//     entry's tail segment exists in exactly one lost log with exactly
//     the recorded size (then at least that size) gets that log.
//  3. Give the holes left the lost logs left, in name order.
//  4. A writer first invalidates the state entries of the filled holes
//     (the match may be wrong; an entry must never be applied to
//     another log), then writes their table records. A reader keeps
//     them in memory and gives the lost logs still left ordinals of its
//     own past the end of the file (virtual: dropped when a writer
//     appends there, then found again).
//
// It returns the lost logs it did not place (a writer adds them at new
// ordinals, see recover). A hole left with no directory held nothing.
// Caller holds t.fileMu.
func (t *logTable) findLost(always bool) ([]lostLog, error) {
	if !always && !t.mayMissLogs() {
		return nil, nil
	}
	t.checked = t.fileLen
	lost, err := t.unlistedLogs()
	if err != nil {
		return nil, err
	}
	var holes []uint32
	t.mu.RLock()
	for i := 0; i+32 <= len(t.keys); i += 32 {
		if isZero(t.keys[i : i+32]) {
			holes = append(holes, uint32(i/32))
		}
	}
	t.mu.RUnlock()
	if len(lost) == 0 {
		for _, h := range holes {
			t.repairs.note("log table record %d: no unlisted log directory holds records, so it named none that holds any", h)
		}
		return nil, nil
	}
	fill := matchHoles(holes, lost, t.st.readAll())
	if len(fill) > 0 && !t.readOnly {
		if err := t.mendHoles(fill); err != nil {
			return nil, err
		}
	}
	placed := make(map[[32]byte]bool, len(fill))
	t.mu.Lock()
	if t.recovered == nil {
		t.recovered = make(map[uint32]bool)
	}
	for ord, pub := range fill {
		copy(t.keys[ord*32:], pub)
		t.recovered[ord] = true
		if t.byKey != nil {
			t.byKey[[32]byte(pub)] = ord
		}
		placed[[32]byte(pub)] = true
		t.holes--
	}
	t.mu.Unlock()
	for ord, pub := range fill {
		t.repairs.note("log table record %d was damaged: log %s found from its directory", ord, idOf(pub))
	}
	var left []lostLog
	for _, l := range lost {
		if !placed[[32]byte(l.pub)] {
			left = append(left, l)
		}
	}
	if !t.readOnly || len(left) == 0 {
		return left, nil
	}
	t.mu.Lock()
	for _, l := range left {
		ord := uint32(len(t.keys) / 32)
		t.keys = append(t.keys, l.pub...)
		t.recovered[ord] = true
		t.virtual++
		if t.byKey != nil {
			t.byKey[[32]byte(l.pub)] = ord
		}
	}
	t.mu.Unlock()
	// the feed names them by ordinals this reader does not know: its
	// feeds look at every head (Feed.repairTail)
	t.damaged.Store(true)
	for _, l := range left {
		t.repairs.note("log %s is not in the log table: found from its directory", idOf(l.pub))
	}
	return nil, nil
}

// unlistedLogs lists DIR for log directories whose ID the table does not
// list and whose segments hold a record.
func (t *logTable) unlistedLogs() ([]lostLog, error) {
	ents, err := os.ReadDir(t.dir)
	if err != nil {
		return nil, fmt.Errorf("applog: find lost logs: %w", err)
	}
	t.mu.RLock()
	listed := make(map[[32]byte]bool, len(t.keys)/32)
	for i := 0; i+32 <= len(t.keys); i += 32 {
		listed[[32]byte(t.keys[i:])] = true
	}
	t.mu.RUnlock()
	var lost []lostLog
	for _, e := range ents {
		id, err := ParseID(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		pub, _ := id.publicKey()
		if listed[[32]byte(pub)] {
			continue
		}
		segs, err := listSegments(filepath.Join(t.dir, e.Name()))
		if err != nil || len(segs) == 0 {
			continue
		}
		tail := segs[len(segs)-1]
		fi, err := os.Stat(tail.seg)
		if err != nil || (len(segs) == 1 && fi.Size() <= fileHeaderSize) {
			continue // no record: an orphan of an insert never acknowledged
		}
		lost = append(lost, lostLog{pub: pub, tailBase: tail.base, tailSize: fi.Size()})
	}
	return lost, nil
}

// matchHoles assigns lost logs to holes (steps 2 and 3 of findLost).
func matchHoles(holes []uint32, lost []lostLog, entries []logCheckpoint) map[uint32]ed25519.PublicKey {
	fill := make(map[uint32]ed25519.PublicKey)
	used := make([]bool, len(lost))
	for _, exact := range []bool{true, false} {
		for _, h := range holes {
			if fill[h] != nil || int(h) >= len(entries) || entries[h].tailBase == 0 {
				continue
			}
			e, pick := entries[h], -1
			for i, l := range lost {
				if used[i] || l.tailBase != e.tailBase || l.tailSize < e.segSize || (exact && l.tailSize != e.segSize) {
					continue
				}
				if pick >= 0 {
					pick = -2 // ambiguous
					break
				}
				pick = i
			}
			if pick >= 0 {
				fill[h], used[pick] = lost[pick].pub, true
			}
		}
	}
	i := 0
	for _, h := range holes {
		if fill[h] != nil {
			continue
		}
		for i < len(lost) && used[i] {
			i++
		}
		if i == len(lost) {
			break
		}
		fill[h], used[i] = lost[i].pub, true
	}
	return fill
}

// mendHoles writes the table records of filled holes, after making
// their state entries unknown, each step durable before the next.
func (t *logTable) mendHoles(fill map[uint32]ed25519.PublicKey) error {
	if err := t.st.clearEntries(slices.Collect(maps.Keys(fill))); err != nil {
		return err
	}
	for ord, pub := range fill {
		rec := appendLogsRecord(nil, pub)
		if _, err := t.fs.writeAt(t.f, rec, fileHeaderSize+int64(ord)*logsRecordSize); err != nil {
			return fmt.Errorf("applog: mend log table: %w", err)
		}
	}
	return t.fs.sync(t.f)
}
