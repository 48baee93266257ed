package names

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/applog/internal/osfile"
)

// FileName is the store's file in the database directory.
const FileName = "names"

// DefaultMaxBindings is the number of Direct bindings a store holds
// when Options.MaxBindings is 0.
const DefaultMaxBindings = 10000

// DefaultMaxClaimed is the number of Claimed bindings a store holds
// when Options.MaxClaimed is 0.
const DefaultMaxClaimed = 1000

// Recheck is how often Lookup looks for records another process
// appended.
const Recheck = time.Second

// Options configures Open. A nil *Options means the defaults.
type Options struct {
	// MaxBindings bounds the Direct bindings; 0 means
	// DefaultMaxBindings. Beyond it, Bind returns ErrFull for a Direct
	// binding of a new name.
	MaxBindings int
	// MaxClaimed bounds the Claimed bindings held, and the Claimed
	// records written to the file; 0 means DefaultMaxClaimed. Beyond it,
	// a new claim evicts the oldest.
	MaxClaimed int
	// Logger receives a Warn for each damaged record skipped, and
	// failures of the background checks of Lookup; nil discards them.
	Logger *slog.Logger
	// Now is the clock of the bindings' times; nil means time.Now.
	Now func() time.Time
}

// A Store is the bindings of one database directory (DIR/names). It is
// safe for concurrent use, and other processes may write the same file
// meanwhile (see the package doc). A Store holds no open file, so it has
// no Close.
type Store struct {
	path string
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	st      state       // the bindings in force
	claimed int         // Claimed records in the bytes replayed
	read    int64       // bytes of the file replayed: up to the end of its last complete line
	seen    os.FileInfo // the file as last replayed; nil if it did not exist
	checked time.Time   // when Lookup last looked at the file
	damaged int
	skip    bool   // the bytes read so far end inside an overlong line
	buf     []byte // scratch for reading
}

// Open returns the store of the database directory dir, replaying its
// file. A missing file is an empty store, and Open never creates it
// (the first Bind does), so it serves read-only callers too.
func Open(dir string, opts *Options) (*Store, error) {
	s := &Store{path: filepath.Join(dir, FileName)}
	var maxDirect, maxClaimed int
	if opts != nil {
		maxDirect, maxClaimed, s.log, s.now = opts.MaxBindings, opts.MaxClaimed, opts.Logger, opts.Now
	}
	if maxDirect <= 0 {
		maxDirect = DefaultMaxBindings
	}
	if maxClaimed <= 0 {
		maxClaimed = DefaultMaxClaimed
	}
	s.st = newState(maxDirect, maxClaimed)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// Lookup returns the binding of name, if any: the binding of the name
// with name's skeleton (see Skeleton), so that a look-alike of a bound
// name finds that name's binding. At most once per Recheck it first
// replays what other processes appended to the file.
func (s *Store) Lookup(name string) (Binding, bool) {
	key := Skeleton(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := time.Now(); now.Sub(s.checked) >= Recheck {
		s.checked = now
		if err := s.reloadLocked(); err != nil {
			s.log.Warn("names: reload failed", "file", s.path, "err", err)
		}
	}
	b, ok := s.st.byKey[key]
	return b, ok
}

// Bind binds name to id, learned as how, and returns the binding in
// force for name afterwards (the zero Binding if none), which the
// caller compares with id. Names are one name when their skeletons are
// (see Skeleton). The rules, by the weight of the evidence:
//
//   - Trusted: the binding is recorded and replaces any other (unless it
//     is Trusted to id already).
//   - Direct: if name is bound Direct or Trusted, nothing is written and
//     that binding is returned (first binding wins; it may be another
//     log's). If name is unbound or only Claimed, the binding is
//     recorded, unless MaxBindings Direct bindings are held (ErrFull).
//   - Claimed: only an unbound name is claimed, and only by a log that
//     has no binding yet (a log claims at most one name). The oldest
//     claim is evicted beyond MaxClaimed. Past MaxClaimed Claimed
//     records in the file, a claim is held in this Store's memory only.
//
// Bind first replays what other processes appended, and again after its
// own record, so the binding returned is the one the file says: if
// another process bound name first, its binding is returned.
func (s *Store) Bind(name string, id applog.ID, how How) (Binding, error) {
	if err := checkName(name); err != nil {
		return Binding{}, err
	}
	if _, err := applog.ParseID(string(id)); err != nil {
		return Binding{}, fmt.Errorf("names: bind %q: %w", name, err)
	}
	if _, ok := parseHow(how.String()); !ok {
		return Binding{}, fmt.Errorf("names: bind %q: unknown how %d", name, how)
	}
	key := Skeleton(name)
	b := Binding{Name: name, ID: id, How: how, Time: s.now().UTC().Truncate(time.Second)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if how == Claimed {
		// A claim reads nothing first, and past the file's share of
		// claims writes nothing: a log that makes up names costs no
		// system call per name.
		switch {
		case !s.st.applies(key, b):
			return s.st.byKey[key], nil
		case s.claimed >= s.st.maxClaimed:
			s.st.apply(b)
			return b, nil
		}
	}
	if err := s.reloadLocked(); err != nil {
		return Binding{}, err
	}
	if !s.st.applies(key, b) {
		cur, bound := s.st.byKey[key]
		if how == Direct && (!bound || cur.How == Claimed) {
			return cur, fmt.Errorf("%w: %d direct bindings; %q not recorded", ErrFull, s.st.direct, name)
		}
		return cur, nil
	}
	if err := s.append(appendRecord(nil, b), how != Claimed); err != nil {
		return Binding{}, err
	}
	if err := s.reloadLocked(); err != nil {
		return Binding{}, err
	}
	return s.st.byKey[key], nil
}

// A Change is what Trust did to a name: its binding before, if it had
// one, and after.
type Change struct {
	Old Binding // the binding before, if Had
	Had bool
	New Binding
}

// Trust binds name to id as Trusted, replacing what was known of name
// (see Bind), and returns the change: the user's word, as scuttle trust
// and the chat's /trust give it.
func (s *Store) Trust(name string, id applog.ID) (Change, error) {
	old, had := s.Lookup(name)
	b, err := s.Bind(name, id, Trusted)
	if err != nil {
		return Change{}, err
	}
	return Change{Old: old, Had: had, New: b}, nil
}

// append writes rec at the end of the file in one write, creating the
// file if needed, and with sync makes it durable.
func (s *Store) append(rec []byte, sync bool) error {
	f, err := osfile.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("names: %w", err)
	}
	_, err = f.Write(rec)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("names: append to %s: %w", s.path, err)
	}
	return nil
}

// NameOf returns the binding of a name to id that best names it, if
// any: of the names bound to id, the one learned with the strongest
// evidence (Trusted, then Direct, then Claimed), the first by skeleton
// among equals.
func (s *Store) NameOf(id applog.ID) (Binding, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.nameOf(id)
}

// Bindings returns every binding, sorted by name.
func (s *Store) Bindings() []Binding {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Binding, 0, len(s.st.byKey))
	for _, b := range s.st.byKey {
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Binding) int { return strings.Compare(lowerASCII(a.Name), lowerASCII(b.Name)) })
	return out
}

