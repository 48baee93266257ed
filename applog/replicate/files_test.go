package replicate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"scuttle/applog/blob"
	"scuttle/topology/testkit"
)

// newBlobs returns an empty blob store in a new directory, with room.
func newBlobs(t testing.TB) *blob.Store {
	t.Helper()
	return openBlobs(t, t.TempDir())
}

func openBlobs(t testing.TB, dir string) *blob.Store {
	t.Helper()
	s, err := blob.Open(dir, &blob.Options{FreeSpace: func(string) (uint64, uint64, error) { return 1 << 40, 1 << 41, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// content returns n pseudo-random bytes made from seed.
func content(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

// addFile adds data to s as a file and returns its manifest.
func addFile(t testing.TB, s *blob.Store, data []byte) *blob.Manifest {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, m, err := s.Add(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// addPartial begins data's file in s and writes the blocks keep says.
func addPartial(t testing.TB, s *blob.Store, data []byte, keep func(i int) bool) *blob.Manifest {
	t.Helper()
	m, err := blob.Hash(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Begin(m); err != nil {
		t.Fatal(err)
	}
	for i := range m.Blocks() {
		if keep(i) {
			if err := s.WriteBlock(m.ID(), i, data[i*blob.BlockSize:i*blob.BlockSize+m.BlockLen(i)]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return m
}

// countBlobs serves a store's files, counting what it serves; bad
// serves every block altered.
type countBlobs struct {
	s   *blob.Store
	bad bool
	// hold, if not nil, makes ReadBlock wait until it is closed.
	hold chan struct{}
	// asked, if not nil, gets a value at each call of Manifest.
	asked chan struct{}
	// reading, if not nil, gets a value at each call of ReadBlock, if
	// it has room.
	reading chan struct{}

	mu        sync.Mutex
	blocks    map[int]int // block → times served
	manifests int
}

func (c *countBlobs) Manifest(id blob.ID) (*blob.Manifest, error) {
	c.mu.Lock()
	c.manifests++
	c.mu.Unlock()
	if c.asked != nil {
		c.asked <- struct{}{}
	}
	return c.s.Manifest(id)
}

func (c *countBlobs) ReadBlock(m *blob.Manifest, i int, buf []byte) ([]byte, error) {
	if c.reading != nil {
		select {
		case c.reading <- struct{}{}:
		default:
		}
	}
	if c.hold != nil {
		<-c.hold
	}
	b, err := c.s.ReadBlock(m, i, buf)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.blocks == nil {
		c.blocks = make(map[int]int)
	}
	c.blocks[i]++
	c.mu.Unlock()
	if c.bad {
		b[0] ^= 1
	}
	return b, nil
}

// served returns the blocks served, and how many times in all.
func (c *countBlobs) served() (distinct, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.blocks {
		distinct++
		total += n
	}
	return distinct, total
}

// fetchRig is a fetching side: a Fetcher on its own blob store, whose
// Done calls and peers joining can be awaited.
type fetchRig struct {
	store *blob.Store
	f     *Fetcher
	done  chan result
	peers chan int
}

func newFetchRig(t testing.TB, store *blob.Store, perPeer int) *fetchRig {
	r := &fetchRig{store: store, done: make(chan result, 16), peers: make(chan int, 16)}
	r.f = NewFetcher(store, &FetcherOptions{PerPeer: perPeer, Done: func(id blob.ID, err error) { r.done <- result{id, err} }})
	r.f.joined = func(n int) { r.peers <- n }
	return r
}

// waitPeers waits until n peers have joined.
func (r *fetchRig) waitPeers(t testing.TB, n int) {
	t.Helper()
	for {
		select {
		case got := <-r.peers:
			if got == n {
				return
			}
		case <-time.After(waitTimeout):
			t.Fatalf("%d peers did not join", n)
		}
	}
}

// waitDone waits for the Done call of a fetch and returns its error.
func (r *fetchRig) waitDone(t testing.TB, id blob.ID) error {
	t.Helper()
	select {
	case res := <-r.done:
		if res.id != id {
			t.Fatalf("Done for %s, want %s", res.id, id)
		}
		return res.err
	case <-time.After(waitTimeout):
		held, n := r.f.Progress(id)
		t.Fatalf("fetch of %s not done: %d of %d blocks", id, held, n)
		return nil
	}
}

// checkFile checks that the store holds the complete file data.
func checkFile(t testing.TB, s *blob.Store, id blob.ID, data []byte) {
	t.Helper()
	f, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("file %s: %d bytes differ from the %d sent", id, len(got), len(data))
	}
}

// serveFiles connects the fetching rig to a server serving blobs over
// net.Pipe, and returns the server's Serve result channel.
func serveFiles(t testing.TB, r *fetchRig, blobs Blobs) <-chan error {
	t.Helper()
	ca, cb := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	l := &link{cancel: cancel, errs: [2]chan error{make(chan error, 1), make(chan error, 1)}}
	go func() { l.errs[0] <- Serve(ctx, ca, newFake(), &Options{Peer: "fetcher", Blobs: blobs}) }()
	go func() { l.errs[1] <- Serve(ctx, cb, newFake(), &Options{Peer: "server", Fetcher: r.f}) }()
	t.Cleanup(func() { l.stop(t) })
	return l.errs[0]
}

// TestFetchTwoPeers: a file held by two peers is fetched from both at
// once, each block once, and the bytes are those sent.
func TestFetchTwoPeers(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(1, 40*blob.BlockSize+1234)
	a, b := &countBlobs{s: newBlobs(t)}, &countBlobs{s: newBlobs(t)}
	m := addFile(t, a.s, data)
	addFile(t, b.s, data)
	r := newFetchRig(t, newBlobs(t), 4)
	serveFiles(t, r, a)
	serveFiles(t, r, b)
	r.waitPeers(t, 2)
	r.f.Get(m.ID())
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), data)
	da, ta := a.served()
	db, tb := b.served()
	t.Logf("blocks served: %d by one peer, %d by the other", ta, tb)
	if da == 0 || db == 0 {
		t.Errorf("served %d and %d blocks: want both peers to serve", ta, tb)
	}
	if ta+tb != m.Blocks() || da+db != m.Blocks() {
		t.Errorf("served %d+%d blocks (%d+%d distinct), want %d in all, each once", ta, tb, da, db, m.Blocks())
	}
	if held, n := r.f.Progress(m.ID()); held != 0 || n != 0 {
		t.Errorf("Progress after the end: %d, %d, want 0, 0", held, n)
	}
	r.f.Get(m.ID()) // held: done at once, nothing asked
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("Get of a file held: %v", err)
	}
	if _, ta2 := a.served(); ta2 != ta {
		t.Errorf("Get of a file held asked for %d blocks", ta2-ta)
	}
}

// TestFetchEmpty: an empty file (a manifest, no block) is fetched.
func TestFetchEmpty(t *testing.T) {
	testkit.CheckLeaks(t)
	srv := &countBlobs{s: newBlobs(t)}
	m := addFile(t, srv.s, nil)
	r := newFetchRig(t, newBlobs(t), 4)
	serveFiles(t, r, srv)
	r.waitPeers(t, 1)
	r.f.Get(m.ID())
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), nil)
}

// TestFetchBadBlock: a peer that sends bad blocks is dropped for the
// file, not disconnected, and the file completes from the other peer.
func TestFetchBadBlock(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(2, 24*blob.BlockSize)
	bad, good := &countBlobs{s: newBlobs(t), bad: true}, &countBlobs{s: newBlobs(t)}
	m := addFile(t, bad.s, data)
	addFile(t, good.s, data)
	r := newFetchRig(t, newBlobs(t), 4)
	badErr := serveFiles(t, r, bad)
	r.waitPeers(t, 1)
	serveFiles(t, r, good)
	r.waitPeers(t, 2)
	r.f.Get(m.ID())
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), data)
	_, nbad := bad.served()
	dgood, _ := good.served()
	t.Logf("bad peer served %d blocks, good one %d", nbad, dgood)
	if nbad == 0 || nbad > 4 {
		t.Errorf("bad peer served %d blocks, want 1 to 4 (those in flight when the first failed)", nbad)
	}
	if dgood != m.Blocks() {
		t.Errorf("good peer served %d distinct blocks, want all %d", dgood, m.Blocks())
	}
	select {
	case err := <-badErr:
		t.Fatalf("the bad peer's session ended: %v", err)
	default:
	}
}

// TestFetchResume: a fetch of a file partly in the store (after a
// restart: a new Store on the directory) asks only for the missing
// blocks, and not for the manifest.
func TestFetchResume(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(3, 20*blob.BlockSize+77)
	srv := &countBlobs{s: newBlobs(t)}
	m := addFile(t, srv.s, data)
	dir := t.TempDir()
	kept := 0
	addPartial(t, openBlobs(t, dir), data, func(i int) bool {
		if i%3 != 1 {
			kept++
			return true
		}
		return false
	})
	r := newFetchRig(t, openBlobs(t, dir), 4) // as after a restart
	serveFiles(t, r, srv)
	r.waitPeers(t, 1)
	r.f.Get(m.ID())
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), data)
	distinct, total := srv.served()
	if want := m.Blocks() - kept; distinct != want || total != want {
		t.Errorf("served %d blocks (%d distinct), want the %d missing", total, distinct, want)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for i := range srv.blocks {
		if i%3 != 1 {
			t.Errorf("block %d served, which the store held", i)
		}
	}
}

// TestFetchPartialPeers: two peers each holding part of a file (odd
// blocks, even blocks) answer "not here" for the others, which are
// asked of the other peer: the file completes.
func TestFetchPartialPeers(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(4, 16*blob.BlockSize+5)
	even, odd := &countBlobs{s: newBlobs(t)}, &countBlobs{s: newBlobs(t)}
	m := addPartial(t, even.s, data, func(i int) bool { return i%2 == 0 })
	addPartial(t, odd.s, data, func(i int) bool { return i%2 == 1 })
	r := newFetchRig(t, newBlobs(t), 4)
	serveFiles(t, r, even)
	serveFiles(t, r, odd)
	r.waitPeers(t, 2)
	r.f.Get(m.ID())
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), data)
	de, te := even.served()
	do, to := odd.served()
	if de+do != m.Blocks() || te+to != m.Blocks() {
		t.Errorf("served %d+%d blocks (%d+%d distinct), want %d each once", te, to, de, do, m.Blocks())
	}
}

