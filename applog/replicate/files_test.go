package replicate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
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
	if srv.manifests != 0 {
		t.Errorf("%d manifests served to a version 2 peer", srv.manifests)
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