// Damaged returns how many damaged records replays have skipped so far
// (a record replayed twice, after the file was replaced, counts twice).
func (s *Store) Damaged() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.damaged
}

// Reload replays at once what other processes appended to the file.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checked = time.Now()
	return s.reloadLocked()
}

// reloadLocked brings the state up to the file: nothing if its size and
// time are unchanged, its new bytes if it grew, all of it if it shrank or
// is another file. Caller holds mu.
func (s *Store) reloadLocked() error {
	f, err := osfile.OpenFile(s.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if s.seen != nil { // removed: no bindings any more
			s.reset()
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("names: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("names: %w", err)
	}
	if s.seen != nil && os.SameFile(s.seen, fi) && fi.Size() == s.seen.Size() && fi.ModTime().Equal(s.seen.ModTime()) {
		return nil
	}
	if s.seen == nil || !os.SameFile(s.seen, fi) || fi.Size() < s.read {
		s.reset()
	}
	if _, err := f.Seek(s.read, io.SeekStart); err != nil {
		return fmt.Errorf("names: %w", err)
	}
	if err := s.replay(f); err != nil {
		return fmt.Errorf("names: reading %s: %w", s.path, err)
	}
	s.seen = fi
	return nil
}

func (s *Store) reset() {
	s.st.reset()
	s.claimed, s.read, s.seen, s.skip = 0, 0, nil, false
}

// replay applies the complete records of r, which starts at s.read, in
// chunks, and advances s.read past them.
func (s *Store) replay(r io.Reader) error {
	if s.buf == nil {
		s.buf = make([]byte, 0, 64<<10)
	}
	buf := s.buf[:0]
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		used := scanLines(buf, func(off int, line []byte, partial bool) {
			switch {
			case s.skip: // the rest of an overlong line, reported already
				s.skip = partial
			case partial:
				s.apply(s.read+int64(off), line) // reports it as too long
				s.skip = true
			default:
				s.apply(s.read+int64(off), line)
			}
		})
		s.read += int64(used)
		buf = buf[:copy(buf, buf[used:])]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// apply replays one line found at offset off (see the package doc).
func (s *Store) apply(off int64, line []byte) {
	if len(line) == 0 {
		return
	}
	b, err := parseRecord(line)
	if err != nil {
		s.damaged++
		s.log.Warn("names: skipping a damaged record", "file", s.path, "offset", off, "err", err)
		return
	}
	if b.How == Claimed {
		s.claimed++
	}
	s.st.apply(b)
}

// lowerASCII folds ASCII letters to lower case, as DNS compares names.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