// TestFetchNobodyHasIt: a file no peer holds waits, and is fetched
// from a peer that joins later.
func TestFetchNobodyHasIt(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(5, 3*blob.BlockSize)
	full := &countBlobs{s: newBlobs(t)}
	m := addFile(t, full.s, data)
	empty := &countBlobs{s: newBlobs(t)}
	r := newFetchRig(t, newBlobs(t), 4)
	serveFiles(t, r, empty)
	r.waitPeers(t, 1)
	r.f.Get(m.ID())
	r.f.Get(m.ID()) // idempotent: one fetch, one Done
	serveFiles(t, r, full)
	r.waitPeers(t, 2)
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), data)
	select {
	case res := <-r.done:
		t.Fatalf("a second Done: %v", res)
	default:
	}
}

// TestFetchQuota: a file past the store's quota ends its fetch with
// blob.ErrQuota, reported to Done.
func TestFetchQuota(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(6, 4*blob.BlockSize)
	srv := &countBlobs{s: newBlobs(t)}
	m := addFile(t, srv.s, data)
	small, err := blob.Open(t.TempDir(), &blob.Options{MaxBytes: blob.BlockSize, FreeSpace: func(string) (uint64, uint64, error) { return 1 << 40, 1 << 41, nil }})
	if err != nil {
		t.Fatal(err)
	}
	r := newFetchRig(t, small, 4)
	serveFiles(t, r, srv)
	r.waitPeers(t, 1)
	r.f.Get(m.ID())
	if err := r.waitDone(t, m.ID()); !errors.Is(err, blob.ErrQuota) {
		t.Fatalf("fetch: got %v, want ErrQuota", err)
	}
	if _, total := srv.served(); total != 0 {
		t.Errorf("%d blocks served for a file refused", total)
	}
}

