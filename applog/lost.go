package applog

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
)

// This file finds the logs the log table does not list, from their
// directories: after a table record failed its CRC, or when the table
// is shorter than the state says (see findLost).

// mayMissLogs reports whether the table may not list every log: a
// record failed its CRC, or the file holds fewer records than the state
// file has entries (the table only grows). It costs nothing per log, so
// an undamaged table is never checked against the directory.
func (db *DB) mayMissLogs() bool {
	t := db.tab
	if t.checked == t.fileLen {
		return false // looked since the last read found something
	}
	if t.holes > 0 || t.checked < 0 {
		return true
	}
	return db.st.hdr != nil && t.fileCount() < int(db.st.hdr.n)
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
// Caller holds db.tab.fileMu.
func (db *DB) findLost(always bool) ([]lostLog, error) {
	t := db.tab
	if !always && !db.mayMissLogs() {
		return nil, nil
	}
	t.checked = t.fileLen
	lost, err := db.unlistedLogs()
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
			db.noteRepair("log table record %d: no unlisted log directory holds records, so it named none that holds any", h)
		}
		return nil, nil
	}
	fill := matchHoles(holes, lost, db.st.readAll())
	if len(fill) > 0 && !db.readOnly {
		if err := db.mendHoles(fill); err != nil {
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
		db.noteRepair("log table record %d was damaged: log %s found from its directory", ord, idOf(pub))
	}
	var left []lostLog
	for _, l := range lost {
		if !placed[[32]byte(l.pub)] {
			left = append(left, l)
		}
	}
	if !db.readOnly || len(left) == 0 {
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
		db.noteRepair("log %s is not in the log table: found from its directory", idOf(l.pub))
	}
	return nil, nil
}

// unlistedLogs lists DIR for log directories whose ID the table does not
// list and whose segments hold a record.
func (db *DB) unlistedLogs() ([]lostLog, error) {
	ents, err := os.ReadDir(db.dir)
	if err != nil {
		return nil, fmt.Errorf("applog: %w", err)
	}
	t := db.tab
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
		segs, err := listSegments(filepath.Join(db.dir, e.Name()))
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
func (db *DB) mendHoles(fill map[uint32]ed25519.PublicKey) error {
	if db.st.f != nil && db.st.hdr != nil {
		zero := make([]byte, stateEntrySize)
		n := 0
		for ord := range fill {
			if ord < db.st.hdr.n {
				if _, err := db.fs.writeAt(db.st.f, zero, stateEntryOffset(ord)); err != nil {
					return fmt.Errorf("applog: write state: %w", err)
				}
				n++
			}
		}
		if n > 0 {
			if err := db.fs.sync(db.st.f); err != nil {
				return err
			}
		}
		db.st.setAll(nil) // read again without the entries made unknown
	}
	for ord, pub := range fill {
		rec := appendLogsRecord(nil, pub)
		if _, err := db.fs.writeAt(db.tab.f, rec, fileHeaderSize+int64(ord)*logsRecordSize); err != nil {
			return fmt.Errorf("applog: mend log table: %w", err)
		}
	}
	return db.fs.sync(db.tab.f)
}
