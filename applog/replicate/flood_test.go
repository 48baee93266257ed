package replicate

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/topology/testkit"
)

// A stranger that floods a peer with made-up one-entry logs, and what it
// costs the peer (the figures of applog's doc, Limits and blocking).

var (
	floodLogs  = flag.Int("flood", 0, "TestFloodCost: made-up logs to flood a database with (0: skip)")
	floodQuota = flag.Bool("floodquota", false, "TestFloodCost: the database's limit is the chat's default, shared out by NewQuota (without its rate bound, which only slows the flood)")
)

// chatMaxLogs is the chat's default --max-logs.
const chatMaxLogs = 100_000

// madeUpLog is testkit.MadeUpLog, with the log's ID.
func madeUpLog(t testing.TB, payload string) (applog.ID, []byte) {
	t.Helper()
	pub, rec := testkit.MadeUpLog(t, payload)
	return applog.IDOf(pub), rec
}

// floodStore is a stranger's Store: n made-up one-entry logs, made once;
// it takes nothing.
type floodStore struct {
	heads map[applog.ID]uint64
	recs  map[applog.ID][]byte
}

func newFloodStore(t testing.TB, n int) *floodStore {
	s := &floodStore{heads: make(map[applog.ID]uint64, n), recs: make(map[applog.ID][]byte, n)}
	for i := range n {
		id, rec := madeUpLog(t, fmt.Sprintf(`{"username":"u%d","message":"spam"}`, i))
		s.heads[id], s.recs[id] = 1, rec
	}
	return s
}

func (s *floodStore) Heads() map[applog.ID]uint64             { return s.heads }
func (s *floodStore) Head(id applog.ID) uint64                { return s.heads[id] }
func (s *floodStore) Changed() <-chan struct{}                { return nil }
func (s *floodStore) Insert(applog.ID, [][]byte) (int, error) { return 0, nil }
func (s *floodStore) Iter(id applog.ID, from uint64) Iterator {
	rec, ok := s.recs[id]
	if !ok || from > 1 {
		return &sliceIter{}
	}
	return &sliceIter{recs: [][]byte{rec}}
}

// sliceIter iterates signed records held in memory.
type sliceIter struct {
	recs [][]byte
	i    int
}

func (it *sliceIter) Next() bool     { it.i++; return it.i <= len(it.recs) }
func (it *sliceIter) Record() []byte { return it.recs[it.i-1] }
func (it *sliceIter) Signed() bool   { return true }
func (it *sliceIter) Err() error     { return nil }
func (it *sliceIter) Close() error   { return nil }

// TestFloodWanted: a stranger floods bob's database, which holds at most
// 8 logs, over one connection. The flood stops at the limit, the
// connection stays, and alice's log, which bob wants (a peer he named),
// is stored over another connection all the same.
func TestFloodWanted(t *testing.T) {
	testkit.CheckLeaks(t)
	const maxLogs = 8
	flood := newFloodStore(t, 50)
	bob, err := applog.Open(t.TempDir(), &applog.Options{MaxLogs: maxLogs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	alice := openDB(t, t.TempDir())
	appendEntries(t, alice, 10, 5)
	bob.SetWanted(func(id applog.ID) bool { return id == alice.ID() })

	l := connect(t, flood, FromDB(bob), true)
	waitUntil(t, FromDB(bob), "the flood at the limit", func() bool { logs, _ := bob.Limited(); return logs })
	connect(t, FromDB(alice), FromDB(bob), true)
	waitHeads(t, bob, map[applog.ID]uint64{alice.ID(): 10}, "alice's log at bob, past the limit")
	l.noResult(t)
	held := 0
	for id := range flood.heads {
		if bob.Head(id) != 0 {
			held++
		}
	}
	if held != maxLogs-1 || len(bob.Heads()) != maxLogs+1 {
		t.Errorf("bob holds %d made-up logs of %d logs; want %d (the limit, with his own) of %d (and alice's)", held, len(bob.Heads()), maxLogs-1, maxLogs+1)
	}
}

// TestFloodCost measures what a flood of -flood made-up one-entry logs
// from one stranger costs the database that takes them: disk, inodes,
// resident memory, time; and how long a wanted log then takes to be
// stored. Without -floodquota the database takes them all (its limit
// is the flood); with it, its limit is the chat's default and the
// stranger brings in its share (NewQuota). Run it with
//
//	go test ./applog/replicate -run TestFloodCost -flood 10000 -v
//	go test ./applog/replicate -run TestFloodCost -flood 10000 -floodquota -v
func TestFloodCost(t *testing.T) {
	n := *floodLogs
	if n == 0 {
		t.Skip("no -flood")
	}
	flood := newFloodStore(t, n)
	dir := t.TempDir()
	rss0 := vmRSS(t)
	maxLogs, taken := n+1, n
	var q *Quota
	if *floodQuota {
		maxLogs = chatMaxLogs
		q = NewQuota(maxLogs, nil)
		q.Every = 0
		taken = min(n, q.PerSource)
	}
	bob, err := applog.Open(dir, &applog.Options{MaxLogs: maxLogs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	start := time.Now()
	ca, cb := tcpPair(t)
	l := serveBothOpts(t, ca, cb, flood, FromDB(bob), &Options{Peer: "stranger", Quota: q})
	waitUntil(t, FromDB(bob), "the flood at the limit", func() bool { return len(bob.Heads()) > taken })
	took := time.Since(start)
	runtime.GC()
	rss := vmRSS(t)

	alice := openDB(t, t.TempDir())
	appendEntries(t, alice, 10, 5)
	bob.SetWanted(func(id applog.ID) bool { return id == alice.ID() })
	start = time.Now()
	connect(t, FromDB(alice), FromDB(bob), true)
	waitHeads(t, bob, map[applog.ID]uint64{alice.ID(): 10}, "alice's log at bob, past the limit")
	wanted := time.Since(start)
	l.stop(t)

	disk, inodes := du(t, dir)
	t.Logf("flood of %d logs, %d taken (quota %v): %v (%.0f logs/s); disk %d bytes (%d per log), %d inodes (%.1f per log); RSS %d kB before, %d kB after (+%d bytes per log); a wanted log then stored in %v",
		n, taken, q != nil, took.Round(time.Millisecond), float64(taken)/took.Seconds(), disk, disk/int64(taken), inodes, float64(inodes)/float64(taken), rss0, rss, (rss-rss0)*1024/int64(taken), wanted.Round(time.Millisecond))
}

// du returns the bytes allocated to the files under dir and how many
// files and directories there are.
func du(t testing.TB, dir string) (bytes, inodes int64) {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		inodes++
		bytes += allocated(fi)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return bytes, inodes
}

// vmRSS returns this process's resident set in kB, 0 where /proc is
// missing.
func vmRSS(t testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}
