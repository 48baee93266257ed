package chat

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"scuttle/applog/replicate"
	"sync"

	"scuttle/applog"
	"scuttle/applog/blob"
)

// The files shared in the chat (package blob): /send copies a file into
// the store and appends its entry, sealed to the room typed lines go to;
// every file entry shown records its author as a source and, up to
// Config.FetchMax bytes, starts its fetch; /get starts any other. What
// the chat showed of files this run (shownFiles) is what /get and the web
// page's images may ask for.

// maxShownFiles bounds the files the chat remembers having shown: past
// it, the oldest is forgotten (its /get then says it was not shown).
const maxShownFiles = 4096

// A shownFile is a file entry the chat showed.
type shownFile struct {
	entry  blob.Entry
	author applog.ID
}

// shownFiles is the files shown this run, by content id, at most
// maxShownFiles, the oldest forgotten first.
type shownFiles struct {
	mu    sync.Mutex
	files map[blob.ID]shownFile
	order []blob.ID // a ring of the ids in files, oldest at next
	next  int
}

// add remembers f, written by author; a file shown again keeps its place.
func (s *shownFiles) add(f blob.Entry, author applog.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[blob.ID]shownFile{}
	}
	if _, ok := s.files[f.ID]; ok {
		s.files[f.ID] = shownFile{f, author}
		return
	}
	if len(s.order) < maxShownFiles {
		s.order = append(s.order, f.ID)
	} else {
		delete(s.files, s.order[s.next])
		s.order[s.next] = f.ID
		s.next = (s.next + 1) % maxShownFiles
	}
	s.files[f.ID] = shownFile{f, author}
}

// get returns the file of id, if the chat showed it.
func (s *shownFiles) get(id blob.ID) (shownFile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	return f, ok
}

// by returns the ids of the files shown whose author is one that pick
// picks.
func (s *shownFiles) by(pick func(applog.ID) bool) []blob.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []blob.ID
	for id, f := range s.files {
		if pick(f.author) {
			out = append(out, id)
		}
	}
	return out
}

// filesOff reports whether the chat has no store of files, and tells
// cmd's user in an info line when it has none.
func (c *Chat) filesOff(cmd string) bool {
	if c.cfg.Blobs == nil {
		c.info(cmd + ": files are off in this chat: it has no store of files")
		return true
	}
	return false
}

func (c *Chat) cmdSend(args []string) {
	if c.filesOff("/send") {
		return
	}
	path := args[0]
	room, inRoom := c.sealing.where()
	if inRoom && !c.sealOn("/send") {
		return
	}
	e, err := c.addFile(path, inRoom)
	if err != nil {
		c.info("/send: " + Escape(err.Error()) + ": not sent")
		return
	}
	if !inRoom {
		c.queue(e.Encode())
		return
	}
	if p := c.roomLine(room, string(e.Encode())); p != nil {
		c.queue(p)
	}
}

// addFile copies the file at path into the store, sealed with a new key
// if sealed, and returns its entry, the own log recorded as its source.
func (c *Chat) addFile(path string, sealed bool) (blob.Entry, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return blob.Entry{}, err
	}
	if !fi.Mode().IsRegular() {
		return blob.Entry{}, fmt.Errorf("%s is not a regular file", path)
	}
	head, err := readHead(path)
	if err != nil {
		return blob.Entry{}, err
	}
	store := c.cfg.Blobs
	var e blob.Entry
	if sealed {
		var m *blob.Manifest
		var key [blob.KeySize]byte
		if _, m, key, err = store.AddSealed(path); err == nil {
			e = blob.NewSealedEntry(path, m, key, head)
		}
	} else {
		var m *blob.Manifest
		if _, m, err = store.Add(path); err == nil {
			e = blob.NewEntry(path, m, head)
		}
	}
	if err != nil {
		return blob.Entry{}, err
	}
	c.addSource(e, c.cfg.DB.ID())
	return e, nil
}

// readHead returns the first 512 bytes of the file at path, for its
// media type.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil
	}
	return head[:n], err
}