// rawPeer is a hand-written peer on one end of a net.Pipe, whose frames
// from the session are read by a goroutine and counted by type.
type rawPeer struct {
	conn   net.Conn
	frames chan frameOf
}

type frameOf struct {
	typ     byte
	payload []byte
}

func newRawPeer(t testing.TB, conn net.Conn) *rawPeer {
	p := &rawPeer{conn: conn, frames: make(chan frameOf, 64)}
	go func() {
		defer close(p.frames)
		r := bufio.NewReader(conn)
		for {
			typ, pl, _, err := readFrame(r, nil)
			if err != nil {
				return
			}
			p.frames <- frameOf{typ, bytes.Clone(pl)}
		}
	}()
	return p
}

// next returns the next frame from the session of a type in types.
func (p *rawPeer) next(t testing.TB, types ...byte) frameOf {
	t.Helper()
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				t.Fatal("connection closed")
			}
			if bytes.IndexByte(types, f.typ) >= 0 {
				return f
			}
		case <-time.After(waitTimeout):
			t.Fatalf("no frame of type %v", types)
		}
	}
}

func wireGet(p part) []byte { return wireFrame(frameGet, appendPart(nil, p)) }

// TestFetchV2Peer: a peer of version 2 is never asked for a file, even
// while one is wanted (it is fetched from a version 3 peer meanwhile),
// and a get frame from it is malformed: it is never served.
func TestFetchV2Peer(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(7, 2*blob.BlockSize)
	srv := &countBlobs{s: newBlobs(t)}
	m := addFile(t, srv.s, data)
	r := newFetchRig(t, newBlobs(t), 4)
	vc, pc := net.Pipe()
	defer pc.Close()
	errc := make(chan error, 1)
	go func() {
		errc <- Serve(context.Background(), vc, newFake(), &Options{Peer: "v2", Fetcher: r.f, Blobs: srv})
	}()
	old := newRawPeer(t, pc)
	pc.Write(cat(wireHello(2), wireHeadsEnd()))
	old.next(t, frameHeadsEnd)
	r.f.Get(m.ID())
	serveFiles(t, r, &countBlobs{s: srv.s})
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	pc.Write(wireGet(part{ID: m.ID(), Kind: partManifest}))
	for f := range old.frames {
		if f.typ >= frameGet {
			t.Errorf("version 2 peer got a frame of type %d", f.typ)
		}
	}
	if err := <-errc; !errors.Is(err, ErrMalformed) {
		t.Fatalf("Serve after a get from a version 2 peer: got %v, want ErrMalformed", err)
	}
	if n := srv.manifestsAsked(); n != 0 {
		t.Errorf("%d manifests served to a version 2 peer", n)
	}
}

