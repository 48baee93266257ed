package replicate

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/topology/testkit"
)

// heapInUse returns the bytes of live heap objects after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestMadeUpHeadsMemory: a made-up peer that advertises MaxLogs-1 heads
// of logs nobody holds, in frames of the usual size, costs a session no
// more than maxSessionHeap of memory while it stays, however many logs it
// names (item 7 of issue 19: 12.8 MB each before), and nothing once it
// has left.
func TestMadeUpHeadsMemory(t *testing.T) {
	testkit.CheckLeaks(t)
	const maxSessionHeap = 1 << 20 // buffers, a frame, a bounded window of heads
	st := newFake()
	st.appendN(testID("own"), 3, 1)
	before := heapInUse()

	vc, pc := net.Pipe()
	defer pc.Close()
	advertised := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- Serve(context.Background(), vc, st, &Options{WatchHead: func(uint64) { close(advertised) }})
	}()
	go io.Copy(io.Discard, pc)
	pc.Write(wireHello(Version))
	var hs []head
	for i := range MaxLogs - 1 {
		hs = append(hs, head{testID(fmt.Sprint("made up ", i)), uint64(i + 1)})
		if len(hs) == 1000 {
			pc.Write(wireHeads(hs...))
			hs = hs[:0]
		}
	}
	pc.Write(cat(wireHeads(hs...), wireHeadsEnd()))
	select {
	case <-advertised:
	case <-time.After(waitTimeout):
		t.Fatal("the session did not take the peer's heads")
	}
	hs = nil
	grown := heapInUse() - before
	t.Logf("a session with a peer advertising %d made-up heads holds %d bytes", MaxLogs-1, grown)
	if grown > maxSessionHeap {
		t.Errorf("a session with a peer advertising %d made-up heads holds %d bytes, want at most %d", MaxLogs-1, grown, maxSessionHeap)
	}
	pc.Close()
	if err := <-errc; err == nil {
		t.Fatal("Serve: got nil, want the peer's close")
	}
	if grown := heapInUse() - before; grown > 64<<10 {
		t.Errorf("after the peer left, %d bytes are still held", grown)
	}
}

// madeUpForkProof returns a fork proof of a log with a fresh key, as
// applog documents it: two chain heads at seq 1, signed by the key, of
// two different hashes, with no bridge records. A stranger makes them
// by the thousand, each one valid.
func madeUpForkProof(t testing.TB) []byte {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := append([]byte("SCTLFRK\x01"), pub...)
	p = binary.LittleEndian.AppendUint64(p, 1) // the fork seq
	for b := range 2 {
		h := sha256.Sum256([]byte{byte(b)})
		msg := append([]byte("scuttle/applog/v1 chain head\x00"), pub...)
		msg = binary.LittleEndian.AppendUint64(msg, 1)
		p = binary.LittleEndian.AppendUint64(p, 1) // the branch's head
		p = append(p, h[:]...)
		p = append(p, ed25519.Sign(priv, append(msg, h[:]...))...)
		p = binary.LittleEndian.AppendUint32(p, 0) // bridge records
	}
	return p
}

// TestMadeUpForksMemory: a made-up peer that sends valid fork proofs of
// logs nobody holds, one after the other, costs a session nothing per
// proof: the store keeps none of them, and the session remembers none
// (before, each cost an entry of the session's forkSeen, about 100
// bytes, for as long as the peer stayed).
func TestMadeUpForksMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: making and checking 8000 fork proofs takes a minute under qemu; the full run checks them")
	}
	testkit.CheckLeaks(t)
	const proofs = 8000
	const maxGrowth = 256 << 10 // proofs × 100 bytes before
	bob := openDB(t, t.TempDir())
	ps := make([][]byte, proofs)
	for i := range ps {
		ps[i] = madeUpForkProof(t)
	}
	last, lastRec := madeUpLog(t, "after the proofs")
	before := heapInUse()

	vc, pc := net.Pipe()
	defer pc.Close()
	errc := make(chan error, 1)
	go func() { errc <- Serve(context.Background(), vc, FromDB(bob), nil) }()
	go io.Copy(io.Discard, pc)
	pc.Write(cat(wireHello(Version), wireHeadsEnd()))
	for _, p := range ps {
		if _, err := pc.Write(wireFrame(frameFork, p)); err != nil {
			t.Fatalf("fork frame: %v", err)
		}
	}
	pc.Write(wireFrame(frameRecords, appendRecord(binary.AppendUvarint(appendID(nil, last), 1), lastRec, true)))
	waitUntil(t, FromDB(bob), "the record sent after the proofs", func() bool { return bob.Head(last) == 1 })
	grown := heapInUse() - before
	t.Logf("a session sent %d fork proofs of made-up logs holds %d bytes more", proofs, grown)
	if grown > maxGrowth {
		t.Errorf("a session sent %d fork proofs of made-up logs holds %d bytes more, want at most %d", proofs, grown, maxGrowth)
	}
	if fs := bob.Forks(); len(fs) != 0 {
		t.Errorf("bob keeps %d forks of logs he does not hold, want none", len(fs))
	}
	runtime.KeepAlive(ps)
	pc.Close()
	if err := <-errc; err == nil {
		t.Fatal("Serve: got nil, want the peer's close")
	}
}

