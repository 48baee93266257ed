package replicate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/topology/testkit"
)

// copyDBDir copies a closed database directory (a backup, or the
// database copied to a second laptop).
func copyDBDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// forkedAlice returns two databases of one key: alice, with entries
// "a 4" after 3 common ones, and alice2 (her copy, restored on another
// machine) with "b 4", "b 5". Every entry is its own signed batch.
func forkedAlice(t *testing.T) (alice, alice2 *applog.DB) {
	t.Helper()
	dir := t.TempDir()
	db, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"one", "two", "three"} {
		if _, err := db.Append([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	copied := copyDBDir(t, dir)
	alice, alice2 = openDB(t, dir), openDB(t, copied)
	for db, entries := range map[*applog.DB][]string{alice: {"a 4"}, alice2: {"b 4", "b 5"}} {
		for _, e := range entries {
			if _, err := db.Append([]byte(e)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return alice, alice2
}

// noResult fails if either end of l has returned: the connection must
// have stayed up.
func (l *link) noResult(t *testing.T) {
	t.Helper()
	for i, ch := range l.errs {
		select {
		case err := <-ch:
			t.Fatalf("end %d of the connection returned: %v", i, err)
		default:
		}
	}
}

// TestForkContained connects bob, who holds alice's branch a, to alice2,
// who holds branch b. Bob must find the fork, mark it, send the proof
// to alice2, and both must keep the one connection, with every other
// log flowing both ways, before and after, and nothing more of alice's
// log stored on either side.
func TestForkContained(t *testing.T) {
	testkit.CheckLeaks(t)
	alice, alice2 := forkedAlice(t)
	id := alice.ID()
	bob, carol, dave := openDB(t, t.TempDir()), openDB(t, t.TempDir()), openDB(t, t.TempDir())
	appendEntries(t, bob, 30, 10)
	appendEntries(t, carol, 50, 5)
	appendEntries(t, dave, 40, 4)
	copyLog(t, bob, alice, id, 4)
	copyLog(t, bob, dave, dave.ID(), 40)
	copyLog(t, alice2, carol, carol.ID(), 50)

	l := connect(t, FromDB(bob), FromDB(alice2), true)
	waitUntil(t, FromDB(alice2), "alice2 to learn of the fork", func() bool { return alice2.Forked(id) == 4 })
	if got := bob.Forked(id); got != 4 {
		t.Fatalf("bob: Forked = %d, want 4", got)
	}
	// Every entry is its own signed batch, and bob met alice2's branch
	// through its record 5, which chains to its 4: the proof is the two
	// signed heads (bob's 4, alice2's 5) and that record as the bridge
	// (a figure of issue 12).
	p, err := bob.ForkProof(id)
	if err != nil {
		t.Fatal(err)
	}
	r5, _ := dbRecords(t, alice2, id, 5, 5)
	if want := 264 + len(r5[0]); len(p) != want {
		t.Errorf("fork proof of %d bytes, want %d", len(p), want)
	}
	t.Logf("figure: fork proof %d bytes, %d on the wire (a record of %d bytes in it)", len(p), len(appendFrameHeader(nil, frameFork, len(p)))+len(p), len(r5[0]))
	want := map[applog.ID]uint64{bob.ID(): 30, carol.ID(): 50, dave.ID(): 40}
	waitHeads(t, bob, want, "bob to get carol's log")
	waitHeads(t, alice2, want, "alice2 to get bob's and dave's logs")

	// live, both ways, after the fork
	if _, err := bob.Append([]byte("bob after the fork")); err != nil {
		t.Fatal(err)
	}
	if _, err := alice2.Append([]byte("b 6")); err != nil {
		t.Fatal(err)
	}
	copyLog(t, alice2, carol, carol.ID(), 50) // nothing new: a no-op
	appendEntries(t, carol, 5, 5)
	copyLog(t, alice2, carol, carol.ID(), 55)
	waitHeads(t, alice2, map[applog.ID]uint64{bob.ID(): 31}, "bob's live entry at alice2")
	waitHeads(t, bob, map[applog.ID]uint64{carol.ID(): 55}, "carol's new entries at bob")
	l.noResult(t)
	if got := bob.Head(id); got != 4 {
		t.Errorf("bob holds alice's log to %d, want 4 (frozen)", got)
	}
	if e, err := bob.Get(id, 4); err != nil || string(e.Data) != "a 4" {
		t.Errorf("bob's alice 4: %q, %v; want branch a", e.Data, err)
	}
	errs := l.stop(t)
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("end %d: %v, want context.Canceled", i, err)
		}
	}
}

// TestForkLine: alice2 – bob – carol in a line, carol holding alice's
// branch a from bob before. Bob finds the fork with alice2, and the
// proof must reach carol.
func TestForkLine(t *testing.T) {
	testkit.CheckLeaks(t)
	alice, alice2 := forkedAlice(t)
	id := alice.ID()
	bob, carol := openDB(t, t.TempDir()), openDB(t, t.TempDir())
	copyLog(t, bob, alice, id, 4)
	copyLog(t, carol, alice, id, 4)
	appendEntries(t, carol, 10, 5)
	connect(t, FromDB(bob), FromDB(carol), true)
	waitHeads(t, bob, map[applog.ID]uint64{carol.ID(): 10}, "bob to get carol's log")
	l := connect(t, FromDB(alice2), FromDB(bob), true)
	waitUntil(t, FromDB(carol), "the proof to reach carol", func() bool { return carol.Forked(id) == 4 })
	waitUntil(t, FromDB(alice2), "the proof to reach alice2", func() bool { return alice2.Forked(id) == 4 })
	waitHeads(t, alice2, map[applog.ID]uint64{carol.ID(): 10}, "carol's log at alice2, through bob")
	for name, db := range map[string]*applog.DB{"alice2": alice2, "bob": bob, "carol": carol} {
		if got := db.Forked(id); got != 4 {
			t.Errorf("%s: Forked = %d, want 4", name, got)
		}
		p, err := db.ForkProof(id)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fk, err := applog.CheckForkProof(p); err != nil || fk != (applog.Fork{Log: id, Seq: 4}) {
			t.Errorf("%s: proof: %v, %v", name, fk, err)
		}
	}
	l.noResult(t)
}

// FuzzForkFrame runs a session of arbitrary bytes against a database
// holding branch a of a forked log, seeded with a valid fork frame and
// broken ones: the session never panics, a fork frame that does not
// check fails it with ErrMalformed, and if the log ends up forked, its
// proof checks and is one the peer sent.
func FuzzForkFrame(f *testing.F) {
	dir := f.TempDir()
	db, err := applog.Open(dir, nil)
	if err != nil {
		f.Fatal(err)
	}
	appendEntries(f, db, 3, 1)
	x := db.ID()
	if err := db.Close(); err != nil {
		f.Fatal(err)
	}
	copied := f.TempDir()
	if err := os.CopyFS(copied, os.DirFS(dir)); err != nil {
		f.Fatal(err)
	}
	a, b := openDB(f, dir), openDB(f, copied)
	a.Append([]byte("a 4"))
	b.Append([]byte("b 4"))
	la, _ := dbRecords(f, a, x, 1, 4)
	lb, _ := dbRecords(f, b, x, 1, 4)
	judge := openDB(f, f.TempDir())
	judge.Insert(x, la)
	if _, err := judge.Insert(x, lb); !errors.Is(err, applog.ErrFork) {
		f.Fatalf("judge: %v", err)
	}
	proof, err := judge.ForkProof(x)
	if err != nil {
		f.Fatal(err)
	}
	start := cat(wireHello(Version), wireHeadsEnd())
	f.Add(cat(start, wireFrame(frameFork, proof)))
	f.Add(cat(start, wireFrame(frameFork, proof[:len(proof)-1])))
	f.Add(cat(start, wireFrame(frameFork, proof), wireFrame(frameFork, proof)))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := applog.Open(t.TempDir(), &applog.Options{LockWait: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Insert(x, la); err != nil {
			t.Fatal(err)
		}
		err = Serve(context.Background(), byteConn{bytes.NewReader(data)}, FromDB(db), nil)
		if err == nil {
			t.Fatal("Serve returned nil")
		}
		if seq := db.Forked(x); seq != 0 {
			p, err := db.ForkProof(x)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := applog.CheckForkProof(p); err != nil || !bytes.Contains(data, p) {
				t.Fatalf("forked at %d by a proof that does not check (%v) or was not sent", seq, err)
			}
		}
		if db.Head(x) != 4 {
			t.Fatalf("head of the forked log %d, want 4", db.Head(x))
		}
	})
}

// TestForkFrameVersion: a peer that speaks Version 2 is sent the fork
// proof before any record; one that speaks 1 never is (it would take the
// frame as malformed and drop the connection).
func TestForkFrameVersion(t *testing.T) {
	alice, alice2 := forkedAlice(t)
	id := alice.ID()
	judge := openDB(t, t.TempDir())
	copyLog(t, judge, alice, id, 4)
	rec5, _ := dbRecords(t, alice2, id, 1, 5)
	if _, err := judge.Insert(id, rec5); !errors.Is(err, applog.ErrFork) {
		t.Fatalf("judge: %v", err)
	}
	appendEntries(t, judge, 3, 3)
	for _, v := range []uint64{1, 2} {
		t.Run(fmt.Sprint("version ", v), func(t *testing.T) {
			testkit.CheckLeaks(t)
			vc, pc := net.Pipe()
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() { errc <- Serve(ctx, vc, FromDB(judge), nil) }()
			defer func() { cancel(); pc.Close(); <-errc }()
			go pc.Write(cat(wireHello(v), wireHeadsEnd()))
			r := bufio.NewReader(pc)
			var buf []byte
			forks := 0
			for {
				pc.SetReadDeadline(time.Now().Add(waitTimeout))
				typ, p, nbuf, err := readFrame(r, buf)
				buf = nbuf
				if err != nil {
					t.Fatalf("reading the judge's frames: %v", err)
				}
				if typ == frameFork {
					if fk, err := applog.CheckForkProof(p); err != nil || fk.Log != id {
						t.Fatalf("fork frame: %v, %v", fk, err)
					}
					forks++
				}
				if typ == frameRecords {
					var rs records
					if err := decodeRecords(p, &rs); err != nil {
						t.Fatal(err)
					}
					if rs.ID == id {
						t.Fatalf("the judge sent records of the forked log")
					}
					break // forks go before records in a pass
				}
			}
			if want := int(v - 1); forks != want {
				t.Errorf("%d fork frames to a version %d peer, want %d", forks, v, want)
			}
		})
	}
}
