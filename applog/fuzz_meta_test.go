package applog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// metaFiles are the files of a database that FuzzMetadata fills with
// arbitrary bytes: every one Open parses besides the segments and
// indexes (FuzzOpenLog) and the names file (names.FuzzReplay).
var metaFiles = []string{fileLogs, fileFeed, fileState, fileForks, fileBlocked}

// FuzzMetadata: whatever bytes one metadata file holds, Open never
// panics or fails, and no entry is lost: read-only and as a writer, and
// read-only again after the writer's repair, every log reads back whole
// through Heads, Iter, Get and the feed. Only a log the fuzzed block
// list names may be missing (a writer deletes it), and an empty one.
//
// The database is the same in every process of a fuzzing run (metaDB),
// so that the seeds, made from its files, fit it.
func FuzzMetadata(f *testing.F) {
	base, want := metaDB(f)
	var some ID
	for id := range want {
		some = id
	}
	seeds := map[string][]byte{
		fileBlocked: fmt.Appendf(nil, "block %s\nunblock %s\nblock %s\nblock nonsense\nblock", some, some, IDOf(make([]byte, 32))),
		fileForks:   forksFileSeed(f),
	}
	for i, name := range metaFiles {
		b, ok := seeds[name]
		if !ok {
			var err error
			if b, err = os.ReadFile(filepath.Join(base, name)); err != nil {
				f.Fatal(err)
			}
		}
		f.Add(uint8(i), b)
		f.Add(uint8(i), b[:len(b)/2])
		f.Add(uint8(i), b[:len(b)-1])
		flipped := bytes.Clone(b)
		flipped[len(b)/2] ^= 0x10
		f.Add(uint8(i), flipped)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		dir := copyDir(t, base)
		if err := os.WriteFile(filepath.Join(dir, metaFiles[int(which)%len(metaFiles)]), data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, ro := range []bool{true, false, true} {
			db, err := Open(dir, &Options{ReadOnly: ro, SegmentSize: 512})
			if err != nil {
				t.Fatalf("Open(readOnly=%v): %v", ro, err)
			}
			held := maps.Clone(want)
			for _, id := range db.BlockedLogs() {
				delete(held, id)
			}
			heads := db.Heads()
			for id, w := range want {
				if _, ok := heads[id]; !ok && len(w) == 0 {
					delete(held, id) // a reader finds no empty log without the table
				}
			}
			checkAll(t, db, held)
			if err := db.Close(); err != nil {
				t.Fatalf("Close(readOnly=%v): %v", ro, err)
			}
		}
	})
}

// metaDB builds, from fixed keys, a database that holds an empty own
// log and 3 logs of 12 entries each, signed every 3 and over several
// segments, closes it cleanly and returns its directory and every entry
// by log.
func metaDB(tb testing.TB) (string, map[ID][]string) {
	dir := tb.TempDir()
	key := func(i byte) *signer {
		priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{i}, ed25519.SeedSize))
		return &signer{priv: priv, pub: priv.Public().(ed25519.PublicKey)}
	}
	if err := os.WriteFile(filepath.Join(dir, fileKey), key(0).priv, 0o600); err != nil {
		tb.Fatal(err)
	}
	db := openT(tb, dir, &Options{SegmentSize: 512})
	for i := range byte(3) {
		s := key(i + 1)
		var prev [hashSize]byte
		var run [][]byte
		for seq := range uint64(12) {
			var sg *signer
			if (seq+1)%3 == 0 {
				sg = s
			}
			var rec []byte
			rec, prev = appendRecord(nil, seq+1, int64(seq+1), &prev, fmt.Appendf(nil, "log %d entry %d", i+1, seq+1), sg)
			if run = append(run, rec); sg != nil {
				if _, err := db.Insert(idOf(s.pub), run); err != nil {
					tb.Fatal(err)
				}
				run = nil
			}
		}
	}
	want := entriesByLog(tb, db)
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	return dir, want
}

// forksFileSeed returns a forks file holding one record: the proof of
// the FuzzCheckForkProof seed "heads", length- and CRC-framed.
func forksFileSeed(tb testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzCheckForkProof", "heads"))
	if err != nil {
		tb.Fatal(err)
	}
	_, lit, _ := strings.Cut(strings.TrimSpace(string(b)), "[]byte(")
	p, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		tb.Fatalf("seed heads: %v", err)
	}
	if _, err := CheckForkProof([]byte(p)); err != nil {
		tb.Fatalf("seed heads: %v", err)
	}
	h := fileHeader(magicForks, 0)
	out := append([]byte(nil), h[:]...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(p)))
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum([]byte(p), castagnoli))
	return append(out, p...)
}