// TestServeNotHere: gets of a file not served, of a block past the
// file's end and of a manifest part past its end are answered "not
// here", with the reason; up to maxRequests gets may be outstanding.
func TestServeNotHere(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(8, 2*blob.BlockSize)
	srv := &countBlobs{s: newBlobs(t)}
	m := addFile(t, srv.s, data)
	partial := &countBlobs{s: newBlobs(t)}
	pm := addPartial(t, partial.s, content(9, 3*blob.BlockSize), func(i int) bool { return i == 0 })
	vc, pc := net.Pipe()
	defer pc.Close()
	errc := make(chan error, 1)
	go func() {
		errc <- Serve(context.Background(), vc, newFake(), &Options{Peer: "asker", Blobs: multiBlobs{srv, partial}})
	}()
	peer := newRawPeer(t, pc)
	var unknown blob.ID
	unknown[0] = 1
	gets := []struct {
		p   part
		why byte
	}{
		{part{ID: unknown, Kind: partManifest}, noneFile},
		{part{ID: unknown, Kind: partBlock, Index: 0}, noneFile},
		{part{ID: m.ID(), Kind: partBlock, Index: 2}, nonePart},
		{part{ID: m.ID(), Kind: partBlock, Index: blob.MaxBlocks}, noneFile},
		{part{ID: m.ID(), Kind: partManifest, Index: 1}, nonePart},
		{part{ID: m.ID(), Kind: partManifest, Index: 1 << 40}, noneFile},
		{part{ID: pm.ID(), Kind: partBlock, Index: 1}, nonePart},
		{part{ID: pm.ID(), Kind: partBlock, Index: 0}, 255}, // served
	}
	msg := cat(wireHello(Version), wireHeadsEnd())
	for _, g := range gets {
		msg = append(msg, wireGet(g.p)...)
	}
	go pc.Write(msg)
	for _, g := range gets {
		f := peer.next(t, frameData, frameNone)
		if g.why == 255 {
			d, err := decodeData(f.payload)
			if f.typ != frameData || err != nil || d.part != g.p || !bytes.Equal(d.Bytes, content(9, 3*blob.BlockSize)[:blob.BlockSize]) {
				t.Errorf("get of %s: got frame %d (%v), want the block", g.p, f.typ, err)
			}
			continue
		}
		p, why, err := decodeNone(f.payload)
		if f.typ != frameNone || err != nil || p != g.p || why != g.why {
			t.Errorf("get of %s: got frame %d, %s, reason %d (%v), want none, reason %d", g.p, f.typ, p, why, err, g.why)
		}
	}
	pc.Close()
	if err := <-errc; !errors.Is(err, io.EOF) {
		t.Errorf("Serve: %v, want EOF", err)
	}
}

// multiBlobs serves the files of several Blobs.
type multiBlobs []Blobs

func (mb multiBlobs) Manifest(id blob.ID) (*blob.Manifest, error) {
	for _, b := range mb {
		if m, err := b.Manifest(id); err == nil {
			return m, nil
		}
	}
	return nil, blob.ErrNotFound
}

func (mb multiBlobs) ReadBlock(m *blob.Manifest, i int, buf []byte) ([]byte, error) {
	for _, b := range mb {
		if _, err := b.Manifest(m.ID()); err == nil {
			return b.ReadBlock(m, i, buf)
		}
	}
	return nil, blob.ErrNotFound
}

