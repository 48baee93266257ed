package applog

// This file reads the logs file into the log table (see "Log ordinal
// table" in doc.go): all of it at Open, or on first need after a clean
// writer Open, and what another process appended for a reader; a writer
// mends a damaged header and cuts a torn tail.

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
)

// read reads the logs file from where it was last read into the
// table. A record that fails its CRC becomes a hole: it costs that log
// its ordinal, not the logs after it (the writer finds the log again
// from its directory, see findLost). A torn last record is cut by a
// writer and left for later by a reader. Caller holds t.fileMu.
func (t *logTable) read() error {
	f := t.f
	path := filepath.Join(t.dir, fileLogs)
	if f == nil {
		var err error
		if f, err = t.fs.openFile(path, os.O_RDONLY, 0); err != nil {
			if isNotExist(err) {
				return nil
			}
			return fmt.Errorf("applog: %w", err)
		}
		defer f.Close()
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	size := fi.Size()
	if t.fileLen == 0 {
		var ok bool
		if size, ok, err = t.checkHeader(f, size); !ok || err != nil {
			return err
		}
		t.fileLen = fileHeaderSize
	}
	if size-t.fileLen < logsRecordSize {
		return nil
	}
	t.dropVirtual()
	b := make([]byte, size-t.fileLen)
	if _, err := readFull(t.fs, f, b, t.fileLen); err != nil {
		return fmt.Errorf("applog: read %s: %w", path, err)
	}
	whole := len(b) - len(b)%logsRecordSize
	keys := make([]byte, 0, whole/logsRecordSize*32)
	holes := 0
	for i := 0; i < whole; i += logsRecordSize {
		pub, ok := decodeLogsRecord(b[i:])
		if !ok {
			t.repairs.note("log table record %d is damaged (%s offset %d)", (t.fileLen-fileHeaderSize+int64(i))/logsRecordSize, path, t.fileLen+int64(i))
			pub = make([]byte, 32)
			holes++
		}
		keys = append(keys, pub...)
	}
	t.appendKeys(keys, holes)
	if whole < len(b) && !t.readOnly {
		// a torn append of a new log: never acknowledged, cut it
		t.log.Warn("applog: cutting torn log table tail", "offset", t.fileLen)
		if err := t.fs.truncate(f, t.fileLen); err != nil {
			return fmt.Errorf("applog: cut %s: %w", path, err)
		}
	}
	return nil
}

// checkHeader checks the header of the logs file f, of size bytes,
// on its first read. A writer makes a missing header and mends a damaged
// one (the records after it are still good); a reader reads the records
// after a damaged one, and none of a file shorter than a header. It
// returns the size to read up to, and ok false if there is nothing to
// read yet.
func (t *logTable) checkHeader(f *os.File, size int64) (int64, bool, error) {
	var h [fileHeaderSize]byte
	n, _ := readFull(t.fs, f, h[:], 0)
	err := checkFileHeader(h[:n], magicLogs, 0)
	if err == nil {
		return size, true, nil
	}
	if t.readOnly {
		if size < fileHeaderSize {
			// being created, or cut short: findLost looks at
			// the directories once (cheap if it is new)
			t.checked = -1
			if n := t.st.count(); n > 0 {
				t.repairs.note("log table is cut short (%d bytes) while the state names %d logs", size, n)
			}
			return size, false, nil
		}
		t.repairs.note("log table header is damaged (%v): its records are read", err)
	} else if size <= fileHeaderSize {
		if err := resetFile(t.fs, f, magicLogs, 0); err != nil {
			return size, false, err
		}
		size = fileHeaderSize
	} else {
		// the records are still good: mend the header only
		t.repairs.note("log table header was damaged (%v): rewritten", err)
		hb := fileHeader(magicLogs, 0)
		if _, err := t.fs.writeAt(f, hb[:], 0); err != nil {
			return size, false, fmt.Errorf("applog: %w", err)
		}
		if err := t.fs.sync(f); err != nil {
			return size, false, err
		}
	}
	return size, true, nil
}

// appendKeys adds the keys read from the logs file, 32 bytes per
// ordinal, holes zero, and counts the bytes read.
func (t *logTable) appendKeys(keys []byte, holes int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	first := len(t.keys) / 32
	t.keys = append(t.keys, keys...)
	t.holes += holes
	if holes > 0 {
		t.damaged.Store(true)
	}
	if t.byKey != nil {
		for i := 0; i+32 <= len(keys); i += 32 {
			if k := [32]byte(keys[i:]); k != ([32]byte{}) {
				t.byKey[k] = uint32(first + i/32)
			}
		}
	}
	t.fileLen += int64(len(keys) / 32 * logsRecordSize)
}

// dropVirtual forgets the ordinals a reader gave lost logs in memory
// (see findLost) before it reads records a writer appended at those
// ordinals: a writer adds lost logs itself, and findLost looks again
// after the read. Caller holds t.fileMu.
func (t *logTable) dropVirtual() {
	if t.virtual == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.keys)/32 - t.virtual
	for ord := uint32(n); ord < uint32(n+t.virtual); ord++ {
		k := [32]byte(t.keys[ord*32:])
		if t.byKey != nil && t.byKey[k] == ord {
			delete(t.byKey, k)
		}
		if l, ok := t.loaded.LoadAndDelete(ord); ok {
			t.byID.CompareAndDelete(l.(*logState).id, l)
		}
		delete(t.recovered, ord)
	}
	t.keys = t.keys[:n*32]
	t.virtual = 0
	t.checked = -1 // the lost logs may not be listed yet: look again
}

