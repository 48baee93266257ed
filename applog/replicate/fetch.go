package replicate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"slices"
	"sync"
	"time"

	"scuttle/applog/blob"
)

// FetcherOptions configure a Fetcher. The zero value (or nil) works.
type FetcherOptions struct {
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// PerPeer bounds the requests in flight to one peer (sent and not
	// yet answered: blocks of 256 KiB, or parts of a manifest), at most
	// 8 (a peer closes the connection of one that asks more); 0 means
	// DefaultPerPeer.
	PerPeer int
	// Done, if set, is called once per fetch when the file is complete
	// (err nil) or the fetch gives up (err says why: quota, low space,
	// a store error). It is not called for a fetch ended by Forget.
	// Called from the fetcher's goroutines (a session's receiver, say),
	// one at a time, never while the fetcher holds a lock: it may call
	// the fetcher's methods, and should return soon.
	Done func(id blob.ID, err error)
	// Check, if set, is called with a file's manifest once it checks
	// against the id, before the store makes room for the file; an
	// error ends the fetch (reported to Done). The caller refuses there
	// a manifest that disagrees with what it was told of the file: an
	// entry that claims a small size, say, for the id of a large file,
	// which would otherwise be fetched whole where only small files are
	// fetched without asking (blob.Entry.Matches). It is called from
	// the receiving goroutine of the session the manifest came on,
	// without the fetcher's lock; calls for different files may run at
	// once.
	Check func(id blob.ID, m *blob.Manifest) error
	// Begun, if set, is called once the store holds the file's manifest
	// and partial file (Store.Begin), before any block is asked for: the
	// caller may then record what the store needs to serve the blocks as
	// they come (blob.Store.AddSource). Called as Check is.
	Begun func(id blob.ID)
}

// DefaultPerPeer is the PerPeer of zero FetcherOptions: 4 blocks, 1 MiB
// in flight per peer. Over a link of 10 ms round trip (a busy LAN,
// Wi-Fi), BenchmarkFetchLatency measured 21, 31 to 39, 71 and 109 to
// 125 MB/s for 1, 2, 4 and 8 blocks in flight (two runs): the rate is
// about the bytes in flight per round trip, so 4 keeps up with a gigabit LAN up to 8 ms and with Wi-Fi
// beyond, while what a peer's bad blocks or a kill -9 cost stays at 1
// MiB per peer.
const DefaultPerPeer = 4

// Bounds and timers of a Fetcher.
const (
	// maxActive bounds the files fetched at once: those whose manifest
	// (and bitmaps) the fetcher holds, being fetched or being re-hashed
	// from the store. The others wait their turn, in the order of Get;
	// those no peer has the manifest of yet wait aside, without memory,
	// and are not asked for while maxActive files hold the places.
	maxActive = 4
	// retryMin and retryMax bound the wait before a file that no peer
	// could serve is asked for again of the peers that said "not here"
	// (they may have fetched it meanwhile); the wait doubles from one to
	// the other while nothing comes.
	retryMin = time.Second
	retryMax = time.Minute
	// stallTimeout ends the session of a peer that leaves requests
	// unanswered this long: its blocks are asked of others.
	stallTimeout = 2 * time.Minute
)

// A Fetcher fetches files from the peers of all the sessions it is given
// to (Options.Fetcher) that speak Version 3: one Fetcher is shared by all
// the sessions of a chat. See the package documentation for its model.
// Its methods may be called from several goroutines at once.
type Fetcher struct {
	store   *blob.Store
	done    func(blob.ID, error)
	check   func(blob.ID, *blob.Manifest) error
	begun   func(blob.ID)
	log     *slog.Logger
	perPeer int
	// retryMin, retryMax and stall are the timers' durations; tests
	// shorten them.
	retryMin, retryMax, stall time.Duration
	// joined, if set, is called when a peer joins or leaves, with the
	// peers there are; tests await it.
	joined func(n int)

	mu      sync.Mutex
	files   map[blob.ID]*fetch // wanted: active and waiting
	waiting []*fetch           // in Get order
	active  []*fetch           // loaded from the store, in Get order
	loads   int                // files being loaded
	peers   []*fetchPeer       // in the order they joined
	report  []result           // Done calls to make once mu is released

	doneMu sync.Mutex // Done calls one at a time
}

type result struct {
	id  blob.ID
	err error
}

// The states of a fetch.
const (
	stateWaiting   = iota // for a place among the active
	stateLoading          // the store's partial file is re-hashed
	stateManifest         // its manifest is asked of peers
	stateBeginning        // the store makes room for it
	stateBlocks           // its missing blocks are asked of peers
)

