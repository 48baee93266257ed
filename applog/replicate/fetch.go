package replicate

import (
	"log/slog"

	"scuttle/applog/blob"
)

// FetcherOptions configure a Fetcher. The zero value (or nil) works.
type FetcherOptions struct {
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// PerPeer bounds the blocks in flight from one peer (requests sent
	// and not yet answered), at most maxRequests; 0 means
	// DefaultPerPeer.
	PerPeer int
	// Done, if set, is called once per fetch when the file is complete
	// (err nil) or the fetch gives up (err says why: quota, low space,
	// a store error). It is not called for a fetch ended by Forget.
	// Called from the fetcher's goroutines, one at a time.
	Done func(id blob.ID, err error)
}

// DefaultPerPeer is the PerPeer of zero FetcherOptions.
const DefaultPerPeer = 4

// A Fetcher fetches files from the peers of all the sessions it is given
// to (Options.Fetcher) that speak Version 3: one Fetcher is shared by all
// the sessions of a chat. See the package documentation for its model.
// Its methods may be called from several goroutines at once.
type Fetcher struct {
	store *blob.Store
	opts  FetcherOptions
}

// NewFetcher returns a Fetcher that writes the files it fetches to store.
// It fetches nothing until Get is called.
func NewFetcher(store *blob.Store, opts *FetcherOptions) *Fetcher {
	f := &Fetcher{store: store}
	if opts != nil {
		f.opts = *opts
	}
	return f
}

// Get asks for file id: it is fetched from the connected sessions whose
// peers have it and from those that connect later, until complete,
// resuming from what the store holds (a partial file is re-hashed, so
// only its missing blocks are asked for). Idempotent: Get of a file being
// fetched does nothing. It returns at once.
func (f *Fetcher) Get(id blob.ID) {}

// Forget stops fetching id (its author was blocked, say). What the store
// holds of it stays: the caller removes it if it wants.
func (f *Fetcher) Forget(id blob.ID) {}

// Progress returns the blocks held and the total of file id, as far as
// the fetcher knows: 0, 0 while its manifest is not known, and for a file
// it is not fetching (the store's Have says what the store holds).
func (f *Fetcher) Progress(id blob.ID) (held, blocks int) { return 0, 0 }