// reread reads what another process appended to the logs file, and
// looks for lost logs if it may miss some (a reader's refresh).
func (t *logTable) reread() {
	t.fileMu.Lock()
	defer t.fileMu.Unlock()
	if err := t.read(); err != nil {
		t.log.Debug("applog: reload log table", "err", err)
	}
	if _, err := t.findLost(false); err != nil {
		t.log.Debug("applog: find lost logs", "err", err)
	}
}

// readLater leaves the keys of the n ordinals of the logs file unread
// until they are needed (a clean writer Open: see openClean).
func (t *logTable) readLater(n int) {
	t.n = n
	t.pending.Store(true)
}

// readPending reads the keys readLater left unread, and places the logs
// the table does not list in its holes. With a clean state the table
// has a record for every log of an acknowledged entry, so every such log
// that findLost finds has a hole; those it cannot place are orphans of
// an insert never acknowledged, adopted when inserted again.
func (t *logTable) readPending() error {
	t.fileMu.Lock()
	defer t.fileMu.Unlock()
	if err := t.read(); err != nil {
		return err
	}
	lost, err := t.findLost(false)
	for _, l := range lost {
		t.repairs.note("log %s is not in the log table and has no hole to fill: left to be adopted by its next insert", idOf(l.pub))
	}
	return err
}

// lists reports whether the logs file has the n records of a clean state
// and the log of key own at ordinal ownOrd, without reading the rest.
func (t *logTable) lists(n, ownOrd uint32, own ed25519.PublicKey) bool {
	fi, err := t.f.Stat()
	if err != nil || fi.Size() != fileHeaderSize+int64(n)*logsRecordSize {
		return false
	}
	var b [fileHeaderSize]byte
	if _, err := readFull(t.fs, t.f, b[:], 0); err != nil || checkFileHeader(b[:], magicLogs, 0) != nil {
		return false
	}
	var rec [logsRecordSize]byte
	if _, err := readFull(t.fs, t.f, rec[:], fileHeaderSize+int64(ownOrd)*logsRecordSize); err != nil {
		return false
	}
	pub, ok := decodeLogsRecord(rec[:])
	return ok && pub.Equal(own)
}
