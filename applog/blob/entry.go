package blob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"unicode/utf8"
)

// The log entry that shares a file: what its author's log holds of it.
// The bytes stay in the store (see doc.go, "Log entry").

// Bounds on an entry, checked by ParseEntry before it decodes anything
// (MaxEntryLen) and after.
const (
	MaxEntryLen = 4096
	MaxNameLen  = 255
	MaxMediaLen = 127
)

// entryKind is the value of an entry's "kind": what tells a file entry
// from a chat line, whose JSON has no "kind".
const entryKind = "file"

// ErrNotEntry is matched by the error of ParseEntry for bytes that are
// not a file entry at all (another kind of entry); ErrBadEntry for a file
// entry that breaks a rule.
var (
	ErrNotEntry = errors.New("blob: not a file entry")
	ErrBadEntry = errors.New("blob: bad file entry")
)

// An Entry is a shared file as its author's log records it. Every field
// is the author's word: Name and Media are to be escaped before they
// are printed (Line), and Name is never used as a path.
type Entry struct {
	Name  string // the file's base name at its author's
	Size  int64  // bytes of content (Manifest.PlainSize of ID)
	Media string // media type, e.g. "application/pdf" (MediaType)
	ID    ID     // the content id
	// Key is a sealed file's key (AddSealed), zero for a file that is
	// not sealed. An entry with a key belongs inside a sealed payload
	// (applog/seal): whoever reads the entry can read the file.
	Key [KeySize]byte
}

// Sealed reports whether the entry names a sealed file: one with a key.
func (e Entry) Sealed() bool { return e.Key != [KeySize]byte{} }

// Matches returns an error unless m, the manifest of e.ID, agrees with
// e: sealed as e is, and of e.Size bytes of content. A fetcher checks it
// once it has the manifest, before Begin.
func (e Entry) Matches(m *Manifest) error {
	if m.Sealed() != e.Sealed() || m.PlainSize() != e.Size {
		return fmt.Errorf("%w: the entry of %s says %d bytes, sealed %v; its manifest %d, sealed %v", ErrBadEntry, e.ID, e.Size, e.Sealed(), m.PlainSize(), m.Sealed())
	}
	return nil
}

// entryJSON is an Entry's encoding, in this field order; "key" only
// when set.
type entryJSON struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	Media string `json:"media"`
	ID    ID     `json:"id"`
	Key   string `json:"key,omitempty"`
}

// NewEntry returns the entry of the file of manifest m, named name (its
// base name is kept), whose first bytes are head (at most 512 are
// looked at, for MediaType).
func NewEntry(name string, m *Manifest, head []byte) Entry {
	name = filepath.Base(name)
	return Entry{Name: name, Size: m.Size(), Media: MediaType(name, head), ID: m.ID()}
}

// NewSealedEntry returns the entry of the sealed file of manifest m (as
// AddSealed returns it) and key, named name (its base name is kept),
// whose first bytes of content are head: its Size is the content's,
// m.PlainSize.
func NewSealedEntry(name string, m *Manifest, key [KeySize]byte, head []byte) Entry {
	e := NewEntry(name, m, head)
	e.Size, e.Key = m.PlainSize(), key
	return e
}

// MediaType returns the media type of a file named name whose first bytes
// are head: by the name's extension (mime.TypeByExtension), else by the
// content (http.DetectContentType of up to 512 bytes).
func MediaType(name string, head []byte) string {
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		return t
	}
	return http.DetectContentType(head[:min(len(head), 512)])
}

// Encode returns the entry as a log entry: one JSON object,
// {"kind":"file","name":…,"size":…,"media":…,"id":…}, and "key":… last
// for a sealed file (52 characters of base32, as an id), with <, > and &
// as themselves and no trailing newline.
func (e Entry) Encode() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	j := entryJSON{entryKind, e.Name, e.Size, e.Media, e.ID, ""}
	if e.Sealed() {
		j.Key = idEncoding.EncodeToString(e.Key[:])
	}
	enc.Encode(j) // cannot fail
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// ParseEntry parses a log entry as a file entry. An entry whose "kind"
// is not "file" (a chat line) fails with ErrNotEntry; a file entry
// longer than MaxEntryLen, with a name empty, longer than MaxNameLen or
// not UTF-8, a media type longer than MaxMediaLen, a size out of 0 to
// MaxSize, a bad id, or a key that is present but not 52 characters of
// base32 of 32 bytes not all zero (a sealed file's size is then at most
// MaxSealedSize), fails with ErrBadEntry. Unknown fields are ignored, so
// later versions may add some.
func ParseEntry(b []byte) (Entry, error) {
	if len(b) > MaxEntryLen {
		var k struct{ Kind string }
		if json.Unmarshal(b, &k) != nil || k.Kind != entryKind {
			return Entry{}, ErrNotEntry
		}
		return Entry{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrBadEntry, len(b), MaxEntryLen)
	}
	var j struct {
		Kind  string  `json:"kind"`
		Name  string  `json:"name"`
		Size  int64   `json:"size"`
		Media string  `json:"media"`
		ID    string  `json:"id"`
		Key   *string `json:"key"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrNotEntry, err)
	}
	if j.Kind != entryKind {
		return Entry{}, ErrNotEntry
	}
	switch {
	case j.Name == "" || len(j.Name) > MaxNameLen || !utf8.ValidString(j.Name):
		return Entry{}, fmt.Errorf("%w: name of %d bytes, want 1 to %d of UTF-8", ErrBadEntry, len(j.Name), MaxNameLen)
	case len(j.Media) > MaxMediaLen:
		return Entry{}, fmt.Errorf("%w: media type of %d bytes, the limit is %d", ErrBadEntry, len(j.Media), MaxMediaLen)
	case j.Size < 0 || j.Size > MaxSize:
		return Entry{}, fmt.Errorf("%w: size %d, want 0 to %d", ErrBadEntry, j.Size, int64(MaxSize))
	}
	id, err := ParseID(j.ID)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrBadEntry, err)
	}
	e := Entry{Name: j.Name, Size: j.Size, Media: j.Media, ID: id}
	if j.Key != nil {
		k, err := ParseID(*j.Key) // the same text as an id's
		switch {
		case err != nil:
			return Entry{}, fmt.Errorf("%w: key of %d characters, want %d of base32", ErrBadEntry, len(*j.Key), idLen)
		case k == ID{}:
			return Entry{}, fmt.Errorf("%w: a zero key", ErrBadEntry)
		case j.Size > MaxSealedSize:
			return Entry{}, fmt.Errorf("%w: size %d of a sealed file, want 0 to %d", ErrBadEntry, j.Size, int64(MaxSealedSize))
		}
		e.Key = k
	}
	return e, nil
}

// Line returns what a receiver prints of the entry, written by author:
// "alice> [file] slides.pdf (2.1 MB) ID", with the id in full, as
// scuttle get takes it. author and the name go through escape, which
// the caller gives (the chat's one escaping function: applog may not
// import the chat), so that no byte of theirs reaches a terminal raw.
func (e Entry) Line(author string, escape func(string) string) string {
	return escape(author) + "> [file] " + escape(e.Name) + " (" + FormatSize(e.Size) + ") " + e.ID.String()
}

// FormatSize returns n bytes for people, in SI units with one decimal:
// "512 B", "2.1 MB", "1.0 GB".
func FormatSize(n int64) string {
	if n < 1000 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		v /= 1000
		if v < 999.95 || unit == "TB" {
			return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
		}
	}
	panic("unreachable")
}
