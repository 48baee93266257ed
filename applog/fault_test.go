package applog

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestWriteFaults: EIO or ENOSPC on a write or an fdatasync of the
// segment, the index or the feed fails the append that met it and every
// later one (the writer fails closed), loses nothing acknowledged, and a
// reopen recovers and appends again.
func TestWriteFaults(t *testing.T) {
	for _, op := range []string{"write", "sync"} {
		for _, file := range []string{".seg", ".idx", fileFeed, fileState} {
			for _, errno := range []syscall.Errno{syscall.EIO, syscall.ENOSPC} {
				t.Run(fmt.Sprintf("%s/%s/%v", op, file, errno), func(t *testing.T) {
					dir := t.TempDir()
					db, fs := openFaulty(t, dir, &Options{SegmentSize: 4096})
					var want []string
					for i := range 40 {
						s := fmt.Sprintf("acked %d", i)
						if _, err := db.Append([]byte(s)); err != nil {
							t.Fatal(err)
						}
						want = append(want, s)
					}
					fired := injectOnce(fs, op, file, errno)
					var failed error
					for i := 0; i < 200 && failed == nil; i++ {
						s := fmt.Sprintf("more %d", i)
						if _, err := db.Append([]byte(s)); err != nil {
							failed = err
						} else {
							want = append(want, s)
						}
					}
					if !fired.Load() {
						// not written or synced by appends (the feed is
						// synced and the state written at Close): Close
						// meets the fault and says so
						if err := db.Close(); !fired.Load() || !errors.Is(err, errno) {
							t.Fatalf("Close: %v (fault met %v), want %v", err, fired.Load(), errno)
						}
					} else {
						if failed == nil {
							// a feed write failure is logged, not fatal: the
							// logs are the truth and the next open repairs it
							if file != fileFeed || op != "write" {
								t.Fatalf("%s fault on %s fired, no append failed", op, file)
							}
						} else {
							if !errors.Is(failed, errno) {
								t.Fatalf("append after the fault: %v, want %v", failed, errno)
							}
							if _, err := db.Append([]byte("after")); err == nil {
								t.Fatal("append after a failed one succeeded: the writer did not fail closed")
							}
						}
						db.abandon()
					}
					db2 := openT(t, dir, &Options{SegmentSize: 4096})
					got := readAll(t, db2, db2.ID())
					if len(got) < len(want) {
						t.Fatalf("after reopen %d entries, %d acknowledged", len(got), len(want))
					}
					for i, w := range want {
						if got[i] != w {
							t.Fatalf("entry %d is %q, acknowledged %q", i+1, got[i], w)
						}
					}
					if _, err := db2.Append([]byte("reopened")); err != nil {
						t.Fatalf("append after reopen: %v", err)
					}
					verifyClean(t, db2)
				})
			}
		}
	}
}

// TestReadFaults: EIO on a read surfaces from Get, Iter and the feed,
// and the next read works. Get, whose read of a frame fails, looks for
// it in the segment (the index may have led it astray), so its reads
// fail until the fault is lifted.
func TestReadFaults(t *testing.T) {
	db, fs := openFaulty(t, t.TempDir(), nil)
	for i := range 5 {
		if _, err := db.Append(fmt.Appendf(nil, "e%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	fs.set(func(op, path string) error {
		if op == "read" && strings.HasSuffix(path, ".seg") {
			return syscall.EIO
		}
		return nil
	})
	if _, err := db.Get(db.ID(), 3); !errors.Is(err, syscall.EIO) {
		t.Errorf("Get: %v, want EIO", err)
	}
	fs.set(nil)
	injectOnce(fs, "read", ".seg", syscall.EIO)
	it := db.Iter(db.ID(), 1)
	if it.Next() || !errors.Is(it.Err(), syscall.EIO) {
		t.Errorf("Iter: %v, want EIO", it.Err())
	}
	it.Close()
	injectOnce(fs, "read", fileFeed, syscall.EIO)
	f := db.Feed()
	if f.Next() || !errors.Is(f.Err(), syscall.EIO) {
		t.Errorf("Feed: %v, want EIO", f.Err())
	}
	f.Close()
	if got := readAll(t, db, db.ID()); len(got) != 5 {
		t.Errorf("after the faults: %d entries, want 5", len(got))
	}
}

// TestCreateFaults: ENOSPC on the creation of a new log's segment or
// index. Once, it costs nothing: Insert makes the files again in its
// round. Every time, the Insert fails with ENOSPC and the writer fails
// closed; the acknowledged entries survive, and after a reopen the same
// Insert stores the log.
func TestCreateFaults(t *testing.T) {
	for _, file := range []string{".seg", ".idx"} {
		for _, always := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/always=%v", file, always), func(t *testing.T) {
				dir := t.TempDir()
				db, fs := openFaulty(t, dir, nil)
				for i := range 3 {
					if _, err := db.Append(fmt.Appendf(nil, "acked %d", i)); err != nil {
						t.Fatal(err)
					}
				}
				peer := makeBenchLogs(t, 1, 4, 2)[0]
				var fired atomic.Int32
				fs.set(func(op, path string) error {
					if op == "create" && strings.HasSuffix(path, file) && strings.Contains(path, string(peer.id)) &&
						(always || fired.Load() == 0) {
						fired.Add(1)
						return syscall.ENOSPC
					}
					return nil
				})
				_, err := db.Insert(peer.id, peer.runs[0])
				if fired.Load() == 0 {
					t.Fatal("no create met the fault")
				}
				if !always {
					if err != nil {
						t.Fatalf("Insert after one failed create: %v", err)
					}
					if got := readAll(t, db, peer.id); len(got) != 4 {
						t.Fatalf("inserted log holds %d entries, want 4", len(got))
					}
					verifyClean(t, db)
					return
				}
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Insert: %v, want ENOSPC", err)
				}
				if _, err := db.Append([]byte("after")); err == nil {
					t.Fatal("append after a failed create succeeded: the writer did not fail closed")
				}
				db.abandon()
				db2 := openT(t, dir, nil)
				if got := readAll(t, db2, db2.ID()); len(got) != 3 {
					t.Fatalf("after reopen the own log holds %d entries, want the 3 acknowledged", len(got))
				}
				if n, err := db2.Insert(peer.id, peer.runs[0]); err != nil || n != 4 {
					t.Fatalf("Insert after reopen: %d, %v; want 4", n, err)
				}
				verifyClean(t, db2)
			})
		}
	}
}
