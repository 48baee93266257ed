package seal

import (
	"sync"

	"scuttle/applog"
)

// Directory is the newest encryption key each log has published, as
// learned from the logs' entries: what a sender needs to seal to a log.
// A reader that sees every entry (the chat, as it prints them) notes
// each one; a Directory is safe for concurrent use.
type Directory struct {
	mu   sync.Mutex
	max  int
	keys map[applog.ID]dirKey
}

type dirKey struct {
	seq uint64
	key PublicKey
}

// NewDirectory returns an empty directory that holds the keys of at most
// maxLogs logs (0: no bound); beyond it, the keys of logs not yet in it
// are not noted. The database's own bound on logs (applog
// Options.MaxLogs) is the natural value.
func NewDirectory(maxLogs int) *Directory {
	return &Directory{max: maxLogs, keys: map[applog.ID]dirKey{}}
}

// Note notes entry e: if it is a key entry, and later in its log than
// the key noted for it, its key becomes the log's. It reports whether
// the log's key changed.
func (d *Directory) Note(e applog.Entry) bool {
	if !IsKeyEntry(e.Data) {
		return false
	}
	k, err := ParseKeyEntry(e.Data)
	if err != nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	old, ok := d.keys[e.Log]
	if ok && old.seq >= e.Seq || !ok && d.max > 0 && len(d.keys) >= d.max {
		return false
	}
	d.keys[e.Log] = dirKey{seq: e.Seq, key: k}
	return true
}

// Key returns the newest key noted for log id and the seq of the entry
// that published it, or false when the log has published none (yet).
func (d *Directory) Key(id applog.ID) (PublicKey, uint64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, ok := d.keys[id]
	return k.key, k.seq, ok
}

// Recipient returns the recipient for log id: the log and its newest
// key, or false when it has published none.
func (d *Directory) Recipient(id applog.ID) (Recipient, bool) {
	k, _, ok := d.Key(id)
	return Recipient{Log: id, Key: k}, ok
}
