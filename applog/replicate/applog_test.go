package replicate

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"

	"scuttle/applog"
	"scuttle/topology/testkit"
)

// Tests against real applog databases.

func openDB(t testing.TB, dir string) *applog.DB {
	t.Helper()
	db, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// appendEntries appends n entries to db's own log in batches of batch (each
// batch ends with a signed record).
func appendEntries(t testing.TB, db *applog.DB, n, batch int) {
	t.Helper()
	data := make([][]byte, 0, batch)
	for i := 0; i < n; i += batch {
		data = data[:0]
		for j := i; j < min(i+batch, n); j++ {
			data = append(data, fmt.Appendf(nil, "%s entry %07d %s", db.ID().Short(), j, bytes.Repeat([]byte{'.'}, 70)))
		}
		if _, err := db.AppendBatch(data); err != nil {
			t.Fatal(err)
		}
	}
}

// records returns records from..to of log id in db, and their signed flags.
func dbRecords(t testing.TB, db *applog.DB, id applog.ID, from, to uint64) ([][]byte, []bool) {
	t.Helper()
	it := db.Iter(id, from)
	defer it.Close()
	var recs [][]byte
	var signed []bool
	for seq := from; seq <= to && it.Next(); seq++ {
		recs = append(recs, bytes.Clone(it.Record()))
		signed = append(signed, it.Signed())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if uint64(len(recs)) != to-from+1 {
		t.Fatalf("log %s: got %d records from %d, want up to %d", id.Short(), len(recs), from, to)
	}
	return recs, signed
}

// copyLog inserts records 1..n of log id from src into dst.
func copyLog(t testing.TB, dst, src *applog.DB, id applog.ID, n uint64) {
	t.Helper()
	recs, _ := dbRecords(t, src, id, 1, n)
	if _, err := dst.Insert(id, recs); err != nil {
		t.Fatalf("copy %d records of %s: %v", n, id.Short(), err)
	}
}

// dbState returns every record of every log of db.
func dbState(t testing.TB, db *applog.DB) map[applog.ID][][]byte {
	t.Helper()
	m := map[applog.ID][][]byte{}
	for id, h := range db.Heads() {
		m[id], _ = dbRecords(t, db, id, 1, h)
	}
	return m
}

// waitHeads waits until db holds at least the given heads.
func waitHeads(t testing.TB, db *applog.DB, want map[applog.ID]uint64, what string) {
	t.Helper()
	waitUntil(t, FromDB(db), what, func() bool {
		for id, h := range want {
			if db.Head(id) < h {
				return false
			}
		}
		return true
	})
}

func TestDBConverge(t *testing.T) {
	tests := []struct {
		name string
		// entries of each author's own log, and how many of the other's
		// log each holds at the start (multiples of the batch, 10)
		nA, nB       int
		bHasA, aHasB uint64
		third        int // entries of a third author's log that a holds
		thirdAtB     uint64
	}{
		{"empty to empty", 0, 0, 0, 0, 0, 0},
		{"one way", 500, 0, 0, 0, 0, 0},
		{"both ways", 500, 300, 0, 0, 0, 0},
		{"partial copies", 500, 300, 200, 100, 0, 0},
		{"third party", 100, 100, 0, 0, 2000, 0},
		{"third party both partial", 100, 100, 50, 30, 2000, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testkit.CheckLeaks(t)
			a, b := openDB(t, t.TempDir()), openDB(t, t.TempDir())
			appendEntries(t, a, tc.nA, 10)
			appendEntries(t, b, tc.nB, 10)
			if tc.bHasA > 0 {
				copyLog(t, b, a, a.ID(), tc.bHasA)
			}
			if tc.aHasB > 0 {
				copyLog(t, a, b, b.ID(), tc.aHasB)
			}
			want := map[applog.ID]uint64{a.ID(): uint64(tc.nA), b.ID(): uint64(tc.nB)}
			if tc.third > 0 {
				c := openDB(t, t.TempDir())
				appendEntries(t, c, tc.third, 100)
				copyLog(t, a, c, c.ID(), uint64(tc.third))
				if tc.thirdAtB > 0 {
					copyLog(t, b, c, c.ID(), tc.thirdAtB)
				}
				want[c.ID()] = uint64(tc.third)
			}
			l := connect(t, FromDB(a), FromDB(b), true)
			waitHeads(t, a, want, "a to converge")
			waitHeads(t, b, want, "b to converge")
			l.stop(t)
			sa, sb := dbState(t, a), dbState(t, b)
			if d := equalLogs(sa, sb); d != "" {
				t.Fatalf("a and b differ: %s", d)
			}
			for _, db := range []*applog.DB{a, b} {
				db.Verify(func(err error) { t.Errorf("verify: %v", err) })
			}
		})
	}
}

func TestDBLine(t *testing.T) {
	testkit.CheckLeaks(t)
	alice, bob, carol := openDB(t, t.TempDir()), openDB(t, t.TempDir()), openDB(t, t.TempDir())
	appendEntries(t, alice, 100, 7)
	appendEntries(t, bob, 50, 50)
	appendEntries(t, carol, 70, 1)
	connect(t, FromDB(alice), FromDB(bob), true)
	connect(t, FromDB(bob), FromDB(carol), true)
	want := map[applog.ID]uint64{alice.ID(): 100, bob.ID(): 50, carol.ID(): 70}
	for _, db := range []*applog.DB{alice, bob, carol} {
		waitHeads(t, db, want, "all logs everywhere")
	}
	if _, err := alice.Append([]byte("hello carol")); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Append([]byte("hello alice")); err != nil {
		t.Fatal(err)
	}
	waitHeads(t, carol, map[applog.ID]uint64{alice.ID(): 101}, "alice's live entry at carol")
	waitHeads(t, alice, map[applog.ID]uint64{carol.ID(): 71}, "carol's live entry at alice")
	e, err := carol.Get(alice.ID(), 101)
	if err != nil || string(e.Data) != "hello carol" {
		t.Fatalf("carol's copy of alice's 101: got %q, %v; want %q", e.Data, err, "hello carol")
	}
}

// TestDBReject feeds real signed records, damaged in different ways, to a
// database and checks it stores exactly the authenticated prefix.
func TestDBReject(t *testing.T) {
	src := openDB(t, t.TempDir())
	appendEntries(t, src, 30, 10)
	id := src.ID()
	recs, signed := dbRecords(t, src, id, 1, 30)
	frame := func(first uint64, rs [][]byte, flags []bool) []byte {
		p := appendID(nil, id)
		p = appendUvarintTest(p, first)
		for i, r := range rs {
			p = appendRecord(p, r, flags[i])
		}
		return wireFrame(frameRecords, p)
	}
	forged := make([][]byte, 10)
	copy(forged, recs[10:20])
	forged[9] = bytes.Clone(forged[9])
	forged[9][len(forged[9])-5] ^= 0x40 // inside the signature
	fixCRC(forged[9])
	tampered := make([][]byte, 10)
	copy(tampered, recs[10:20])
	tampered[3] = bytes.Clone(tampered[3])
	tampered[3][len(tampered[3])/2] ^= 1
	rechained := append([][]byte{}, tampered...)
	rechained[3] = bytes.Clone(tampered[3])
	fixCRC(rechained[3])
	swapped := append([][]byte{}, recs[10:20]...)
	swapped[2], swapped[3] = swapped[3], swapped[2]
	start := cat(wireHello(Version), wireHeadsEnd(), frame(1, recs[:10], signed[:10]))
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"forged signature", cat(start, frame(11, forged, signed[10:20])), applog.ErrSignature},
		{"tampered payload", cat(start, frame(11, tampered, signed[10:20])), applog.ErrCorrupt},
		{"tampered payload, CRC fixed", cat(start, frame(11, rechained, signed[10:20])), applog.ErrChain},
		{"reordered", cat(start, frame(11, swapped, signed[10:20])), applog.ErrGap},
		{"gap", cat(start, frame(13, recs[12:20], signed[12:20])), ErrProtocol},
		{"wrong log", cat(start, wireFrame(frameRecords, append(appendID(nil, testID("other")), append([]byte{11}, appendRecord(nil, recs[10], true)...)...))), ErrProtocol},
		{"oversized frame", cat(start, appendUvarintTest(nil, MaxFrameSize+1)), ErrFrameSize},
		{"garbage", cat(start, []byte("\x07\x04garbage")), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testkit.CheckLeaks(t)
			victim := openDB(t, t.TempDir())
			appendEntries(t, victim, 5, 5)
			vc, pc := net.Pipe()
			defer pc.Close()
			errc := make(chan error, 1)
			go func() { errc <- Serve(context.Background(), vc, FromDB(victim), nil) }()
			drained := make(chan struct{})
			go func() {
				defer close(drained)
				io.Copy(io.Discard, pc)
			}()
			pc.Write(tc.input)
			err := recvErr(t, errc, "Serve")
			<-drained
			if !errors.Is(err, tc.want) {
				t.Errorf("Serve: got %v, want %v", err, tc.want)
			}
			if got := victim.Head(id); got != 10 {
				t.Errorf("victim's head of the log: got %d, want 10", got)
			}
			if got := victim.Head(victim.ID()); got != 5 {
				t.Errorf("victim's own head: got %d, want 5", got)
			}
			victim.Verify(func(err error) { t.Errorf("verify: %v", err) })
		})
	}
}

