package blob

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/internal/osfile"
)

// Options are a store's limits. The zero value sets none but the
// free-space floor.
type Options struct {
	// MaxBytes is the store's quota: Add and Begin refuse a file that
	// would take the bytes of its files, complete and partial (at their
	// full size), past it. 0 means no quota.
	MaxBytes int64
	// FreeSpace returns the bytes available and the size of the file
	// system holding dir; nil reads the file system's (statfs). Add and
	// Begin refuse a file that would leave less than
	// applog.FreeSpaceFloor(total) available. An error means unknown,
	// and nothing is refused for it. Tests set it.
	FreeSpace func(dir string) (avail, total uint64, err error)
}

// maxLoaded bounds the partial files whose state (manifest and bitmap of
// held blocks) a Store keeps in memory; beyond it one is forgotten, to be
// re-hashed when it is next used.
const maxLoaded = 32

// A Store is the blobs/ directory of a database: complete files under
// their id, partial ones as id.part, and each one's manifest as id.man
// (see doc.go). Its methods may be called from several goroutines at
// once. Other processes may Add, Open, Have and List meanwhile; only one
// process at a time, the database's writer, may Begin and WriteBlock.
type Store struct {
	dir  string
	opts Options

	mu     sync.Mutex
	loaded map[ID]*partial

	finishing sync.Mutex // held by finish: one rename per file
	srcMu     sync.Mutex // held while a sources file is read and replaced
}

// partial is the state of a partial file: its manifest and which of its
// blocks are in id.part, verified.
type partial struct {
	m    *Manifest
	have []uint64 // bit i: block i is written and verified
	held int      // set bits in have
}

func (p *partial) has(i int) bool { return p.have[i/64]&(1<<(i%64)) != 0 }

func (p *partial) set(i int) {
	if !p.has(i) {
		p.have[i/64] |= 1 << (i % 64)
		p.held++
	}
}

// Open opens the store of the database in dbDir, making dbDir/blobs
// (mode 0700) if it is not there. It refuses a blobs that is a symbolic
// link (ErrSymlink) or not a directory, and drops the group and other
// bits of its mode. Temporary files older than an hour, left by an Add
// that did not finish, are removed.
func Open(dbDir string, opts *Options) (*Store, error) {
	s := &Store{dir: filepath.Join(dbDir, "blobs"), loaded: make(map[ID]*partial)}
	if opts != nil {
		s.opts = *opts
	}
	fi, err := os.Lstat(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(dbDir); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
		if err := os.Mkdir(s.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("blob: %w", err)
		}
		fi, err = os.Lstat(s.dir)
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("blob: %w", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("blob: %s: %w", s.dir, ErrSymlink)
	case !fi.IsDir():
		return nil, fmt.Errorf("blob: %s is not a directory", s.dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && privateModes {
		if err := os.Chmod(s.dir, perm&0o700); err != nil {
			return nil, fmt.Errorf("blob: making %s private: %w", s.dir, err)
		}
	}
	s.removeStale(time.Hour)
	return s, nil
}

// tmpPrefix begins the names of the files Add copies into.
const tmpPrefix = "tmp-"

// removeStale removes the temporary files older than age.
func (s *Store) removeStale(age time.Duration) {
	des, _ := os.ReadDir(s.dir)
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), tmpPrefix) {
			continue
		}
		if fi, err := de.Info(); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > age {
			os.Remove(filepath.Join(s.dir, de.Name()))
		}
	}
}

// Dir returns the store's directory, dbDir/blobs.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(id ID, ext string) string { return filepath.Join(s.dir, id.String()+ext) }

// Add copies the file at path into the store, a block at a time (one
// buffer of BlockSize bytes), and returns its id and manifest. A file
// the store already holds is not stored twice. The quota and the
// free-space floor are checked against the file's size before anything
// is copied.
func (s *Store) Add(path string) (ID, *Manifest, error) {
	return s.add(path, nil)
}

