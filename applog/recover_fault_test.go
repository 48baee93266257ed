package applog

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestRecoveryFaults: a writer's Open repairs what a crash or damage
// left (a torn tail, a damaged index, table, feed or forks file, files
// past a clean state, a blocked log's files) with writes of its own. EIO
// on each of them fails the Open (the store fails closed), loses no
// acknowledged entry, and the next Open without the fault recovers.
func TestRecoveryFaults(t *testing.T) {
	const segSize = 1024
	ownDir := func(f recoveryDB) string { return filepath.Join(f.dir, string(f.own)) }
	tailSeg := func(f recoveryDB) string { s, _ := tailFiles(t, f.dir, f.own); return s }
	tailIdx := func(f recoveryDB) string { _, i := tailFiles(t, f.dir, f.own); return i }
	in := func(name string) func(recoveryDB) string {
		return func(f recoveryDB) string { return filepath.Join(f.dir, name) }
	}
	dbDir := func(f recoveryDB) string { return f.dir }
	garbage := []byte("garbage that is not a frame")
	pastClean := func(t *testing.T, f recoveryDB) {
		// the files of a segment a session that crashed before its first
		// acknowledgement made past the clean state
		for _, c := range []struct {
			name  string
			magic [8]byte
		}{{segName(41), magicSegment}, {idxName(41), magicIndex}} {
			h := fileHeader(c.magic, 41)
			if err := os.WriteFile(filepath.Join(ownDir(f), c.name), h[:], 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tornFeed := func(t *testing.T, f recoveryDB) {
		p := filepath.Join(f.dir, fileFeed)
		if err := os.Truncate(p, fileSize(t, p)-feedRecordSize-3); err != nil {
			t.Fatal(err)
		}
	}
	noFeed := func(t *testing.T, f recoveryDB) {
		if err := os.Remove(filepath.Join(f.dir, fileFeed)); err != nil {
			t.Fatal(err)
		}
	}
	zeroIndex := func(t *testing.T, f recoveryDB) {
		p := tailIdx(f)
		if err := os.WriteFile(p, make([]byte, fileSize(t, p)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tableHole := func(t *testing.T, f recoveryDB) {
		flipByte(t, filepath.Join(f.dir, fileLogs), fileHeaderSize+logsRecordSize+3) // the peer's record
		markStateDirty(t, f.dir)
	}
	block := func(t *testing.T, f recoveryDB) {
		if err := Block(f.dir, f.peer); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string // the operation and the file it fails on
		clean   bool   // the session before closed cleanly
		damage  func(t *testing.T, f recoveryDB)
		op      string
		path    func(recoveryDB) string
		blocked bool // the peer's log is deleted
	}{
		{"truncate own tail segment: cut a torn tail", false, func(t *testing.T, f recoveryDB) { appendBytes(t, tailSeg(f), garbage) }, "truncate", tailSeg, false},
		{"sync own tail segment: after cutting a torn tail", false, func(t *testing.T, f recoveryDB) { appendBytes(t, tailSeg(f), garbage) }, "sync", tailSeg, false},
		{"write own tail index: rewrite a zeroed index", false, zeroIndex, "write", tailIdx, false},
		{"sync own tail index: after rewriting it", false, zeroIndex, "sync", tailIdx, false},
		{"truncate own tail index: cut its garbage tail", false, func(t *testing.T, f recoveryDB) { appendBytes(t, tailIdx(f), garbage[:13]) }, "truncate", tailIdx, false},
		{"write new own segment: rewrite its torn header", false, func(t *testing.T, f recoveryDB) {
			if err := os.WriteFile(filepath.Join(ownDir(f), segName(41)), []byte("SCT"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "write", func(f recoveryDB) string { return filepath.Join(ownDir(f), segName(41)) }, false},
		{"truncate own tail segment: cut bytes past the clean state", true, func(t *testing.T, f recoveryDB) { appendBytes(t, tailSeg(f), garbage) }, "truncate", tailSeg, false},
		{"remove own segment past the clean state", true, pastClean, "remove", func(f recoveryDB) string { return filepath.Join(ownDir(f), segName(41)) }, false},
		{"syncdir own log: after removing a segment past the clean state", true, pastClean, "syncdir", ownDir, false},
		{"truncate feed: cut its torn tail", false, tornFeed, "truncate", in(fileFeed), false},
		{"write feed: repair it from the logs' heads", false, tornFeed, "write", in(fileFeed), false},
		{"rename feed: move a damaged feed aside", false, func(t *testing.T, f recoveryDB) { flipByte(t, filepath.Join(f.dir, fileFeed), 0) }, "rename", in(fileFeed), false},
		{"write feed: make a missing feed anew", false, noFeed, "write", in(fileFeed), false},
		{"syncdir DIR: after making a missing feed anew", false, noFeed, "syncdir", dbDir, false},
		{"write logs: mend the table's damaged header", false, func(t *testing.T, f recoveryDB) { flipByte(t, filepath.Join(f.dir, fileLogs), 0) }, "write", in(fileLogs), false},
		{"sync logs: after mending the table's header", false, func(t *testing.T, f recoveryDB) { flipByte(t, filepath.Join(f.dir, fileLogs), 0) }, "sync", in(fileLogs), false},
		{"truncate logs: cut a torn table record", false, func(t *testing.T, f recoveryDB) { appendBytes(t, filepath.Join(f.dir, fileLogs), garbage[:10]) }, "truncate", in(fileLogs), false},
		{"write logs: re-add the logs of a table cut short", false, func(t *testing.T, f recoveryDB) {
			if err := os.Truncate(filepath.Join(f.dir, fileLogs), fileHeaderSize); err != nil {
				t.Fatal(err)
			}
		}, "write", in(fileLogs), false},
		{"write state: forget the entry of a table hole it fills", true, tableHole, "write", in(fileState), false},
		{"sync state: after forgetting the entry of a table hole", true, tableHole, "sync", in(fileState), false},
		{"write logs: fill a table hole", true, tableHole, "write", in(fileLogs), false},
		{"write forks: rewrite a damaged forks file's header", false, func(t *testing.T, f recoveryDB) {
			if err := os.WriteFile(filepath.Join(f.dir, fileForks), garbage, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "write", in(fileForks), false},
		{"truncate forks: cut a damaged forks tail", false, func(t *testing.T, f recoveryDB) {
			h := fileHeader(magicForks, 0)
			if err := os.WriteFile(filepath.Join(f.dir, fileForks), append(h[:], garbage...), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "truncate", in(fileForks), false},
		{"remove peer log: delete a blocked log", false, block, "remove", func(f recoveryDB) string { return filepath.Join(f.dir, string(f.peer)) }, true},
		{"remove state: after deleting a blocked log", false, block, "remove", in(fileState), true},
		{"syncdir DIR: after deleting a blocked log", false, block, "syncdir", dbDir, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, want := recoveryFaultDB(t, segSize, tt.clean)
			tt.damage(t, f)
			target := tt.path(f)
			if tt.blocked {
				delete(want, f.peer)
			}
			fs := new(faultFS)
			var fired atomic.Bool // syncs run in parallel
			fs.set(func(op, path string) error {
				if op == tt.op && path == target {
					fired.Store(true)
					return syscall.EIO
				}
				return nil
			})
			if db, err := Open(f.dir, &Options{SegmentSize: segSize, fs: fs}); err == nil {
				db.Close()
				t.Fatalf("Open succeeded (fault met: %v); want it to fail with EIO", fired.Load())
			} else if !fired.Load() || !errors.Is(err, syscall.EIO) {
				t.Fatalf("Open: %v (fault met: %v); want EIO from %s %s", err, fired.Load(), tt.op, target)
			}
			db := openT(t, f.dir, &Options{SegmentSize: segSize})
			for id, w := range want {
				got := readAll(t, db, id)
				if len(got) < len(w) {
					t.Fatalf("log %s holds %d entries after recovery, %d acknowledged", id.Short(), len(got), len(w))
				}
				for i := range w {
					if got[i] != w[i] {
						t.Fatalf("log %s entry %d: got %q, acknowledged %q", id.Short(), i+1, got[i], w[i])
					}
				}
			}
			verifyNoProblems(t, db)
			if _, err := db.Append([]byte("after")); err != nil {
				t.Fatalf("Append after recovery: %v", err)
			}
		})
	}
}

// recoveryDB names a database recoveryFaultDB made: its directory, its
// own log and the peer's log it holds.
type recoveryDB struct {
	dir       string
	own, peer ID
}

// recoveryFaultDB makes a database with 40 own entries in signed batches
// of 4 and a peer's log of 4, closed cleanly or as by a crash, and
// returns it with every acknowledged entry by log.
func recoveryFaultDB(t *testing.T, segSize int64, clean bool) (recoveryDB, map[ID][]string) {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(dir, &Options{SegmentSize: segSize})
	if err != nil {
		t.Fatal(err)
	}
	appendBatchesOf4(t, db)
	peer := makeBenchLogs(t, 1, 4, 2)[0]
	if _, err := db.Insert(peer.id, peer.runs[0]); err != nil {
		t.Fatal(err)
	}
	want := entriesByLog(t, db)
	r := recoveryDB{dir: dir, own: db.ID(), peer: peer.id}
	if clean {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		db.abandon()
	}
	return r, want
}
