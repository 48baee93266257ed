package blob

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"scuttle/applog"
)

// Sources: which logs' entries name a file. A peer serves a file only
// while it holds the log of an author who shared it and has not blocked
// it (Serves), and blocking a log deletes the files no other log names
// (Purge). See doc.go, "Sources".

// MaxSources bounds the logs recorded as naming one file, so that a
// file's sources file stays small whoever names it: past it AddSource
// records no more, and the file is kept for the sources it has.
const MaxSources = 16

// sourcesMagic opens a sources file.
const sourcesMagic = "scuttle blob sources v1\n"

// maxSourcesLen is the longest sources file: the magic and MaxSources
// lines of an id and a newline.
const maxSourcesLen = len(sourcesMagic) + MaxSources*(52+1)

// ErrTooManySources is matched by the error of AddSource for a file
// already named by MaxSources logs: the log is not recorded, and nothing
// else changes.
var ErrTooManySources = errors.New("blob: too many sources")

// encodeSources returns the sources file of ids, which are sorted,
// unique and at most MaxSources.
func encodeSources(ids []applog.ID) []byte {
	b := make([]byte, 0, len(sourcesMagic)+len(ids)*53)
	b = append(b, sourcesMagic...)
	for _, a := range ids {
		b = append(b, a...)
		b = append(b, '\n')
	}
	return b
}

// parseSources parses a sources file: the magic, then at most MaxSources
// lines, each a log id (applog.ParseID), in increasing order, each
// ended by a newline. Anything else is an error.
func parseSources(b []byte) ([]applog.ID, error) {
	if len(b) > maxSourcesLen {
		return nil, fmt.Errorf("a sources file of %d bytes, the limit is %d", len(b), maxSourcesLen)
	}
	rest, ok := bytes.CutPrefix(b, []byte(sourcesMagic))
	if !ok {
		return nil, errors.New("not a sources file")
	}
	var ids []applog.ID
	for len(rest) > 0 {
		line, after, ok := bytes.Cut(rest, []byte{'\n'})
		if !ok {
			return nil, errors.New("a sources file not ended by a newline")
		}
		a, err := applog.ParseID(string(line))
		if err != nil {
			return nil, err
		}
		if n := len(ids); n > 0 && ids[n-1] >= a {
			return nil, fmt.Errorf("source %s out of order", a)
		}
		if len(ids) == MaxSources {
			return nil, fmt.Errorf("more than %d sources", MaxSources)
		}
		ids = append(ids, a)
		rest = after
	}
	return ids, nil
}

// readSources returns the sources recorded for id; none if there is no
// sources file.
func (s *Store) readSources(id ID) ([]applog.ID, error) {
	b, err := readSmall(s.path(id, sourcesExt), maxSourcesLen)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var ids []applog.ID
	if err == nil {
		ids, err = parseSources(b)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: the sources of %s: %w", id, err)
	}
	return ids, nil
}

// held reports whether the store holds the manifest of id, so something
// of the file, complete or partial.
func (s *Store) held(id ID) bool {
	fi, err := os.Lstat(s.path(id, manifestExt))
	return err == nil && fi.Mode().IsRegular()
}

// AddSource records that an entry of log author names the file id, in
// id.src (replaced by temporary file and rename). Call it once the store
// holds something of the file: after Add, AddSealed or Begin, and again
// for each further log whose entry names it. It fails with ErrNotFound
// if the store holds nothing of id, and with ErrTooManySources if
// MaxSources logs are recorded already. A sources file found damaged is
// replaced by one naming author alone.
//
// Only the database's writer changes sources (AddSource, Purge,
// RemoveBy), one Store at a time: the changes read and replace the
// file, and two at once may lose one.
func (s *Store) AddSource(id ID, author applog.ID) error {
	if _, err := applog.ParseID(string(author)); err != nil {
		return fmt.Errorf("blob: adding a source to %s: %w", id, err)
	}
	s.srcMu.Lock()
	defer s.srcMu.Unlock()
	if !s.held(id) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	ids, err := s.readSources(id)
	if err != nil {
		ids = nil // derived data: the chat records the sources again as it reads the entries
	}
	i, found := slices.BinarySearch(ids, author)
	if found {
		return nil
	}
	if len(ids) >= MaxSources {
		return fmt.Errorf("%w: %s is named by %d logs already, %s not recorded", ErrTooManySources, id, len(ids), author)
	}
	return s.writeSmall(s.path(id, sourcesExt), encodeSources(slices.Insert(ids, i, author)))
}

