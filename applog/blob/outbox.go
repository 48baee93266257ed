package blob

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"scuttle/applog/internal/osfile"
)

// The outbox: file entries waiting for the database's writer. scuttle
// send adds a file while a chat may hold the database for writing; it
// queues the entry here, and whoever writes the own log (send itself
// when no chat runs, else the chat) appends what is queued, in order.

// outboxDir is the outbox's directory under blobs/.
const outboxDir = "outbox"

// entryExt ends the names of queued entries.
const entryExt = ".entry"

// maxDrain bounds the entries one Drain appends.
const maxDrain = 64

// Queue puts a file entry in the outbox, durably: a file
// outbox/TIME-RANDOM.entry (TIME in 20 decimal digits of nanoseconds,
// so names sort in queueing order), written by temporary file and
// rename. The entry must parse (ParseEntry).
func (s *Store) Queue(entry []byte) error {
	if _, err := ParseEntry(entry); err != nil {
		return err
	}
	dir := filepath.Join(s.dir, outboxDir)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("blob: %w", err)
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("blob: %s: %w", dir, ErrSymlink)
	}
	tmp, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(entry)
	if err == nil {
		err = osfile.Fdatasync(tmp)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	name := fmt.Sprintf("%020d-%s%s", time.Now().UnixNano(), strings.TrimPrefix(filepath.Base(tmp.Name()), tmpPrefix), entryExt)
	if err == nil {
		err = osfile.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err == nil {
		err = osfile.SyncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("blob: queueing an entry: %w", err)
	}
	return nil
}

// Drain passes up to 64 queued entries to appendEntry, oldest first,
// and removes each once appendEntry returned nil; it stops at the first
// error, which it returns, leaving that entry queued. It returns how
// many it appended. A crash between an append and the removal appends
// that entry again on the next Drain: an entry is appended at least
// once. Only the writer of the own log calls it.
func (s *Store) Drain(appendEntry func(entry []byte) error) (int, error) {
	dir := filepath.Join(s.dir, outboxDir)
	des, err := os.ReadDir(dir) // sorted by name
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("blob: %w", err)
	}
	n := 0
	for _, de := range des {
		if n == maxDrain {
			break
		}
		if !strings.HasSuffix(de.Name(), entryExt) || !de.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, de.Name())
		b, err := readSmall(p, MaxEntryLen)
		if err == nil {
			_, err = ParseEntry(b)
		}
		if err != nil { // not ours, or damaged: never appended
			os.Remove(p)
			continue
		}
		if err := appendEntry(b); err != nil {
			return n, err
		}
		if err := os.Remove(p); err != nil {
			return n, fmt.Errorf("blob: %w", err)
		}
		n++
	}
	return n, nil
}

// Queued returns the number of entries in the outbox.
func (s *Store) Queued() int {
	des, _ := os.ReadDir(filepath.Join(s.dir, outboxDir))
	n := 0
	for _, de := range des {
		if strings.HasSuffix(de.Name(), entryExt) {
			n++
		}
	}
	return n
}

// readSmall reads the file at p, of at most max bytes, without following
// a symbolic link.
func readSmall(p string, max int) ([]byte, error) {
	f, err := osfile.OpenFile(p, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err == nil && len(b) > max {
		err = errors.New("blob: " + p + ": longer than " + strconv.Itoa(max) + " bytes")
	}
	return b, err
}