// TestInserterForgetsStored: the inserter's record of what it was handed
// (inserter.held) keeps no entry of a log once its runs are stored, so a
// peer that sends many one-entry logs, each stored, does not grow it
// (before, it kept one entry per log the peer ever sent, until the
// connection ended).
func TestInserterForgetsStored(t *testing.T) {
	const logs = 5000
	st := newFake()
	c := &session{st: st, has: map[applog.ID]uint64{}, forkSeen: map[applog.ID]bool{}}
	c.insert.cond.L = &c.insert.mu
	c.insert.ready = &batch{}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	c.cancel = cancel
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.insertLoop()
	}()
	for i := range logs {
		rec := fakeRecord(1, nil, []byte("one entry"), true)
		if err := c.insert.add(testID(fmt.Sprint("log ", i)), 1, rec, []int{len(rec)}); err != nil {
			t.Fatalf("add log %d: %v", i, err)
		}
	}
	c.closeInsert()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("the inserter did not finish")
	}
	if err := context.Cause(ctx); err != nil {
		t.Fatalf("the inserter failed: %v", err)
	}
	if n := len(st.Heads()); n != logs {
		t.Fatalf("the store holds %d logs, want %d", n, logs)
	}
	if n := len(c.insert.held); n != 0 {
		t.Errorf("after storing %d one-entry logs the inserter remembers %d of them, want 0", logs, n)
	}
}

// sinkStore takes any run that continues a log and keeps only the
// heads, so that what a session holds can be told from what the store
// does.
type sinkStore struct {
	mu      sync.Mutex
	heads   map[applog.ID]uint64
	changed chan struct{}
}

func newSink() *sinkStore {
	return &sinkStore{heads: map[applog.ID]uint64{}, changed: make(chan struct{})}
}

func (s *sinkStore) Heads() map[applog.ID]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.heads)
}

func (s *sinkStore) Head(id applog.ID) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heads[id]
}

func (s *sinkStore) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *sinkStore) Iter(applog.ID, uint64) Iterator { return &sliceIter{} }

func (s *sinkStore) Insert(id applog.ID, recs [][]byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := binary.BigEndian.Uint64(recs[0])
	if first != s.heads[id]+1 {
		return 0, fmt.Errorf("sink: log %s: seq %d after %d: %w", id, first, s.heads[id], applog.ErrGap)
	}
	s.heads[id] += uint64(len(recs))
	close(s.changed)
	s.changed = make(chan struct{})
	return len(recs), nil
}

// TestLargeRunReleased: a peer that sends one run of about 4 MB (1000
// records of 4000 bytes, only the last signed: what applog's
// MaxRunBytes allows), then stays, leaves its session holding no more
// than its usual buffers: the run's buffer, the batches that carried it
// and the frame buffer are dropped once used (before, the session kept
// the run's 4 MB twice, in its unsigned-run buffer and in a batch, for
// as long as the peer stayed).
func TestLargeRunReleased(t *testing.T) {
	testkit.CheckLeaks(t)
	const records, size = 1000, 4000
	const maxKept = 1 << 20
	id := testID("large")
	var recs [][]byte
	var prev []byte
	for i := range records {
		prev = fakeRecord(uint64(i+1), prev, bytes.Repeat([]byte{'x'}, size-17), i == records-1)
		recs = append(recs, prev)
	}
	var frames [][]byte
	for i := 0; i < records; i += 10 {
		frames = append(frames, wireRecords(id, uint64(i+1), recs[i:i+10]...))
	}
	st := newSink()
	before := heapInUse()

	vc, pc := net.Pipe()
	defer pc.Close()
	errc := make(chan error, 1)
	go func() { errc <- Serve(context.Background(), vc, st, nil) }()
	go io.Copy(io.Discard, pc)
	pc.Write(cat(wireHello(Version), wireHeadsEnd()))
	for _, f := range frames {
		pc.Write(f)
	}
	waitUntil(t, st, "the run stored", func() bool { return st.Head(id) == records })
	// Then, in a batch of its own, one small record of another log: the
	// inserter stores batches in order and lets each go before it takes
	// the next, so once this one is stored, the run's batch is let go
	// (measured as soon as the run was stored, it could still be held:
	// so it failed on a slow linux/arm under qemu).
	after := testID("after")
	pc.Write(wireRecords(after, 1, fakeRecord(1, nil, []byte("after"), true)))
	waitUntil(t, st, "the record after the run stored", func() bool { return st.Head(after) == 1 })
	grown := heapInUse() - before
	t.Logf("a session that took a run of %d bytes holds %d bytes more", records*size, grown)
	if grown > maxKept {
		t.Errorf("a session that took a run of %d bytes holds %d bytes more, want at most %d", records*size, grown, maxKept)
	}
	runtime.KeepAlive(recs)
	runtime.KeepAlive(frames)
	pc.Close()
	if err := <-errc; err == nil {
		t.Fatal("Serve: got nil, want the peer's close")
	}
}