// fetch is one wanted file.
type fetch struct {
	id    blob.ID
	state int
	gone  bool // forgotten or ended: replies to its requests are dropped

	m        *blob.Manifest
	have     []uint64 // bit i: block i is in the store
	inflight []uint64 // bit i: block i is asked of a peer, or being written
	held     int

	// The manifest being fetched, a part at a time, from manFrom.
	man     []byte
	manFrom *fetchPeer

	peers map[*fetchPeer]*peerFile

	retry   *time.Timer
	backoff time.Duration
}

// peerFile is what the fetcher knows of one peer and one file.
type peerFile struct {
	dropped bool     // it sent a bad block or manifest: never asked again
	lacks   bool     // it said it does not serve the file: not asked until a retry
	refused []uint64 // bit i: it said block i is not here; until a retry
}

// fetchPeer is the session of one peer, as the fetcher sees it.
type fetchPeer struct {
	name   string
	cancel context.CancelCauseFunc // ends the session
	ready  chan struct{}           // queue is not empty
	queue  []part                  // requests for the session's sender to write
	out    []part                  // requests written, not answered
	// writing counts the blocks received from the peer being written to
	// the store: they hold its places until checked, so that a peer
	// whose block turns out bad is asked for no more.
	writing int
	stall   *time.Timer
	moved   time.Time // last reply, or first request after none outstanding
	left    bool
}

