package chat

import (
	"scuttle/applog"
	"scuttle/applog/blob"
)

// What the chat asks of the store beyond adding and reading: the
// sources of each file (the logs whose entries name it), which decide
// what is served and what a block removes. Stubs until they land in
// package blob.

func addSource(store *blob.Store, f blob.Entry, author applog.ID) {}

// serves reports whether the chat serves file id to peers.
func (c *Chat) serves(id blob.ID) bool { return true }

// removeBy removes the files whose only unblocked source is author, and
// returns their ids.
func removeBy(store *blob.Store, author applog.ID) ([]blob.ID, error) { return nil, nil }

// purge removes the files whose sources are all blocked, and returns
// their ids.
func purge(store *blob.Store, blocked func(applog.ID) bool) ([]blob.ID, error) { return nil, nil }