// TestRequestFlood: a peer with more than maxRequests gets outstanding
// (it does not read the answers) is disconnected with ErrProtocol.
func TestRequestFlood(t *testing.T) {
	testkit.CheckLeaks(t)
	vc, pc := net.Pipe()
	defer pc.Close()
	errc := make(chan error, 1)
	go func() { errc <- Serve(context.Background(), vc, newFake(), nil) }()
	msg := cat(wireHello(Version), wireHeadsEnd())
	for i := range maxRequests + 1 {
		msg = append(msg, wireGet(part{Kind: partBlock, Index: uint64(i)})...)
	}
	go pc.Write(msg) // nothing read: the session's first write blocks
	select {
	case err := <-errc:
		if !errors.Is(err, ErrProtocol) {
			t.Fatalf("Serve: got %v, want ErrProtocol", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("a flood of gets did not end the session")
	}
}

// TestUnaskedData: data or none frames for parts not asked for are a
// protocol violation.
func TestUnaskedData(t *testing.T) {
	testkit.CheckLeaks(t)
	for _, fr := range [][]byte{
		wireFrame(frameData, append(appendPart(nil, part{Kind: partBlock}), 1, 2, 3)),
		wireFrame(frameNone, append(appendPart(nil, part{Kind: partBlock}), noneFile)),
	} {
		for _, withFetcher := range []bool{false, true} {
			vc, pc := net.Pipe()
			opts := &Options{}
			if withFetcher {
				opts.Fetcher = NewFetcher(newBlobs(t), nil)
			}
			errc := make(chan error, 1)
			go func() { errc <- Serve(context.Background(), vc, newFake(), opts) }()
			go io.Copy(io.Discard, pc)
			pc.Write(cat(wireHello(Version), wireHeadsEnd(), fr))
			if err := recvErr(t, errc, "Serve"); !errors.Is(err, ErrProtocol) {
				t.Errorf("frame type %d, fetcher %v: got %v, want ErrProtocol", fr[1], withFetcher, err)
			}
			pc.Close()
		}
	}
}

// TestBlockFrameFits: a data frame of a whole block, with its header at
// its largest, fits MaxFrameSize; the largest manifest does not, which
// is why manifests are served in parts; manifestHeaderLen is blob's.
func TestBlockFrameFits(t *testing.T) {
	largest := 1 + len(appendPart(nil, part{Kind: partManifest, Index: 1<<64 - 1})) + binary.MaxVarintLen64 + blob.BlockSize
	if largest > MaxFrameSize {
		t.Errorf("a data frame takes up to %d bytes, more than MaxFrameSize %d", largest, MaxFrameSize)
	}
	if maxManifestLen+1 <= MaxFrameSize {
		t.Errorf("the largest manifest (%d bytes) fits a frame: parts are not needed", maxManifestLen)
	}
	m, err := blob.Hash(bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	if enc, _ := m.MarshalBinary(); len(enc) != manifestHeaderLen {
		t.Errorf("manifest header of %d bytes, want %d", len(enc), manifestHeaderLen)
	}
}

// TestFetchStalledPeer: a peer that leaves its requests unanswered is
// disconnected after the stall timeout, and the blocks it held in flight
// are asked of the other peer: the file completes.
func TestFetchStalledPeer(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(11, 12*blob.BlockSize)
	stuck, good := &countBlobs{s: newBlobs(t), hold: make(chan struct{})}, &countBlobs{s: newBlobs(t)}
	defer close(stuck.hold) // before the sessions are stopped
	m := addFile(t, stuck.s, data)
	addFile(t, good.s, data)
	r := newFetchRig(t, newBlobs(t), 4)
	r.f.stall = 100 * time.Millisecond
	serveFiles(t, r, stuck)
	serveFiles(t, r, good)
	r.waitPeers(t, 2)
	r.f.Get(m.ID())
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), data)
	if d, _ := good.served(); d != m.Blocks() {
		t.Errorf("the good peer served %d blocks, want all %d", d, m.Blocks())
	}
	r.waitPeers(t, 1) // the stuck peer was disconnected
}

// TestFetchRetry: a peer that said "not here" is asked again after the
// retry timer, and serves the file it got meanwhile.
func TestFetchRetry(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(12, 2*blob.BlockSize+1)
	asked := make(chan struct{}, 100)
	srv := &countBlobs{s: newBlobs(t), asked: asked}
	m, err := blob.Hash(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r := newFetchRig(t, newBlobs(t), 4)
	r.f.retryMin = 20 * time.Millisecond
	serveFiles(t, r, srv)
	r.waitPeers(t, 1)
	r.f.Get(m.ID())
	select {
	case <-asked:
	case <-time.After(waitTimeout):
		t.Fatal("manifest not asked for")
	}
	addFile(t, srv.s, data)
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), data)
}

