package applog

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type feedItem struct {
	log ID
	seq uint64
	txt string
}

func drainFeed(t testing.TB, f *Feed) []feedItem {
	t.Helper()
	var out []feedItem
	for f.Next() {
		e := f.Entry()
		out = append(out, feedItem{e.Log, e.Seq, string(e.Data)})
	}
	if err := f.Err(); err != nil {
		t.Fatalf("feed: %v", err)
	}
	return out
}

func TestFeedOrderAndLive(t *testing.T) {
	src, recs := authorLog(t)
	dir := t.TempDir()
	db := openT(t, dir, &Options{SegmentSize: 300})
	own := db.ID()
	if _, err := db.Append([]byte("mine 1")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Insert(src.ID(), recs[:6]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append([]byte("mine 2")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Insert(src.ID(), recs[6:]); err != nil {
		t.Fatal(err)
	}
	want := []feedItem{{own, 1, "mine 1"}}
	for i := 1; i <= 6; i++ {
		want = append(want, feedItem{src.ID(), uint64(i), fmt.Sprintf("entry %d", i)})
	}
	want = append(want, feedItem{own, 2, "mine 2"})
	for i := 7; i <= 10; i++ {
		want = append(want, feedItem{src.ID(), uint64(i), fmt.Sprintf("entry %d", i)})
	}
	check := func(name string, got []feedItem) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: got %d entries %v, want %d", name, len(got), got, len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: entry %d: got %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}
	f := db.Feed()
	defer f.Close()
	check("writer feed", drainFeed(t, f))

	// live: Wait wakes on an append, then Next returns it
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := db.Append([]byte("mine 3")); err != nil {
			t.Error(err)
		}
	}()
	if err := f.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	got := drainFeed(t, f)
	if len(got) != 1 || got[0] != (feedItem{own, 3, "mine 3"}) {
		t.Fatalf("live: got %+v", got)
	}
	want = append(want, feedItem{own, 3, "mine 3"})

	// a read-only database in parallel sees the same feed, and later appends
	ro := openT(t, dir, &Options{ReadOnly: true})
	rf := ro.Feed()
	defer rf.Close()
	check("read-only feed", drainFeed(t, rf))
	if _, err := db.Append([]byte("mine 4")); err != nil {
		t.Fatal(err)
	}
	if err := rf.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := drainFeed(t, rf); len(got) != 1 || got[0] != (feedItem{own, 4, "mine 4"}) {
		t.Fatalf("read-only live: got %+v", got)
	}
	want = append(want, feedItem{own, 4, "mine 4"})

	// Wait honours its context
	short, cancel2 := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel2()
	if err := rf.Wait(short); err != context.DeadlineExceeded {
		t.Fatalf("Wait with nothing new: got %v, want DeadlineExceeded", err)
	}

	// after reopen the feed is the same
	db.Close()
	db2 := openT(t, dir, nil)
	f2 := db2.Feed()
	defer f2.Close()
	check("feed after reopen", drainFeed(t, f2))
}

func TestConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, dir, &Options{SegmentSize: 4096})
	const G, N = 32, 100
	var wg sync.WaitGroup
	seqs := make([][]uint64, G)
	for g := range G {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range N {
				s, err := db.Append(fmt.Appendf(nil, "g%d-%d", g, i))
				if err != nil {
					t.Error(err)
					return
				}
				// rounds publish in order: an acknowledged entry is
				// visible, and so is every one before it
				if h := db.Head(db.ID()); h < s {
					t.Errorf("append returned seq %d, head is %d", s, h)
				}
				seqs[g] = append(seqs[g], s)
			}
		}()
	}
	// a concurrent reader never sees a gap or a torn entry
	done := make(chan struct{})
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		it := db.Iter(db.ID(), 1)
		defer it.Close()
		var n uint64
		for {
			for it.Next() {
				n++
				if it.Entry().Seq != n {
					t.Errorf("reader: seq %d, want %d", it.Entry().Seq, n)
					return
				}
			}
			if it.Err() != nil {
				t.Error(it.Err())
				return
			}
			select {
			case <-done:
				return
			case <-db.Changed():
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	wg.Wait()
	close(done)
	rwg.Wait()
	seen := map[uint64]bool{}
	for g := range G {
		for i := 1; i < len(seqs[g]); i++ {
			if seqs[g][i] <= seqs[g][i-1] {
				t.Fatalf("goroutine %d: seqs not increasing: %v", g, seqs[g])
			}
		}
		for _, s := range seqs[g] {
			if seen[s] {
				t.Fatalf("seq %d given twice", s)
			}
			seen[s] = true
		}
	}
	if h := db.Head(db.ID()); h != G*N || len(seen) != G*N {
		t.Fatalf("head %d, %d distinct seqs, want %d", h, len(seen), G*N)
	}
	verifyClean(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openT(t, dir, &Options{SegmentSize: 4096})
	if h := db.Head(db.ID()); h != G*N {
		t.Fatalf("head %d after reopen, want %d", h, G*N)
	}
	verifyClean(t, db)
}

// TestFeedWaitWakes: an idle feed in the writer's process waits for the
// commit notification alone; a read-only one backs off to 100 ms.
func TestFeedWaitWakes(t *testing.T) {
	for _, ro := range []bool{false, true} {
		t.Run(fmt.Sprintf("readonly=%v", ro), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				w := openT(t, dir, nil)
				if _, err := w.Append([]byte("a")); err != nil {
					t.Fatal(err)
				}
				db := w
				if ro {
					db = openT(t, dir, &Options{ReadOnly: true})
				}
				f := db.Feed()
				defer f.Close()
				if got := drainFeed(t, f); len(got) != 1 {
					t.Fatalf("feed: %d entries, want 1", len(got))
				}
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				if err := f.Wait(ctx); err != context.DeadlineExceeded {
					t.Fatalf("Wait on an idle feed: %v, want DeadlineExceeded", err)
				}
				// the writer: the first look only; the reader: 2 ms, 4 ms …
				// 64 ms, then every 100 ms
				want := 1
				if ro {
					want = 1 + 6 + (10000-126)/100
				}
				if f.wakes > want {
					t.Errorf("%d wake-ups in 10 s idle, want at most %d", f.wakes, want)
				}
				go func() { w.Append([]byte("b")) }()
				if err := f.Wait(t.Context()); err != nil {
					t.Fatal(err)
				}
				if got := drainFeed(t, f); len(got) != 1 || got[0].txt != "b" {
					t.Fatalf("after Wait: %v, want entry b", got)
				}
			})
		})
	}
}

// TestFeedReadError: an I/O error reading the feed stops the feed with
// that error instead of looking like "nothing new".
func TestFeedReadError(t *testing.T) {
	db := openT(t, t.TempDir(), nil)
	for _, s := range []string{"a", "b"} {
		if _, err := db.Append([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	f := db.Feed()
	defer f.Close()
	if !f.Next() {
		t.Fatal(f.Err())
	}
	for f.Next() {
	}
	f.f.Close() // every later read of it fails
	f.bpos, f.bend = 0, 0
	if _, err := db.Append([]byte("c")); err != nil {
		t.Fatal(err)
	}
	if f.Next() {
		t.Fatal("Next after a failed read: true")
	}
	if err := f.Err(); err == nil || !strings.Contains(err.Error(), "read feed") {
		t.Fatalf("Err after a failed read: %v, want the read error", err)
	}
}
