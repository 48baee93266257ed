package chat

import (
	"errors"
	"fmt"

	"scuttle/applog"
	"scuttle/applog/blob"
)

// What the chat asks of the store besides adding and reading files: the
// sources of each file (the logs whose entries name it), which decide
// what is served and what a block deletes. Only the database's writer
// changes sources; the chat is it.

// addSource records author as a source of the file f names, if the
// store holds something of it (a file not fetched yet is recorded when
// its fetch ends: fetched).
func (c *Chat) addSource(f blob.Entry, author applog.ID) {
	err := c.cfg.Blobs.AddSource(f.ID, author)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		// ErrTooManySources: the file is served for the others.
		c.cfg.Log.Debug("chat: recording a file's source", "id", f.ID, "log", author, "err", err)
	}
}

// serves reports whether the chat serves file id to peers: some log
// whose entry names it is held here and not blocked (blob.Store.Serves).
func (c *Chat) serves(id blob.ID) bool {
	db := c.cfg.DB
	return c.cfg.Blobs.Serves(id, func(a applog.ID) bool { return db.Head(a) > 0 && !db.Blocked(a) })
}

// dropFiles deletes from the store the files that author, a log just
// blocked, alone named (blob.Store.RemoveBy), and stops fetching the
// files its lines showed; it says how many were deleted in an info line,
// if any.
func (c *Chat) dropFiles(author applog.ID) {
	if c.cfg.Blobs == nil {
		return
	}
	c.forgetBlocked()
	n, err := c.cfg.Blobs.RemoveBy(author)
	if err != nil {
		c.info("/block: deleting its files: " + Escape(err.Error()))
	}
	if n > 0 {
		c.info(fmt.Sprintf("deleted %d of its files, which no other log named", n))
	}
}

// forgetBlocked stops fetching the files the chat showed from logs that
// are blocked now: at a /block, and when the logs blocked change (a
// block by scuttle block, whose files the outbox loop of scuttle chat
// deletes, blob.Store.Purge).
func (c *Chat) forgetBlocked() {
	if c.fetcher == nil {
		return
	}
	for _, id := range c.files.by(c.cfg.DB.Blocked) {
		c.fetcher.Forget(id) // Done is not called: end it here
		c.fetching.end(id)
	}
}