// fixCRC recomputes the CRC of an applog record frame after a change:
// CRC-32C over the length field and the body (applog's format.go).
func fixCRC(rec []byte) {
	c := crc32.Update(crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), rec[:4]), crc32.MakeTable(crc32.Castagnoli), rec[8:])
	binary.LittleEndian.PutUint32(rec[4:], c)
}

func appendUvarintTest(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// TestDBRestoredPeer: b goes back to a backup that lacks part of its own
// log and of a's; a still holds them and sends them back (ssb-ebt #59).
func TestDBRestoredPeer(t *testing.T) {
	testkit.CheckLeaks(t)
	a := openDB(t, t.TempDir())
	dirB := filepath.Join(t.TempDir(), "b")
	backup := filepath.Join(t.TempDir(), "backup")
	b, err := applog.Open(dirB, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendEntries(t, a, 40, 10)
	appendEntries(t, b, 20, 10)
	idB := b.ID()
	l := connect(t, FromDB(a), FromDB(b), true)
	waitHeads(t, b, map[applog.ID]uint64{a.ID(): 40}, "first sync")
	l.stop(t)
	b.Close()
	if err := os.CopyFS(backup, os.DirFS(dirB)); err != nil {
		t.Fatal(err)
	}
	b = openDB(t, dirB)
	appendEntries(t, b, 30, 10)
	appendEntries(t, a, 40, 10)
	l = connect(t, FromDB(a), FromDB(b), true)
	waitHeads(t, a, map[applog.ID]uint64{idB: 50}, "a to get b's new entries")
	waitHeads(t, b, map[applog.ID]uint64{a.ID(): 80}, "b to get a's new entries")
	l.stop(t)
	b.Close()
	if err := os.RemoveAll(dirB); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dirB, os.DirFS(backup)); err != nil {
		t.Fatal(err)
	}
	b = openDB(t, dirB)
	if got := b.Head(idB); got != 20 {
		t.Fatalf("restored b's own head: got %d, want 20", got)
	}
	connect(t, FromDB(a), FromDB(b), true)
	waitHeads(t, b, map[applog.ID]uint64{a.ID(): 80, idB: 50}, "restored b to get back what it lost")
	if d := equalLogs(dbState(t, a), dbState(t, b)); d != "" {
		t.Fatalf("a and b differ: %s", d)
	}
}

func TestDBManyLogs(t *testing.T) {
	testkit.CheckLeaks(t)
	src, dst := openDB(t, t.TempDir()), openDB(t, t.TempDir())
	want := map[applog.ID]uint64{}
	for i := range 100 { // ~0.1 s each, mostly the store's syncs in Open
		au := openDB(t, t.TempDir())
		appendEntries(t, au, 20+i, 8)
		copyLog(t, src, au, au.ID(), uint64(20+i))
		want[au.ID()] = uint64(20 + i)
		au.Close()
	}
	connect(t, FromDB(src), FromDB(dst), true)
	waitHeads(t, dst, want, "100 logs")
	if got := len(dst.Heads()); got != 101 {
		t.Fatalf("logs at dst: got %d, want 101", got)
	}
}

func TestDBReconnectMidStream(t *testing.T) {
	testkit.CheckLeaks(t)
	a, b := openDB(t, t.TempDir()), openDB(t, t.TempDir())
	appendEntries(t, a, 20000, 100)
	ca, cb := tcpPair(t)
	l := serveBoth(t, ca, &cutConn{Conn: cb, n: 500 << 10}, FromDB(a), FromDB(b))
	if err := recvErr(t, l.errs[1], "b's Serve after the cut"); err == nil {
		t.Fatal("b's Serve: got nil error after the cut")
	}
	l.errs[1] = nil
	l.stop(t)
	got := b.Head(a.ID())
	if got == 0 || got >= 20000 || got%100 != 0 {
		t.Fatalf("b's head after the cut: got %d, want a signed prefix strictly inside 1..20000", got)
	}
	connect(t, FromDB(a), FromDB(b), true)
	waitHeads(t, b, map[applog.ID]uint64{a.ID(): 20000}, "b to complete after reconnecting")
	b.Verify(func(err error) { t.Errorf("verify: %v", err) })
}