// Sources returns the logs recorded as naming the file id, sorted: none
// for a file added before sources were kept, or whose author is not
// recorded yet. It fails with ErrNotFound if the store holds nothing of
// id.
func (s *Store) Sources(id ID) ([]applog.ID, error) {
	if !s.held(id) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return s.readSources(id)
}

// Serves reports whether a peer may be served the file id: the store
// holds its manifest, and some log recorded as naming it is held, as
// held says. The caller's held says whether the database holds a log
// and does not block it: for a chat, db.Head(a) > 0 && !db.Blocked(a).
// Which blocks are here is ReadBlock's to say.
func (s *Store) Serves(id ID, held func(applog.ID) bool) bool {
	ids, err := s.Sources(id)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(ids, held)
}

// RemoveBy forgets log author as a source of every file, and deletes
// every file that author alone named (Purge), returning how many.
func (s *Store) RemoveBy(author applog.ID) (removed int, err error) {
	return s.Purge(func(a applog.ID) bool { return a == author })
}

// purgeBatch is how many names Purge reads from the directory at once.
const purgeBatch = 256

// Purge applies the block list: it deletes every file all of whose
// sources are blocked, as blocked says (the file, complete or partial,
// its manifest, sources and key: Remove), and forgets the blocked
// sources of the others. It returns how many files it deleted. A file
// with no source recorded is kept. Purge reads the directory a batch at
// a time, so its memory does not grow with the number of files; a
// sources file it cannot read is left as it is, and Purge carries on and
// then returns the first such error. It also deletes the sources and key
// files of a file the store no longer holds.
//
// scuttle block calls it when no chat runs; a chat calls it whenever
// its block list changes (the outbox loop of package main).
func (s *Store) Purge(blocked func(applog.ID) bool) (removed int, err error) {
	d, err := os.Open(s.dir)
	if err != nil {
		return 0, fmt.Errorf("blob: %w", err)
	}
	defer d.Close()
	var first error
	for {
		des, rerr := d.ReadDir(purgeBatch)
		for _, de := range des {
			name, ok := strings.CutSuffix(de.Name(), sourcesExt)
			if !ok || !de.Type().IsRegular() {
				continue
			}
			id, perr := ParseID(name)
			if perr != nil {
				continue
			}
			gone, err := s.purge(id, blocked)
			if gone {
				removed++
			}
			if err != nil && first == nil {
				first = err
			}
		}
		if rerr == io.EOF {
			return removed, first
		}
		if rerr != nil {
			return removed, fmt.Errorf("blob: %w", rerr)
		}
	}
}

// purge applies blocked to the file id, and reports whether it deleted
// it.
func (s *Store) purge(id ID, blocked func(applog.ID) bool) (bool, error) {
	s.srcMu.Lock()
	defer s.srcMu.Unlock()
	if !s.held(id) { // left by a Remove cut short
		for _, ext := range []string{sourcesExt, keyExt} {
			if err := os.Remove(s.path(id, ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, fmt.Errorf("blob: %w", err)
			}
		}
		return false, nil
	}
	ids, err := s.readSources(id)
	if err != nil {
		return false, err
	}
	keep := slices.DeleteFunc(slices.Clone(ids), blocked)
	switch {
	case len(keep) == len(ids):
		return false, nil
	case len(keep) == 0:
		if err := s.Remove(id); err != nil && !errors.Is(err, ErrNotFound) {
			return false, err
		}
		return true, nil
	default:
		return false, s.writeSmall(s.path(id, sourcesExt), encodeSources(keep))
	}
}