// onlyManifest serves the manifest of one file, and none of its blocks;
// each get of a block sends on blocks.
type onlyManifest struct {
	m      *blob.Manifest
	blocks chan int
}

func (o onlyManifest) Manifest(id blob.ID) (*blob.Manifest, error) {
	if id != o.m.ID() {
		return nil, blob.ErrNotFound
	}
	return o.m, nil
}

func (o onlyManifest) ReadBlock(m *blob.Manifest, i int, buf []byte) ([]byte, error) {
	select {
	case o.blocks <- i:
	default:
	}
	return nil, blob.ErrIncomplete
}

// TestFetchLargeManifest: the manifest of a file of more than 8192
// blocks (2 GiB) does not fit a frame; it is fetched in parts, checked,
// and the file begun (sparse), after which its blocks are asked for.
func TestFetchLargeManifest(t *testing.T) {
	testkit.CheckLeaks(t)
	const n = 8193
	enc := []byte("scuttle blob v1\n")
	enc = binary.LittleEndian.AppendUint64(enc, n*blob.BlockSize)
	enc = binary.LittleEndian.AppendUint32(enc, blob.BlockSize)
	enc = append(enc, content(13, n*32)...)
	m, err := blob.ParseManifest(enc)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) <= blob.BlockSize {
		t.Fatalf("manifest of %d bytes fits one part", len(enc))
	}
	srv := onlyManifest{m: m, blocks: make(chan int, 64)}
	r := newFetchRig(t, newBlobs(t), 4)
	serveFiles(t, r, srv)
	r.waitPeers(t, 1)
	r.f.Get(m.ID())
	select {
	case <-srv.blocks:
	case <-time.After(waitTimeout):
		t.Fatal("no block asked for")
	}
	if held, blocks := r.f.Progress(m.ID()); held != 0 || blocks != n {
		t.Errorf("Progress: %d, %d, want 0, %d", held, blocks, n)
	}
	// Not Have: it would re-hash 2 GiB of the sparse file.
	if fi, err := os.Stat(filepath.Join(r.store.Dir(), m.ID().String()+".part")); err != nil || fi.Size() != m.Size() {
		t.Errorf("store: %v, want a partial file of %d bytes", err, m.Size())
	}
	r.f.Forget(m.ID())
}

// lyingManifest answers every get of a manifest with the manifest of
// another file, and serves that file's blocks.
type lyingManifest struct {
	*countBlobs
	other *blob.Manifest
}

func (l lyingManifest) Manifest(id blob.ID) (*blob.Manifest, error) { return l.other, nil }

// TestFetchBadManifest: a peer that serves a manifest that is not the
// id's is dropped for the file (no block is asked of it), and the file
// comes from another peer.
func TestFetchBadManifest(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(14, 5*blob.BlockSize)
	liar := lyingManifest{countBlobs: &countBlobs{s: newBlobs(t)}}
	liar.other = addFile(t, liar.s, content(15, 5*blob.BlockSize))
	good := &countBlobs{s: newBlobs(t)}
	m := addFile(t, good.s, data)
	r := newFetchRig(t, newBlobs(t), 4)
	liarErr := serveFiles(t, r, liar)
	r.waitPeers(t, 1) // the liar joins first: it is asked first
	serveFiles(t, r, good)
	r.waitPeers(t, 2)
	r.f.Get(m.ID())
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), data)
	if _, n := liar.served(); n != 0 {
		t.Errorf("%d blocks asked of the peer that lied about the manifest", n)
	}
	if good.manifestsAsked() == 0 {
		t.Errorf("the manifest was not asked of the other peer")
	}
	select {
	case err := <-liarErr:
		t.Fatalf("the liar's session ended: %v", err)
	default:
	}
}

func (c *countBlobs) manifestsAsked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.manifests
}

// TestFetchManyNobodyHas: files no peer has do not hold the places of
// those a peer has: with more of them wanted than files are fetched at
// once, a file wanted after them is still fetched.
func TestFetchManyNobodyHas(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(16, 3*blob.BlockSize)
	srv := &countBlobs{s: newBlobs(t)}
	m := addFile(t, srv.s, data)
	r := newFetchRig(t, newBlobs(t), 4)
	serveFiles(t, r, srv)
	r.waitPeers(t, 1)
	for i := range 2 * maxActive {
		var id blob.ID
		id[0], id[1] = 0xee, byte(i)
		r.f.Get(id)
	}
	r.f.Get(m.ID())
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), data)
}