// add is Add, and AddSealed with key: the file is then sealed with key
// as it is copied (sealCopy), and its key is kept as id.key.
func (s *Store) add(path string, key *[KeySize]byte) (ID, *Manifest, error) {
	src, err := os.Open(path)
	if err != nil {
		return ID{}, nil, fmt.Errorf("blob: %w", err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return ID{}, nil, fmt.Errorf("blob: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return ID{}, nil, fmt.Errorf("blob: %s is not a regular file", path)
	}
	size, limit := fi.Size(), int64(MaxSize)
	if key != nil {
		limit = MaxSealedSize
	}
	if size > limit {
		return ID{}, nil, fmt.Errorf("%w: %s has %d bytes, the limit is %d", ErrTooLarge, path, size, limit)
	}
	if key != nil {
		size = sealedSize(size)
	}
	if err := s.reserve(size); err != nil {
		return ID{}, nil, fmt.Errorf("adding %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return ID{}, nil, fmt.Errorf("blob: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails once renamed
	var m *Manifest
	if key == nil {
		m, err = copyHashing(tmp, src, make([]byte, BlockSize), MaxSize)
	} else {
		m, err = sealCopy(tmp, src, key)
	}
	if err == nil {
		err = osfile.Fdatasync(tmp)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ID{}, nil, fmt.Errorf("blob: adding %s: %w", path, err)
	}
	id := m.ID()
	if err := s.writeManifest(id, m); err != nil {
		return ID{}, nil, err
	}
	if key != nil {
		if err := s.SetKey(id, *key); err != nil {
			return ID{}, nil, err
		}
	}
	if fi, err := os.Lstat(s.path(id, "")); err == nil && fi.Mode().IsRegular() {
		return id, m, nil // held already; the copy is removed
	}
	if err := osfile.Rename(tmp.Name(), s.path(id, "")); err != nil {
		return ID{}, nil, fmt.Errorf("blob: %w", err)
	}
	s.forget(id)
	os.Remove(s.path(id, partExt))
	if err := osfile.SyncDir(s.dir); err != nil {
		return ID{}, nil, fmt.Errorf("blob: %w", err)
	}
	return id, m, nil
}

// The extensions of a file's names in the store beside the complete
// file's, which is its id alone.
const (
	partExt     = ".part" // the partial file
	manifestExt = ".man"  // its manifest
	sourcesExt  = ".src"  // the logs whose entries name it (sources.go)
	keyExt      = ".key"  // a sealed file's key (sealed.go)
)

// writeManifest stores m as id.man, atomically and durably, unless it is
// there.
func (s *Store) writeManifest(id ID, m *Manifest) error {
	p := s.path(id, manifestExt)
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	b, _ := m.MarshalBinary()
	return s.writeSmall(p, b) // its error names the path, id.man
}

// Manifest returns the manifest of a file the store holds, complete or
// partial, checked against its id.
func (s *Store) Manifest(id ID) (*Manifest, error) {
	f, err := osfile.OpenFile(s.path(id, manifestExt), os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(headerLen+MaxBlocks*sha256.Size+1)))
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	m, err := ParseManifest(b)
	if err == nil {
		err = m.Check(id)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: %s: %w", f.Name(), err)
	}
	return m, nil
}

// reserve returns an error if size more bytes would take the store past
// its quota or the file system below the free-space floor.
func (s *Store) reserve(size int64) error {
	if s.opts.MaxBytes > 0 {
		used, err := s.used()
		if err != nil {
			return err
		}
		if used+size > s.opts.MaxBytes {
			return fmt.Errorf("%w: %d bytes held and %d more asked, the quota is %d", ErrQuota, used, size, s.opts.MaxBytes)
		}
	}
	free := s.opts.FreeSpace
	if free == nil {
		free = diskFree
	}
	avail, total, err := free(s.dir)
	if err == nil && total > 0 {
		floor := applog.FreeSpaceFloor(total)
		if avail < floor || avail-floor < uint64(size) {
			return fmt.Errorf("%w: %d bytes asked, %d available on the file system of %s, the floor is %d", ErrLowSpace, size, avail, s.dir, floor)
		}
	}
	return nil
}

// used returns the bytes of the store's files: complete files, partial
// ones at their full size (Begin sets it), manifests and temporary files.
func (s *Store) used() (int64, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("blob: %w", err)
	}
	var n int64
	for _, de := range des {
		if fi, err := de.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n, nil
}

// Begin makes room for the file of manifest m, to be filled by
// WriteBlock: it stores the manifest and creates id.part at the file's
// size (sparse where the file system allows). The quota and the
// free-space floor are checked against the size m claims. Begin of a
// file the store holds, complete or partial, does nothing. An empty file
// is complete at once.
func (s *Store) Begin(m *Manifest) error {
	id := m.ID()
	if _, err := os.Lstat(s.path(id, "")); err == nil {
		return nil
	}
	if _, err := os.Lstat(s.path(id, partExt)); err == nil {
		return nil
	}
	if err := s.reserve(m.Size()); err != nil {
		return fmt.Errorf("fetching %s: %w", id, err)
	}
	if err := s.writeManifest(id, m); err != nil {
		return err
	}
	name := s.path(id, partExt)
	if m.Size() == 0 {
		name = s.path(id, "")
	}
	f, err := osfile.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	err = f.Truncate(m.Size())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("blob: %w", err)
	}
	if m.Size() > 0 {
		// A new file holds no block: its state is known without
		// re-hashing the whole (sparse) file at the first WriteBlock.
		s.keep(id, &partial{m: m, have: make([]uint64, (m.Blocks()+63)/64)})
	}
	return osfile.SyncDir(s.dir)
}

// state returns the state of the partial file id, loading it if need be
// (the manifest, then a re-hash of every block of id.part); nil if id is
// complete. It fails with ErrNotFound if the store holds neither.
func (s *Store) state(id ID) (*partial, error) {
	s.mu.Lock()
	p := s.loaded[id]
	s.mu.Unlock()
	if p != nil {
		return p, nil
	}
	if fi, err := os.Lstat(s.path(id, "")); err == nil && fi.Mode().IsRegular() {
		return nil, nil
	}
	m, err := s.Manifest(id)
	if err != nil {
		return nil, err
	}
	p, err = s.rehash(id, m)
	if p == nil || err != nil {
		return nil, err
	}
	if p.held == m.Blocks() { // written whole before a crash, or by a state forgotten since
		return nil, s.finish(id)
	}
	return s.keep(id, p), nil
}

// keep keeps p as the state of id, unless one was loaded meanwhile,
// which it returns; beyond maxLoaded states one is forgotten.
func (s *Store) keep(id ID, p *partial) *partial {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.loaded[id]; q != nil {
		return q // loaded meanwhile
	}
	if len(s.loaded) >= maxLoaded {
		for k := range s.loaded { // forget one, at random
			delete(s.loaded, k)
			break
		}
	}
	s.loaded[id] = p
	return p
}

// rehash reads id.part a block at a time (one buffer) and returns which
// blocks hold what m says: how a fetch resumes after a crash, whatever
// was or was not synced. It returns nil if the file is complete.
func (s *Store) rehash(id ID, m *Manifest) (*partial, error) {
	n := m.Blocks()
	p := &partial{m: m, have: make([]uint64, (n+63)/64)}
	f, err := osfile.OpenFile(s.path(id, partExt), os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Lstat(s.path(id, "")); serr == nil {
			return nil, nil // completed meanwhile
		}
		return nil, fmt.Errorf("%w: %s has a manifest but no data", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	defer f.Close()
	buf := make([]byte, BlockSize)
	for i := range n {
		b := buf[:m.BlockLen(i)]
		if _, err := f.ReadAt(b, int64(i)*BlockSize); err != nil {
			if err == io.EOF {
				break // a file cut short: the rest is missing
			}
			return nil, fmt.Errorf("blob: re-hashing %s: %w", f.Name(), err)
		}
		if sha256.Sum256(b) == m.Hash(i) {
			p.set(i)
		}
	}
	return p, nil
}

// forget drops the state of id.
func (s *Store) forget(id ID) {
	s.mu.Lock()
	delete(s.loaded, id)
	s.mu.Unlock()
}

// WriteBlock writes block i of the partial file id, begun by Begin,
// after checking that data is that block: its length and its SHA-256
// are those of the manifest. A bad block is refused with an error
// matching ErrBadBlock that names the block and both hashes, and nothing
// is written. A block already here is not written again. Once every
// block is here the file is synced and renamed complete.
func (s *Store) WriteBlock(id ID, i int, data []byte) error {
	p, err := s.state(id)
	if err != nil {
		return err
	}
	if p == nil {
		return nil // complete
	}
	m := p.m
	if i < 0 || i >= m.Blocks() {
		return fmt.Errorf("%w: block %d of %s, which has %d blocks", ErrBadBlock, i, id, m.Blocks())
	}
	if len(data) != m.BlockLen(i) {
		return fmt.Errorf("%w: block %d of %s has %d bytes, want %d", ErrBadBlock, i, id, len(data), m.BlockLen(i))
	}
	if got, want := sha256.Sum256(data), m.Hash(i); got != want {
		return fmt.Errorf("%w: block %d of %s: hash %x, want %x", ErrBadBlock, i, id, got, want)
	}
	s.mu.Lock()
	done := p.has(i)
	s.mu.Unlock()
	if done {
		return nil
	}
	f, err := osfile.OpenFile(s.path(id, partExt), os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Lstat(s.path(id, "")); serr == nil {
			return nil // completed meanwhile, by the other writers of its blocks
		}
	}
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	_, err = f.WriteAt(data, int64(i)*BlockSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("blob: writing block %d of %s: %w", i, id, err)
	}
	s.mu.Lock()
	p.set(i)
	complete := p.held == m.Blocks()
	if complete && s.loaded[id] == p {
		delete(s.loaded, id)
	}
	s.mu.Unlock()
	if complete {
		return s.finish(id)
	}
	return nil
}

// finish syncs the complete id.part and renames it id. Several callers
// may finish a file: the first does, the others find it done.
func (s *Store) finish(id ID) error {
	s.finishing.Lock()
	defer s.finishing.Unlock()
	part := s.path(id, partExt)
	f, err := osfile.OpenFile(part, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Lstat(s.path(id, "")); err == nil {
			return nil // finished by another goroutine or process
		}
	}
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	err = osfile.Fdatasync(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = osfile.Rename(part, s.path(id, ""))
	}
	if err == nil {
		err = osfile.SyncDir(s.dir)
	}
	if err != nil {
		return fmt.Errorf("blob: completing %s: %w", id, err)
	}
	return nil
}

// Status is what the store holds of a file.
type Status struct {
	ID       ID
	Size     int64 // the whole file's
	Blocks   int   // the whole file's
	Held     int   // blocks here, verified
	Complete bool
	have     []uint64
}

// Has reports whether block i is here.
func (st Status) Has(i int) bool {
	if st.Complete {
		return i >= 0 && i < st.Blocks
	}
	return i >= 0 && i < st.Blocks && st.have[i/64]&(1<<(i%64)) != 0
}

// HeldBytes returns the bytes of the blocks here.
func (st Status) HeldBytes() int64 {
	if st.Complete {
		return st.Size
	}
	n := int64(st.Held) * BlockSize
	if st.Has(st.Blocks - 1) { // the last block is short
		n -= int64(st.Blocks)*BlockSize - st.Size
	}
	return n
}

// Have returns what the store holds of id: which blocks, and whether the
// file is complete. It fails with ErrNotFound if it holds nothing of it.
func (s *Store) Have(id ID) (Status, error) {
	p, err := s.state(id)
	if err != nil {
		return Status{}, err
	}
	if p == nil {
		fi, err := os.Lstat(s.path(id, ""))
		if err != nil {
			return Status{}, fmt.Errorf("blob: %w", err)
		}
		n := int(blocksFor(fi.Size(), BlockSize))
		return Status{ID: id, Size: fi.Size(), Blocks: n, Held: n, Complete: true}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	held := 0
	for _, w := range p.have {
		held += bits.OnesCount64(w)
	}
	return Status{ID: id, Size: p.m.Size(), Blocks: p.m.Blocks(), Held: held, have: append([]uint64(nil), p.have...)}, nil
}

// Open opens the complete file id for reading. A file whose blocks are
// not all here fails with ErrIncomplete, saying how many are.
func (s *Store) Open(id ID) (*os.File, error) {
	f, err := osfile.OpenFile(s.path(id, ""), os.O_RDONLY, 0)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob: %w", err)
	}
	st, herr := s.Have(id)
	if herr != nil {
		return nil, herr
	}
	return nil, fmt.Errorf("%w: %s: %d of %d blocks here (%d of %d bytes)", ErrIncomplete, id, st.Held, st.Blocks, st.HeldBytes(), st.Size)
}

// Remove deletes everything the store holds of id: the file, complete
// or partial, its manifest, its sources and its key. It fails with
// ErrNotFound if that is nothing.
func (s *Store) Remove(id ID) error {
	s.forget(id)
	found := false
	for _, ext := range []string{"", partExt, manifestExt, sourcesExt, keyExt} {
		err := os.Remove(s.path(id, ext))
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("blob: %w", err)
		}
	}
	if !found {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return osfile.SyncDir(s.dir)
}

// List returns what the store holds of each file, complete or partial,
// sorted by id. The state of a partial file not loaded is found by
// re-hashing it.
func (s *Store) List() ([]Status, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	seen := make(map[ID]bool)
	var out []Status
	for _, de := range des {
		name := strings.TrimSuffix(de.Name(), partExt)
		id, err := ParseID(name)
		if err != nil || seen[id] || !de.Type().IsRegular() {
			continue
		}
		seen[id] = true
		st, err := s.Have(id)
		if errors.Is(err, ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].ID[:]) < string(out[j].ID[:]) })
	return out, nil
}

// ReadBlock reads block i of the file of manifest m (from Manifest) into
// buf, which must hold BlockSize bytes, and returns it, after checking it
// against its hash: what a peer serves is whole and verified. The file
// may be partial if the block is here. A block damaged on disk fails
// with ErrBadBlock; one not here with ErrIncomplete.
func (s *Store) ReadBlock(m *Manifest, i int, buf []byte) ([]byte, error) {
	id := m.ID()
	if i < 0 || i >= m.Blocks() {
		return nil, fmt.Errorf("%w: block %d of %s, which has %d blocks", ErrBadBlock, i, id, m.Blocks())
	}
	p, err := s.state(id)
	if err != nil {
		return nil, err
	}
	name := s.path(id, "")
	if p != nil {
		s.mu.Lock()
		here := p.has(i)
		s.mu.Unlock()
		if !here {
			return nil, fmt.Errorf("%w: block %d of %s is not here", ErrIncomplete, i, id)
		}
		name = s.path(id, partExt)
	}
	f, err := osfile.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) && p != nil { // completed meanwhile
		f, err = osfile.OpenFile(s.path(id, ""), os.O_RDONLY, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	defer f.Close()
	b := buf[:m.BlockLen(i)]
	if _, err := f.ReadAt(b, int64(i)*BlockSize); err != nil {
		return nil, fmt.Errorf("blob: reading block %d of %s: %w", i, id, err)
	}
	if got, want := sha256.Sum256(b), m.Hash(i); got != want {
		return nil, fmt.Errorf("%w: block %d of %s is damaged on disk: hash %x, want %x", ErrBadBlock, i, id, got, want)
	}
	return b, nil
}