// noteFile takes note of f, a file entry of author's log that l shows:
// it remembers it (shownFiles), records author as a source of its bytes
// (and the key of a sealed one), and starts fetching it if it is at most
// Config.FetchMax bytes and not here. An image the store holds complete
// is named in l.Image, for the web page to show.
func (c *Chat) noteFile(l *Line, f blob.Entry, author applog.ID) {
	c.files.add(f, author)
	store := c.cfg.Blobs
	if store == nil {
		return
	}
	c.addSource(f, author)
	if f.Sealed() {
		// Once the store holds something of it (it may not yet: the
		// fetch sets it again when done), so that scuttle get opens it.
		store.SetKey(f.ID, f.Key)
	}
	if c.complete(f.ID) {
		if inlineImage(f.Media) {
			l.Image = f.ID.String()
		}
		return
	}
	switch {
	case c.partial(f.ID):
		// A fetch of an earlier run, cut short (a crash, a restart):
		// asked for then, by the user or by itself, it resumes from the
		// blocks on disk, whatever its size.
		c.fetch(f.ID, false)
	case f.Size <= c.cfg.FetchMax:
		c.fetch(f.ID, true)
	}
}

// complete reports whether the store holds the file id complete. It
// looks for the complete file's name (blob's doc.go, "Store") instead of
// asking Have, which would re-hash a partial file on the way of the
// lines.
func (c *Chat) complete(id blob.ID) bool {
	fi, err := os.Lstat(filepath.Join(c.cfg.Blobs.Dir(), id.String()))
	return err == nil && fi.Mode().IsRegular()
}

// partial reports whether the store holds part of the file id: a fetch
// begun and not finished. It looks for the partial file's name, as
// complete does.
func (c *Chat) partial(id blob.ID) bool {
	fi, err := os.Lstat(filepath.Join(c.cfg.Blobs.Dir(), id.String()+".part"))
	return err == nil && fi.Mode().IsRegular()
}

