package applog

import (
	"container/list"
	"errors"
	"os"
	"strings"
	"sync"
)

// fileCache holds the per-log files (segments and indexes) a DB has
// open, so that the number of open files does not grow with the number
// of logs. Every use of a file holds a reference (acquire … release);
// a file nobody holds is idle, and idle files beyond limit are closed,
// least recently used first. A file a round is still writing or syncing
// is held by that round, so it is never closed under it.
//
// Closing a file loses nothing written to it (the data is in the page
// cache), but only a sync through an open descriptor makes it durable:
// the writer syncs every segment a round wrote before the round lets go
// of it, and an index it closes unsynced is recorded as such by the
// checkpoint (see writeCheckpoint), so the next open checks it.
type fileCache struct {
	flag  int        // os.O_RDWR for a writer, os.O_RDONLY for a reader
	limit int        // idle files kept open
	fs    fileSystem // opens the files

	mu     sync.Mutex
	files  map[string]*cachedFile
	idle   list.List // of *cachedFile, least recently used at the front
	closed bool
}

// cachedFile is one open file of a fileCache.
type cachedFile struct {
	*os.File
	path string
	refs int
	elem *list.Element // in idle while refs == 0
}

// maxIdleFiles is how many per-log files a DB keeps open while nobody
// uses them.
const maxIdleFiles = 64

func newFileCache(fs fileSystem, flag, limit int) *fileCache {
	return &fileCache{fs: fs, flag: flag, limit: limit, files: make(map[string]*cachedFile)}
}

// acquire returns the open file at path, opening it if needed (creating
// it if create), with a reference the caller must release.
func (c *fileCache) acquire(path string, create bool) (*cachedFile, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if cf := c.files[path]; cf != nil {
		c.hold(cf)
		c.mu.Unlock()
		return cf, nil
	}
	c.mu.Unlock()
	flag := c.flag
	if create {
		flag |= os.O_CREATE
	}
	f, err := c.fs.openFile(path, flag, 0o644)
	if err != nil {
		return nil, err
	}
	return c.adopt(path, f)
}

// adopt adds f, just opened at path, with a reference for the caller.
// If the path is open already, f is closed and the open file returned.
func (c *fileCache) adopt(path string, f *os.File) (*cachedFile, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		f.Close()
		return nil, ErrClosed
	}
	if cf := c.files[path]; cf != nil {
		c.hold(cf)
		c.mu.Unlock()
		f.Close()
		return cf, nil
	}
	cf := &cachedFile{File: f, path: path, refs: 1}
	c.files[path] = cf
	evict := c.evictLocked()
	c.mu.Unlock()
	closeAll(evict)
	return cf, nil
}

// hold adds a reference to cf. Caller holds c.mu.
func (c *fileCache) hold(cf *cachedFile) {
	if cf.refs == 0 && cf.elem != nil {
		c.idle.Remove(cf.elem)
		cf.elem = nil
	}
	cf.refs++
}

// release drops a reference; nil is ignored.
func (c *fileCache) release(cf *cachedFile) {
	if cf == nil {
		return
	}
	c.mu.Lock()
	cf.refs--
	var evict []*cachedFile
	if cf.refs == 0 {
		if c.closed || c.files[cf.path] != cf {
			evict = []*cachedFile{cf}
		} else {
			cf.elem = c.idle.PushBack(cf)
			evict = c.evictLocked()
		}
	}
	c.mu.Unlock()
	closeAll(evict)
}

// acquireOpen is acquire of a file that is open now, and nil if it is
// not: for syncing what is still open without opening it again.
func (c *fileCache) acquireOpen(path string) (*cachedFile, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	cf := c.files[path]
	if cf != nil {
		c.hold(cf)
	}
	return cf, nil
}

// evictLocked removes idle files beyond the limit and returns them, to
// be closed outside the lock. Caller holds c.mu.
func (c *fileCache) evictLocked() []*cachedFile {
	var out []*cachedFile
	for c.idle.Len() > c.limit {
		cf := c.idle.Remove(c.idle.Front()).(*cachedFile)
		cf.elem = nil
		delete(c.files, cf.path)
		out = append(out, cf)
	}
	return out
}

// dropDir forgets every file under dir (a log being deleted, see
// dropLog): idle ones are closed now, held ones when released, and the
// next acquire opens the path again.
func (c *fileCache) dropDir(dir string) {
	prefix := dir + string(os.PathSeparator)
	c.mu.Lock()
	var out []*cachedFile
	for p, cf := range c.files {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		delete(c.files, p)
		if cf.refs == 0 {
			if cf.elem != nil {
				c.idle.Remove(cf.elem)
				cf.elem = nil
			}
			out = append(out, cf)
		}
	}
	c.mu.Unlock()
	closeAll(out)
}

// close closes every idle file now and every held one when released.
func (c *fileCache) close() error {
	c.mu.Lock()
	c.closed = true
	var out []*cachedFile
	for p, cf := range c.files {
		if cf.refs == 0 {
			out = append(out, cf)
		}
		delete(c.files, p)
	}
	c.idle.Init()
	c.mu.Unlock()
	var errs []error
	for _, cf := range out {
		errs = append(errs, cf.Close())
	}
	return errors.Join(errs...)
}

func closeAll(cfs []*cachedFile) {
	for _, cf := range cfs {
		cf.Close()
	}
}