// NewFetcher returns a Fetcher that writes the files it fetches to store.
// It fetches nothing until Get is called.
func NewFetcher(store *blob.Store, opts *FetcherOptions) *Fetcher {
	f := &Fetcher{
		store:    store,
		perPeer:  DefaultPerPeer,
		retryMin: retryMin,
		retryMax: retryMax,
		stall:    stallTimeout,
		files:    make(map[blob.ID]*fetch),
	}
	if opts != nil {
		f.done, f.log = opts.Done, opts.Logger
		f.check, f.begun = opts.Check, opts.Begun
		if opts.PerPeer > 0 {
			f.perPeer = min(opts.PerPeer, maxRequests)
		}
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f
}

// unlock releases f.mu, then makes the Done calls due, one at a time.
func (f *Fetcher) unlock() {
	rs := f.report
	f.report = nil
	f.mu.Unlock()
	if len(rs) == 0 || f.done == nil {
		return
	}
	f.doneMu.Lock()
	defer f.doneMu.Unlock()
	for _, r := range rs {
		f.done(r.id, r.err)
	}
}

// Get asks for file id: it is fetched from the connected sessions whose
// peers have it and from those that connect later, until complete,
// resuming from what the store holds (a partial file is re-hashed, so
// only its missing blocks are asked for). Idempotent: Get of a file being
// fetched does nothing. It returns at once.
func (f *Fetcher) Get(id blob.ID) {
	f.mu.Lock()
	defer f.unlock()
	if f.files[id] != nil {
		return
	}
	fe := &fetch{id: id, peers: make(map[*fetchPeer]*peerFile), backoff: f.retryMin}
	f.files[id] = fe
	f.waiting = append(f.waiting, fe)
	f.promote()
}

// Forget stops fetching id (its author was blocked, say). What the store
// holds of it stays: the caller removes it if it wants.
func (f *Fetcher) Forget(id blob.ID) {
	f.mu.Lock()
	defer f.unlock()
	if fe := f.files[id]; fe != nil {
		f.end(fe)
		f.schedule()
	}
}

// Progress returns the blocks held and the total of file id, as far as
// the fetcher knows: 0, 0 while its manifest is not known, and for a file
// it is not fetching (the store's Have says what the store holds).
func (f *Fetcher) Progress(id blob.ID) (held, blocks int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fe := f.files[id]
	if fe == nil || fe.have == nil {
		return 0, 0
	}
	return fe.held, fe.m.Blocks()
}

// end removes fe from the fetcher, and makes room for a waiting file.
func (f *Fetcher) end(fe *fetch) {
	fe.gone = true
	if fe.retry != nil {
		fe.retry.Stop()
	}
	delete(f.files, fe.id)
	if fe.state == stateWaiting {
		f.waiting = slices.DeleteFunc(f.waiting, func(x *fetch) bool { return x == fe })
		return
	}
	f.active = slices.DeleteFunc(f.active, func(x *fetch) bool { return x == fe })
	f.promote() // a loading fetch is promoted by its load
}

// finish ends fe and reports err (nil: complete) to Done.
func (f *Fetcher) finish(fe *fetch, err error) {
	if fe.gone {
		return
	}
	if err != nil {
		f.log.Warn("file fetch given up", "file", fe.id, "err", err)
	} else {
		f.log.Info("file fetched", "file", fe.id)
	}
	f.end(fe)
	f.report = append(f.report, result{fe.id, err})
}

// holding returns the files that hold a place among maxActive: those
// being loaded, and those whose manifest is being fetched or held.
func (f *Fetcher) holding() int {
	n := f.loads
	for _, fe := range f.active {
		if fe.state != stateManifest || fe.manFrom != nil {
			n++
		}
	}
	return n
}

// promote starts loading waiting files while fewer than maxActive hold
// a place.
func (f *Fetcher) promote() {
	for len(f.waiting) > 0 && f.holding() < maxActive {
		fe := f.waiting[0]
		f.waiting = f.waiting[1:]
		fe.state = stateLoading
		f.loads++
		go f.load(fe)
	}
}

// load finds what the store holds of fe's file (re-hashing a partial
// one), then has it fetched.
func (f *Fetcher) load(fe *fetch) {
	st, err := f.store.Have(fe.id)
	var m *blob.Manifest
	if err == nil && !st.Complete {
		m, err = f.store.Manifest(fe.id)
	}
	f.mu.Lock()
	defer f.unlock()
	f.loads--
	defer f.promote()
	if fe.gone {
		return
	}
	f.active = append(f.active, fe)
	switch {
	case errors.Is(err, blob.ErrNotFound):
		fe.state = stateManifest
	case err != nil:
		f.finish(fe, err)
	case st.Complete:
		f.finish(fe, nil)
	default:
		fe.setManifest(m)
		for i := range st.Blocks {
			if st.Has(i) {
				fe.setHave(i)
			}
		}
		fe.state = stateBlocks
	}
	f.schedule()
}

func (fe *fetch) setManifest(m *blob.Manifest) {
	n := (m.Blocks() + 63) / 64
	fe.m, fe.have, fe.inflight, fe.held = m, make([]uint64, n), make([]uint64, n), 0
	fe.man, fe.manFrom = nil, nil
}

func (fe *fetch) setHave(i int) {
	if fe.have[i/64]&(1<<(i%64)) == 0 {
		fe.have[i/64] |= 1 << (i % 64)
		fe.held++
	}
}

func setBit(b []uint64, i int, v bool) {
	if v {
		b[i/64] |= 1 << (i % 64)
	} else {
		b[i/64] &^= 1 << (i % 64)
	}
}

// pick returns a block of fe to ask of a peer that refused the blocks of
// refused: one neither held, nor in flight, nor refused; -1 if none.
func (fe *fetch) pick(refused []uint64) int {
	n := fe.m.Blocks()
	for w := range fe.have {
		free := ^(fe.have[w] | fe.inflight[w])
		if refused != nil {
			free &^= refused[w]
		}
		if free == 0 {
			continue
		}
		i := w*64 + bits.TrailingZeros64(free)
		if i < n {
			return i
		}
		return -1
	}
	return -1
}

// peerFile returns what the fetcher knows of peer p and file fe.
func (fe *fetch) peerFile(p *fetchPeer) *peerFile {
	pf := fe.peers[p]
	if pf == nil {
		pf = &peerFile{}
		fe.peers[p] = pf
	}
	return pf
}

// free returns how many more requests p may be sent.
func (f *Fetcher) free(p *fetchPeer) int {
	return f.perPeer - len(p.queue) - len(p.out) - p.writing
}

// request queues a request of part pt for p's session to send.
func (p *fetchPeer) request(pt part) {
	p.queue = append(p.queue, pt)
	select {
	case p.ready <- struct{}{}:
	default:
	}
}

// schedule loads waiting files if places are free, and hands out
// requests: for each loaded file, in order, its
// manifest to one peer, or its missing blocks to every peer with room,
// up to PerPeer each. A file no peer can be asked for waits for a timer
// (or a peer that joins).
func (f *Fetcher) schedule() {
	f.promote()
	held := f.holding()
	for _, fe := range f.active {
		asked := false
		switch fe.state {
		case stateManifest:
			if fe.manFrom != nil {
				continue
			}
			if held >= maxActive {
				continue // asked for once a place is free
			}
			for _, p := range f.peers {
				if pf := fe.peers[p]; f.free(p) > 0 && (pf == nil || !pf.dropped && !pf.lacks) {
					fe.manFrom, fe.man = p, nil
					p.request(part{ID: fe.id, Kind: partManifest})
					asked = true
					held++
					break
				}
			}
		case stateBlocks:
			for _, p := range f.peers {
				pf := fe.peers[p]
				if pf != nil && (pf.dropped || pf.lacks) {
					continue
				}
				var refused []uint64
				if pf != nil {
					refused = pf.refused
				}
				for f.free(p) > 0 {
					i := fe.pick(refused)
					if i < 0 {
						break
					}
					setBit(fe.inflight, i, true)
					p.request(part{ID: fe.id, Kind: partBlock, Index: uint64(i)})
				}
			}
			for _, w := range fe.inflight {
				asked = asked || w != 0
			}
		default:
			continue // loading or beginning: the store is at work
		}
		if !asked {
			f.wait(fe)
		}
	}
}

// wait arms fe's retry timer, unless it is armed: when it fires, the
// peers that said "not here" may be asked again.
func (f *Fetcher) wait(fe *fetch) {
	if fe.retry != nil {
		return
	}
	d := fe.backoff
	fe.backoff = min(2*fe.backoff, f.retryMax)
	fe.retry = time.AfterFunc(d, func() {
		f.mu.Lock()
		defer f.unlock()
		fe.retry = nil
		if fe.gone {
			return
		}
		for _, pf := range fe.peers {
			pf.lacks, pf.refused = false, nil
		}
		f.schedule()
	})
}

// join adds the session of a peer that speaks Version 3; cancel ends it.
func (f *Fetcher) join(name string, cancel context.CancelCauseFunc) *fetchPeer {
	p := &fetchPeer{name: name, cancel: cancel, ready: make(chan struct{}, 1)}
	p.stall = time.AfterFunc(time.Hour, func() { f.stalled(p) })
	p.stall.Stop()
	f.mu.Lock()
	defer f.unlock()
	f.peers = append(f.peers, p)
	if f.joined != nil {
		f.joined(len(f.peers))
	}
	f.schedule()
	return p
}

// leave removes p, whose session ended: what was asked of it is asked of
// others.
func (f *Fetcher) leave(p *fetchPeer) {
	p.stall.Stop()
	f.mu.Lock()
	defer f.unlock()
	p.left = true
	f.peers = slices.DeleteFunc(f.peers, func(x *fetchPeer) bool { return x == p })
	if f.joined != nil {
		f.joined(len(f.peers))
	}
	for _, pt := range append(p.queue, p.out...) {
		if fe := f.files[pt.ID]; fe != nil {
			f.release(fe, p, pt)
		}
	}
	p.queue, p.out = nil, nil
	for _, fe := range f.active {
		delete(fe.peers, p)
	}
	f.schedule()
}

// release returns part pt of fe, asked of p, to the pool.
func (f *Fetcher) release(fe *fetch, p *fetchPeer, pt part) {
	switch {
	case pt.Kind == partBlock && fe.inflight != nil && pt.Index < uint64(fe.m.Blocks()):
		setBit(fe.inflight, int(pt.Index), false)
	case pt.Kind == partManifest && fe.manFrom == p:
		fe.manFrom, fe.man = nil, nil
	}
}

// take moves p's queued requests to its outstanding ones and appends
// them to buf, for its session's sender to write.
func (f *Fetcher) take(p *fetchPeer, buf []part) []part {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(p.queue) == 0 {
		return buf
	}
	if len(p.out) == 0 {
		p.moved = time.Now()
		p.stall.Reset(f.stall)
	}
	buf = append(buf, p.queue...)
	p.out = append(p.out, p.queue...)
	p.queue = p.queue[:0]
	return buf
}

// answered removes pt from p's outstanding requests; false if it was
// not asked.
func (f *Fetcher) answered(p *fetchPeer, pt part) bool {
	i := slices.Index(p.out, pt)
	if i < 0 {
		return false
	}
	p.out = slices.Delete(p.out, i, i+1)
	p.moved = time.Now()
	if len(p.out) == 0 {
		p.stall.Stop()
	} else {
		p.stall.Reset(f.stall)
	}
	return true
}

// stalled ends the session of p if its requests have been unanswered for
// the stall timeout.
func (f *Fetcher) stalled(p *fetchPeer) {
	f.mu.Lock()
	stuck := !p.left && len(p.out) > 0 && time.Since(p.moved) >= f.stall
	n := len(p.out)
	f.mu.Unlock()
	if stuck {
		f.log.Warn("peer leaves file requests unanswered: disconnected", "peer", p.name, "requests", n)
		p.cancel(fmt.Errorf("replicate: %d file requests unanswered for %v", n, f.stall))
	}
}

// none handles a none frame from p: the part is not there.
func (f *Fetcher) none(p *fetchPeer, pt part, why byte) error {
	f.mu.Lock()
	defer f.unlock()
	if !f.answered(p, pt) {
		return fmt.Errorf("%w: none of the %s, not asked for", ErrProtocol, pt)
	}
	fe := f.files[pt.ID]
	if fe == nil {
		f.schedule()
		return nil
	}
	f.release(fe, p, pt)
	pf := fe.peerFile(p)
	if pt.Kind == partManifest || why == noneFile {
		pf.lacks = true
	} else if fe.m != nil && pt.Index < uint64(fe.m.Blocks()) {
		if pf.refused == nil {
			pf.refused = make([]uint64, len(fe.have))
		}
		setBit(pf.refused, int(pt.Index), true)
	}
	f.schedule()
	return nil
}

// data handles a data frame from p: a part of a manifest, or a block,
// which is written to the store.
func (f *Fetcher) data(p *fetchPeer, d data) error {
	f.mu.Lock()
	defer f.unlock()
	if !f.answered(p, d.part) {
		return fmt.Errorf("%w: %s, not asked for", ErrProtocol, d.part)
	}
	fe := f.files[d.ID]
	if fe == nil {
		f.schedule()
		return nil // forgotten meanwhile
	}
	if d.Kind == partManifest {
		f.manifestPart(fe, p, d)
	} else if fe.state == stateBlocks && d.Index < uint64(fe.m.Blocks()) {
		f.block(fe, p, int(d.Index), d.Bytes)
	}
	f.schedule()
	return nil
}

// manifestPart adds a part of fe's manifest received from p; once the
// manifest is whole and checks against the id, the store makes room for
// the file. A manifest that does not check drops p for the file.
func (f *Fetcher) manifestPart(fe *fetch, p *fetchPeer, d data) {
	if fe.state != stateManifest || fe.manFrom != p {
		return
	}
	if d.Index == 0 {
		fe.man = make([]byte, 0, d.Total)
	}
	if uint64(cap(fe.man)) != d.Total || uint64(len(fe.man)) != d.Index*blob.BlockSize {
		f.drop(fe, p, fmt.Errorf("manifest part %d of %d bytes, after %d of %d", d.Index, d.Total, len(fe.man), cap(fe.man)))
		return
	}
	fe.man = append(fe.man, d.Bytes...)
	if len(fe.man) < cap(fe.man) {
		p.request(part{ID: fe.id, Kind: partManifest, Index: d.Index + 1})
		return
	}
	m, err := blob.ParseManifest(fe.man)
	if err == nil {
		err = m.Check(fe.id)
	}
	if err != nil {
		f.drop(fe, p, err)
		return
	}
	fe.state, fe.man, fe.manFrom = stateBeginning, nil, nil
	f.mu.Unlock()
	if f.check != nil {
		err = f.check(fe.id, m)
	}
	if err == nil {
		err = f.store.Begin(m)
	}
	if err == nil && f.begun != nil {
		f.begun(fe.id)
	}
	f.mu.Lock()
	if fe.gone {
		return
	}
	if err != nil {
		f.finish(fe, err)
		return
	}
	f.log.Debug("file begun", "file", fe.id, "size", m.Size(), "from", p.name)
	fe.setManifest(m)
	fe.state = stateBlocks
	if m.Blocks() == 0 {
		f.finish(fe, nil)
	}
}

// drop drops p for file fe: it is never asked for it again.
func (f *Fetcher) drop(fe *fetch, p *fetchPeer, why error) {
	f.log.Warn("peer dropped for a file", "peer", p.name, "file", fe.id, "err", why)
	fe.peerFile(p).dropped = true
	if fe.manFrom == p {
		fe.manFrom, fe.man = nil, nil
	}
}

// block writes block i of fe, received from p, to the store, with f.mu
// released meanwhile; its bit in flight stays set until then. A bad
// block drops p for the file.
func (f *Fetcher) block(fe *fetch, p *fetchPeer, i int, b []byte) {
	p.writing++
	f.mu.Unlock()
	err := f.store.WriteBlock(fe.id, i, b)
	f.mu.Lock()
	p.writing--
	setBit(fe.inflight, i, false)
	if fe.gone {
		return
	}
	switch {
	case err == nil:
		fe.setHave(i)
		fe.backoff = f.retryMin
		if fe.held == fe.m.Blocks() {
			f.finish(fe, nil)
		}
	case errors.Is(err, blob.ErrBadBlock):
		f.drop(fe, p, err)
	default:
		f.finish(fe, err)
	}
}