// inlineImage reports whether a file of media type media may be shown
// as an image by the web page: PNG, JPEG, GIF and WebP, never SVG (a
// document that can hold script) nor anything else.
func inlineImage(media string) bool {
	t, _, err := mime.ParseMediaType(media)
	if err != nil {
		return false
	}
	switch t {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// maxAutoFetches bounds the fetches the chat started by itself
// (noteFile) that have not ended: a history of many small files, or a
// peer's flood of file entries, queues no more in the fetcher. A file
// shown past it is fetched on /get, or when a later run shows it again.
const maxAutoFetches = 256

// fetchSet is the fetches started and not ended (Done, or Forget).
type fetchSet struct {
	mu   sync.Mutex
	ids  map[blob.ID]bool // true: started by the chat itself
	auto int              // how many are true
}

// start notes the fetch of id, and reports whether it may be started:
// not if the chat starts it by itself (auto) and maxAutoFetches such
// fetches run already.
func (s *fetchSet) start(id blob.ID, auto bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[blob.ID]bool{}
	}
	if was, ok := s.ids[id]; ok {
		if was && !auto { // /get of a fetch started by itself: the user's now
			s.ids[id] = false
			s.auto--
		}
		return true
	}
	if auto && s.auto >= maxAutoFetches {
		return false
	}
	s.ids[id] = auto
	if auto {
		s.auto++
	}
	return true
}

// end forgets the fetch of id.
func (s *fetchSet) end(id blob.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if auto, ok := s.ids[id]; ok {
		delete(s.ids, id)
		if auto {
			s.auto--
		}
	}
}

// fetch starts fetching the file id, unless it is started by the chat
// itself (auto) and maxAutoFetches such fetches run already; it reports
// whether it did.
func (c *Chat) fetch(id blob.ID, auto bool) bool {
	if c.fetcher == nil || !c.fetching.start(id, auto) {
		return false
	}
	c.fetcher.Get(id)
	return true
}

// checkManifest refuses the manifest of a file that disagrees with the
// entry the chat showed of it (blob.Entry.Matches): an entry that claims
// a few bytes for the id of a large file would otherwise have it
// fetched whole under --fetch-max. It is the Fetcher's Check.
func (c *Chat) checkManifest(id blob.ID, m *blob.Manifest) error {
	f, ok := c.files.get(id)
	if !ok {
		return fmt.Errorf("no line of this run names %s", id)
	}
	return f.entry.Matches(m)
}

// begun records the author of a file whose fetch has begun as its
// source, and a sealed one's key, so that its blocks are served to
// others as they come, not only once it is complete. It is the
// Fetcher's Begun.
func (c *Chat) begun(id blob.ID) {
	f, ok := c.files.get(id)
	if !ok {
		return
	}
	c.addSource(f.entry, f.author)
	if f.entry.Sealed() {
		if err := c.cfg.Blobs.SetKey(id, f.entry.Key); err != nil {
			c.cfg.Log.Warn("chat: keeping a sealed file's key", "id", id, "err", err)
		}
	}
}

// fetched tells of the end of the fetch of id, complete (err nil) or
// given up: "NAME complete: scuttle get ID", or "NAME not fetched:
// ERR". It is the Fetcher's Done.
func (c *Chat) fetched(id blob.ID, err error) {
	c.fetching.end(id)
	f, ok := c.files.get(id)
	name := id.String()
	if ok {
		name = Escape(f.entry.Name)
	}
	if err != nil {
		c.info(fmt.Sprintf("%s not fetched: %s", name, Escape(err.Error())))
		return
	}
	l := Line{Kind: Info, Time: c.now(), Text: fmt.Sprintf("%s complete: scuttle get %s", name, id)}
	if ok {
		c.addSource(f.entry, f.author)
		if f.entry.Sealed() {
			if err := c.cfg.Blobs.SetKey(id, f.entry.Key); err != nil {
				c.cfg.Log.Warn("chat: keeping a sealed file's key", "id", id, "err", err)
			}
		}
	}
	if ok && inlineImage(f.entry.Media) {
		l.Image = id.String()
	}
	c.show(l)
	c.flush()
}

func (c *Chat) cmdGet(args []string) {
	if c.filesOff("/get") {
		return
	}
	id, err := blob.ParseID(args[0])
	if err != nil {
		c.info("/get: " + Escape(err.Error()))
		return
	}
	f, ok := c.files.get(id)
	if !ok {
		c.info(fmt.Sprintf("/get: no file %s was shown in this chat: /get takes the id of a [file] line", id))
		return
	}
	name := Escape(f.entry.Name)
	if st, err := c.cfg.Blobs.Have(id); err == nil && st.Complete {
		c.info(fmt.Sprintf("%s is here: scuttle get %s", name, id))
		return
	}
	c.fetch(id, false)
	c.info(fmt.Sprintf("fetching %s (%s) from the peers that hold it", name, blob.FormatSize(f.entry.Size)))
}

// served returns what the chat's sessions serve of the store's files:
// nil without a store.
func (c *Chat) served() replicate.Blobs {
	if c.cfg.Blobs == nil {
		return nil
	}
	return servedBlobs{c}
}

// servedBlobs is the store as peers may read it: only whole, verified
// blocks (blob.Store.ReadBlock) of files whose entries this database
// holds, of an author it has not blocked.
type servedBlobs struct{ c *Chat }

func (s servedBlobs) Manifest(id blob.ID) (*blob.Manifest, error) {
	if !s.c.serves(id) {
		return nil, fmt.Errorf("%w: %s is not served", blob.ErrNotFound, id)
	}
	return s.c.cfg.Blobs.Manifest(id)
}

func (s servedBlobs) ReadBlock(m *blob.Manifest, i int, buf []byte) ([]byte, error) {
	if !s.c.serves(m.ID()) {
		return nil, fmt.Errorf("%w: %s is not served", blob.ErrNotFound, m.ID())
	}
	return s.c.cfg.Blobs.ReadBlock(m, i, buf)
}