// TestFilesAndRecordsInterleave: a peer catching up on a long log while
// it fetches a file gets both at once: block frames come between
// records frames, and records frames between block frames.
func TestFilesAndRecordsInterleave(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(17, 24*blob.BlockSize)
	srv := &countBlobs{s: newBlobs(t)}
	m := addFile(t, srv.s, data)
	src, dst := newFake(), newFake()
	x := testID("x")
	src.appendN(x, 60000, 100) // about 2.7 MB of records
	r := newFetchRig(t, newBlobs(t), 4)
	r.f.Get(m.ID())
	ca, cb := net.Pipe()
	tap := &tapConn{Conn: cb}
	ctx, cancel := context.WithCancel(context.Background())
	l := &link{cancel: cancel, errs: [2]chan error{make(chan error, 1), make(chan error, 1)}}
	go func() { l.errs[0] <- Serve(ctx, ca, src, &Options{Peer: "fetcher", Blobs: srv}) }()
	go func() { l.errs[1] <- Serve(ctx, tap, dst, &Options{Peer: "server", Fetcher: r.f}) }()
	t.Cleanup(func() { l.stop(t) })
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	waitEqual(t, dst, src.snapshot(), "the log")
	checkFile(t, r.store, m.ID(), data)

	tap.mu.Lock()
	rd := bufio.NewReader(bytes.NewReader(tap.buf.Bytes()))
	tap.mu.Unlock()
	var seq []byte // frame types, records and data only
	for {
		typ, _, _, err := readFrame(rd, nil)
		if err != nil {
			break
		}
		if typ == frameRecords || typ == frameData {
			seq = append(seq, typ)
		}
	}
	firstData, lastData := bytes.IndexByte(seq, frameData), bytes.LastIndexByte(seq, frameData)
	firstRecs, lastRecs := bytes.IndexByte(seq, frameRecords), bytes.LastIndexByte(seq, frameRecords)
	t.Logf("%d frames: data from %d to %d, records from %d to %d", len(seq), firstData, lastData, firstRecs, lastRecs)
	if firstData > lastRecs || firstRecs > lastData {
		t.Errorf("blocks and records do not interleave: data frames %d to %d, records frames %d to %d", firstData, lastData, firstRecs, lastRecs)
	}
}

// heapBlobs serves a store's files and records the largest live heap
// seen at each block served.
type heapBlobs struct {
	*blob.Store
	mu   sync.Mutex
	peak int64
}

func (h *heapBlobs) ReadBlock(m *blob.Manifest, i int, buf []byte) ([]byte, error) {
	n := heapInUse()
	h.mu.Lock()
	h.peak = max(h.peak, n)
	h.mu.Unlock()
	return h.Store.ReadBlock(m, i, buf)
}

// TestFetchMemory: fetching a 32 MiB file keeps the live heap of both
// sides (one process here) within a few MiB of what it was before:
// blocks go from the connection to the disk one at a time.
func TestFetchMemory(t *testing.T) {
	testkit.CheckLeaks(t)
	const size = 32 << 20
	p := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.NewChaCha8([32]byte{18}), size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	srv := &heapBlobs{Store: newBlobs(t)}
	id, _, err := srv.Add(p)
	if err != nil {
		t.Fatal(err)
	}
	r := newFetchRig(t, newBlobs(t), 4)
	serveFiles(t, r, srv)
	r.waitPeers(t, 1)
	before := heapInUse()
	r.f.Get(id)
	if err := r.waitDone(t, id); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	srv.mu.Lock()
	grew := srv.peak - before
	srv.mu.Unlock()
	t.Logf("live heap: %d kB before, %d kB more at most during the fetch of %d MiB", before>>10, grew>>10, size>>20)
	if grew > 4<<20 {
		t.Errorf("live heap grew by %d kB during the fetch, want under 4 MiB", grew>>10)
	}
	got, err := r.store.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if m, err := blob.Hash(got); err != nil || m.ID() != id {
		t.Fatalf("fetched file hashes to %v (%v), want %s", m.ID(), err, id)
	}
}

