package names

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
	"unicode/utf8"

	"scuttle/applog"
)

// This file is the record codec of the names file (see "File" in doc.go):
// pure functions on bytes, with the bounds checked before anything else.

// MaxName is the longest name, in bytes, a binding can hold.
const MaxName = 255

// maxLine bounds a record line without its newlines: "n1", the longest
// how, name, id, time and crc, with their spaces.
const maxLine = len(recVersion) + 1 + len("claimed") + 1 + MaxName + 1 + 52 + 1 + len(timeLayout) + 1 + 8

const (
	recVersion = "n1"
	timeLayout = "2006-01-02T15:04:05Z"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errDamaged is wrapped by every error about a record that cannot be read.
var errDamaged = errors.New("names: damaged record")

// checkName reports why name cannot be bound.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrBadName)
	}
	if len(name) > MaxName {
		return fmt.Errorf("%w: name of %d bytes, max %d", ErrBadName, len(name), MaxName)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w %q: not UTF-8", ErrBadName, name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == 0x7f {
			return fmt.Errorf("%w %q: byte %#02x at offset %d: no spaces or control characters", ErrBadName, name, c, i)
		}
	}
	return nil
}

// appendRecord appends b's record, with its leading and trailing
// newline, to dst. b must be valid (checkName, a parsed ID, a known How).
func appendRecord(dst []byte, b Binding) []byte {
	dst = append(dst, '\n')
	start := len(dst)
	dst = append(dst, recVersion...)
	dst = append(dst, ' ')
	dst = append(dst, b.How.String()...)
	dst = append(dst, ' ')
	dst = append(dst, b.Name...)
	dst = append(dst, ' ')
	dst = append(dst, b.ID...)
	dst = append(dst, ' ')
	dst = b.Time.UTC().AppendFormat(dst, timeLayout)
	crc := crc32.Checksum(dst[start:], castagnoli)
	dst = append(dst, ' ')
	dst = fmt.Appendf(dst, "%08x", crc)
	return append(dst, '\n')
}

// parseRecord parses one record line, without its newlines.
func parseRecord(line []byte) (Binding, error) {
	if len(line) > maxLine {
		return Binding{}, fmt.Errorf("%w: %d bytes, max %d", errDamaged, len(line), maxLine)
	}
	sp := bytes.LastIndexByte(line, ' ')
	if sp < 0 || len(line)-sp-1 != 8 {
		return Binding{}, fmt.Errorf("%w: no CRC at its end", errDamaged)
	}
	var want uint32
	for _, c := range line[sp+1:] {
		switch {
		case '0' <= c && c <= '9':
			want = want<<4 | uint32(c-'0')
		case 'a' <= c && c <= 'f':
			want = want<<4 | uint32(c-'a'+10)
		default:
			return Binding{}, fmt.Errorf("%w: CRC %q is not 8 lower-case hex digits", errDamaged, line[sp+1:])
		}
	}
	if got := crc32.Checksum(line[:sp], castagnoli); got != want {
		return Binding{}, fmt.Errorf("%w: CRC %08x, computed %08x", errDamaged, want, got)
	}
	f := bytes.Split(line[:sp], []byte{' '})
	if len(f) != 5 {
		return Binding{}, fmt.Errorf("%w: %d fields before the CRC, want 5", errDamaged, len(f))
	}
	if string(f[0]) != recVersion {
		return Binding{}, fmt.Errorf("%w: version %q, want %q", errDamaged, f[0], recVersion)
	}
	how, ok := parseHow(string(f[1]))
	if !ok {
		return Binding{}, fmt.Errorf("%w: how %q", errDamaged, f[1])
	}
	name := string(f[2])
	if err := checkName(name); err != nil {
		return Binding{}, fmt.Errorf("%w: %w", errDamaged, err)
	}
	id, err := applog.ParseID(string(f[3]))
	if err != nil {
		return Binding{}, fmt.Errorf("%w: %w", errDamaged, err)
	}
	t, err := time.Parse(timeLayout, string(f[4]))
	if err != nil || t.Format(timeLayout) != string(f[4]) {
		return Binding{}, fmt.Errorf("%w: time %q is not %s", errDamaged, f[4], timeLayout)
	}
	return Binding{Name: name, ID: id, How: how, Time: t}, nil
}

// scanLines calls fn for each complete line of data (ended by a newline)
// with its offset, and returns how many bytes it consumed: up to the end
// of the last complete line, or all of data if the unfinished rest is
// already too long to be a record (fn then gets it with partial set, to
// report; the rest of that line comes first in the next call).
func scanLines(data []byte, fn func(off int, line []byte, partial bool)) int {
	off := 0
	for {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			if len(data)-off > maxLine {
				fn(off, data[off:], true)
				return len(data)
			}
			return off
		}
		fn(off, data[off:off+i], false)
		off += i + 1
	}
}