// TestFetchPerPeerMax: a fetcher with the largest PerPeer (maxRequests
// in flight) over TCP is never taken for a flood: the get whose answer
// is being written does not count, though the fetcher may have read the
// answer and sent its next get before the write returns.
func TestFetchPerPeerMax(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(19, 128*blob.BlockSize)
	srv := &countBlobs{s: newBlobs(t)}
	m := addFile(t, srv.s, data)
	r := newFetchRig(t, newBlobs(t), maxRequests)
	ca, cb := tcpPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	l := &link{cancel: cancel, errs: [2]chan error{make(chan error, 1), make(chan error, 1)}}
	go func() { l.errs[0] <- Serve(ctx, ca, newFake(), &Options{Peer: "fetcher", Blobs: srv}) }()
	go func() { l.errs[1] <- Serve(ctx, cb, newFake(), &Options{Peer: "server", Fetcher: r.f}) }()
	t.Cleanup(func() { l.stop(t) })
	r.waitPeers(t, 1)
	r.f.Get(m.ID())
	if err := r.waitDone(t, m.ID()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m.ID(), data)
}

// TestFetchForget: a file forgotten mid-fetch is asked for no more (but
// the blocks in flight then), and has no Done; the next file is fetched.
func TestFetchForget(t *testing.T) {
	testkit.CheckLeaks(t)
	first, second := content(21, 40*blob.BlockSize), content(22, 3*blob.BlockSize)
	srv := &countBlobs{s: newBlobs(t), hold: make(chan struct{}), reading: make(chan struct{}, 1)}
	m1 := addFile(t, srv.s, first)
	r := newFetchRig(t, newBlobs(t), 4)
	serveFiles(t, r, srv)
	r.waitPeers(t, 1)
	r.f.Get(m1.ID())
	select {
	case <-srv.reading: // the first block is being read: 4 are asked
	case <-time.After(waitTimeout):
		t.Fatal("no block asked for")
	}
	r.f.Forget(m1.ID())
	if held, n := r.f.Progress(m1.ID()); held != 0 || n != 0 {
		t.Errorf("Progress of a forgotten file: %d, %d", held, n)
	}
	close(srv.hold)
	m2 := addFile(t, srv.s, second)
	r.f.Get(m2.ID())
	if err := r.waitDone(t, m2.ID()); err != nil { // not m1's
		t.Fatalf("fetch: %v", err)
	}
	checkFile(t, r.store, m2.ID(), second)
	if _, total := srv.served(); total-m2.Blocks() > 4 {
		t.Errorf("%d blocks served in all, %d of them the second file's: the forgotten file was asked for more than the 4 in flight", total, m2.Blocks())
	}
}

// TestFetchCheck: FetcherOptions.Check sees the manifest before the
// store makes room for the file: an error ends the fetch with nothing
// begun and no block served (a file larger than its entry said); with
// no error, Begun follows once the store holds the partial file, before
// any block comes.
func TestFetchCheck(t *testing.T) {
	testkit.CheckLeaks(t)
	data := content(7, 3*blob.BlockSize)
	srv := &countBlobs{s: newBlobs(t)}
	m := addFile(t, srv.s, data)
	errTooLarge := errors.New("larger than its entry says")
	for _, refuse := range []bool{true, false} {
		t.Run(fmt.Sprint("refuse ", refuse), func(t *testing.T) {
			store := newBlobs(t)
			r := newFetchRig(t, store, 4)
			var checked []int64
			var begun []blob.Status
			r.f.check = func(id blob.ID, got *blob.Manifest) error {
				checked = append(checked, got.Size())
				if refuse {
					return errTooLarge
				}
				return nil
			}
			r.f.begun = func(id blob.ID) {
				st, err := store.Have(id)
				if err != nil {
					t.Errorf("Begun: the store holds nothing of the file: %v", err)
				}
				begun = append(begun, st)
			}
			serveFiles(t, r, srv)
			r.waitPeers(t, 1)
			_, before := srv.served()
			r.f.Get(m.ID())
			err := r.waitDone(t, m.ID())
			_, after := srv.served()
			if want := []int64{m.Size()}; !slices.Equal(checked, want) {
				t.Errorf("Check saw sizes %v, want %v", checked, want)
			}
			if refuse {
				if !errors.Is(err, errTooLarge) || len(begun) != 0 || after != before {
					t.Errorf("refused: Done(%v), Begun %d times, %d blocks served; want Check's error, none, none", err, len(begun), after-before)
				}
				if _, err := store.Have(m.ID()); !errors.Is(err, blob.ErrNotFound) {
					t.Errorf("refused: the store holds the file: %v", err)
				}
				return
			}
			if err != nil || len(begun) != 1 || begun[0].HeldBytes() != 0 {
				t.Errorf("accepted: Done(%v), Begun %d times (%v); want nil, once with no block held", err, len(begun), begun)
			}
		})
	}
}
