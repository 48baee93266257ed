package blob

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// newStore opens a store in a fresh database directory.
func newStore(t *testing.T, opts *Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeSource writes data to a file outside the store and returns its
// path.
func writeSource(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll returns the content of the complete file id.
func readAll(t *testing.T, s *Store, id ID) []byte {
	t.Helper()
	f, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAddOpen: Add stores a file under its id with mode 0600 in a 0700
// directory, Open gives back the same bytes, Have and List say it is
// complete, and adding it again changes nothing.
func TestAddOpen(t *testing.T) {
	s := newStore(t, nil)
	data := gen(7, 3*BlockSize+5)
	id, m, err := s.Add(writeSource(t, data))
	if err != nil {
		t.Fatal(err)
	}
	if want := specID(data); id != want || m.ID() != want {
		t.Fatalf("Add = %s, want %s", id, want)
	}
	if got := readAll(t, s, id); !bytes.Equal(got, data) {
		t.Fatalf("Open gives %d bytes, not the %d added", len(got), len(data))
	}
	st, err := s.Have(id)
	if err != nil || !st.Complete || st.Held != 4 || st.Blocks != 4 || st.Size != int64(len(data)) || st.HeldBytes() != int64(len(data)) {
		t.Fatalf("Have = %+v, %v; want complete, 4 of 4 blocks, %d bytes", st, err, len(data))
	}
	if _, _, err := s.Add(writeSource(t, data)); err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("List = %+v, %v; want the one file", list, err)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(s.Dir())
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("blobs/ has mode %v, want 0700", fi.Mode().Perm())
		}
		des, _ := os.ReadDir(s.Dir())
		for _, de := range des {
			fi, _ := de.Info()
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", de.Name(), fi.Mode().Perm())
			}
			if strings.HasPrefix(de.Name(), tmpPrefix) {
				t.Errorf("temporary file %s left", de.Name())
			}
		}
	}
}

// begin returns a store in which the file of data is begun, not written.
func begin(t *testing.T, data []byte) (*Store, string, ID, *Manifest) {
	t.Helper()
	db := t.TempDir()
	s, err := Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Hash(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Begin(m); err != nil {
		t.Fatal(err)
	}
	return s, db, m.ID(), m
}

func block(data []byte, i int) []byte {
	return data[i*BlockSize : min((i+1)*BlockSize, len(data))]
}

// TestWriteBlockBad: a block whose hash or length is not the manifest's,
// or whose number is out of range, is refused with ErrBadBlock naming it,
// and nothing is written to the partial file.
func TestWriteBlockBad(t *testing.T) {
	data := gen(8, 3*BlockSize+100)
	s, _, id, _ := begin(t, data)
	flipped := bytes.Clone(block(data, 1))
	flipped[1000] ^= 1
	for _, tc := range []struct {
		name string
		i    int
		data []byte
		want string
	}{
		{"flipped bit", 1, flipped, "block 1 of " + id.String() + ": hash "},
		{"another block's data", 1, block(data, 2), "block 1 of"},
		{"short", 1, block(data, 1)[:BlockSize-1], "block 1 of " + id.String() + " has 262143 bytes, want 262144"},
		{"last block too long", 3, block(data, 2), "block 3 of " + id.String() + " has 262144 bytes, want 100"},
		{"negative", -1, block(data, 0), "block -1 of"},
		{"past the end", 4, block(data, 0), "block 4 of " + id.String() + ", which has 4 blocks"},
	} {
		err := s.WriteBlock(id, tc.i, tc.data)
		if !errors.Is(err, ErrBadBlock) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: WriteBlock = %v, want ErrBadBlock saying %q", tc.name, err, tc.want)
		}
	}
	part, err := os.ReadFile(s.path(id, partExt))
	if err != nil {
		t.Fatal(err)
	}
	if len(part) != len(data) || !bytes.Equal(part, make([]byte, len(data))) {
		t.Errorf("the partial file has %d bytes, not all zero: a bad block was written", len(part))
	}
	if st, _ := s.Have(id); st.Held != 0 {
		t.Errorf("Have says %d blocks held, want 0", st.Held)
	}
	if err := s.WriteBlock(specID(nil), 0, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("WriteBlock of a file never begun = %v, want ErrNotFound", err)
	}
}

// TestResume simulates a kill -9 part-way: the process wrote blocks 0
// and 2 through WriteBlock, block 3 reached the file but not the state,
// and block 1 is torn (half written). A store opened afresh re-hashes
// the partial file and finds 0, 2 and 3, not 1; writing block 1
// completes the file with the right bytes.
func TestResume(t *testing.T) {
	data := gen(9, 4*BlockSize-3)
	s, db, id, _ := begin(t, data)
	for _, i := range []int{0, 2} {
		if err := s.WriteBlock(id, i, block(data, i)); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(s.path(id, partExt), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(block(data, 3), 3*BlockSize)
	f.WriteAt(block(data, 1)[:BlockSize/2], BlockSize) // torn
	f.Close()

	s2, err := Open(db, nil) // the restarted process
	if err != nil {
		t.Fatal(err)
	}
	st, err := s2.Have(id)
	if err != nil {
		t.Fatal(err)
	}
	var held []int
	for i := range st.Blocks {
		if st.Has(i) {
			held = append(held, i)
		}
	}
	if st.Complete || st.Held != 3 || len(held) != 3 || held[0] != 0 || held[1] != 2 || held[2] != 3 {
		t.Fatalf("after the crash Have = %d of %d blocks %v, complete %v; want 3 of 4 blocks [0 2 3]", st.Held, st.Blocks, held, st.Complete)
	}
	if want := int64(2*BlockSize + BlockSize - 3); st.HeldBytes() != want {
		t.Errorf("HeldBytes = %d, want %d", st.HeldBytes(), want)
	}
	if _, err := s2.Open(id); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "3 of 4 blocks here") {
		t.Errorf("Open of the partial file = %v, want ErrIncomplete saying 3 of 4 blocks", err)
	}
	if err := s2.WriteBlock(id, 1, block(data, 1)); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s2, id); !bytes.Equal(got, data) {
		t.Fatal("the resumed file differs from the original")
	}
	if _, err := os.Lstat(s2.path(id, partExt)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial file is still there: %v", err)
	}
}

// TestRefusals: the quota and the free-space floor refuse Add and Begin
// before anything is written, with errors that say the figures.
func TestRefusals(t *testing.T) {
	data := gen(10, 2*BlockSize)
	m, _ := Hash(bytes.NewReader(data))
	src := writeSource(t, data)
	lowSpace := func(string) (uint64, uint64, error) { return 100 << 20, 1 << 40, nil } // floor: 1 GiB
	tightSpace := func(string) (uint64, uint64, error) { return 1<<30 + BlockSize, 1 << 40, nil }
	for _, tc := range []struct {
		name string
		opts Options
		want error
		text string
	}{
		{"quota", Options{MaxBytes: 2*BlockSize - 1}, ErrQuota, "0 bytes held and 524288 more asked, the quota is 524287"},
		{"below the floor", Options{FreeSpace: lowSpace}, ErrLowSpace, "524288 bytes asked, 104857600 available"},
		{"would go below the floor", Options{FreeSpace: tightSpace}, ErrLowSpace, "the floor is 1073741824"},
	} {
		s := newStore(t, &tc.opts)
		if _, _, err := s.Add(src); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: Add = %v, want %v saying %q", tc.name, err, tc.want, tc.text)
		}
		if err := s.Begin(m); !errors.Is(err, tc.want) {
			t.Errorf("%s: Begin = %v, want %v", tc.name, err, tc.want)
		}
		if des, _ := os.ReadDir(s.Dir()); len(des) != 0 {
			t.Errorf("%s: the store holds %d files after refusing", tc.name, len(des))
		}
	}
	// The quota counts what is held: one file fits, a second does not.
	s := newStore(t, &Options{MaxBytes: 3 * BlockSize})
	if _, _, err := s.Add(src); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Add(writeSource(t, gen(11, BlockSize))); !errors.Is(err, ErrQuota) {
		t.Errorf("Add past the quota = %v, want ErrQuota", err)
	}
	if err := s.Begin(m); err != nil {
		t.Errorf("Begin of a file held = %v, want nil", err)
	}
}

// TestRemove: Remove deletes a complete and a partial file, and says
// when there is nothing to delete.
func TestRemove(t *testing.T) {
	s := newStore(t, nil)
	id, _, err := s.Add(writeSource(t, gen(12, 10)))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := Hash(bytes.NewReader(gen(13, BlockSize+1)))
	if err := s.Begin(m); err != nil {
		t.Fatal(err)
	}
	for _, x := range []ID{id, m.ID()} {
		if err := s.Remove(x); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Have(x); !errors.Is(err, ErrNotFound) {
			t.Errorf("Have after Remove = %v, want ErrNotFound", err)
		}
		if err := s.Remove(x); !errors.Is(err, ErrNotFound) {
			t.Errorf("second Remove = %v, want ErrNotFound", err)
		}
	}
	if des, _ := os.ReadDir(s.Dir()); len(des) != 0 {
		t.Errorf("%d files left", len(des))
	}
}

// TestSymlinks: the store follows no symbolic link, at blobs/ or at a
// partial file's name.
func TestSymlinks(t *testing.T) {
	db := t.TempDir()
	if err := os.Symlink(t.TempDir(), filepath.Join(db, "blobs")); err != nil {
		t.Skipf("cannot make a symbolic link: %v", err)
	}
	if _, err := Open(db, nil); !errors.Is(err, ErrSymlink) {
		t.Errorf("Open with blobs a link = %v, want ErrSymlink", err)
	}
	data := gen(14, BlockSize+1)
	s, _, id, _ := begin(t, data)
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, nil, 0o600)
	os.Remove(s.path(id, partExt))
	os.Symlink(target, s.path(id, partExt))
	s.forget(id)
	if err := s.WriteBlock(id, 0, block(data, 0)); !errors.Is(err, ErrSymlink) {
		t.Errorf("WriteBlock through a link = %v, want ErrSymlink", err)
	}
	if b, _ := os.ReadFile(target); len(b) != 0 {
		t.Errorf("%d bytes written through the link", len(b))
	}
}

// TestAddMemory: Add streams: copying in 32 MiB allocates less than
// 1 MiB (the one block buffer and the manifest).
func TestAddMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 32 MiB")
	}
	s := newStore(t, nil)
	src := writeSource(t, gen(15, 32<<20))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, _, err := s.Add(src); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("Add of 32 MiB allocated %d bytes, want under 1 MiB", got)
	}
}

// TestOutbox: queued entries are appended once each, in order; a failed
// append leaves the entry queued; bytes that are not an entry are
// refused by Queue.
func TestOutbox(t *testing.T) {
	s := newStore(t, nil)
	var want [][]byte
	for i := range 3 {
		m, _ := Hash(bytes.NewReader(gen(uint32(20+i), i)))
		e := NewEntry("f"+string(rune('a'+i)), m, nil).Encode()
		if err := s.Queue(e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	if err := s.Queue([]byte(`{"username":"a","message":"b"}`)); !errors.Is(err, ErrNotEntry) {
		t.Errorf("Queue of a chat line = %v, want ErrNotEntry", err)
	}
	fail := errors.New("disk full")
	var got [][]byte
	n, err := s.Drain(func(b []byte) error {
		if len(got) == 1 {
			return fail
		}
		got = append(got, b)
		return nil
	})
	if n != 1 || !errors.Is(err, fail) || s.Queued() != 2 {
		t.Fatalf("Drain failing at the second = %d, %v, %d queued; want 1, the failure, 2 queued", n, err, s.Queued())
	}
	n, err = s.Drain(func(b []byte) error { got = append(got, b); return nil })
	if n != 2 || err != nil || s.Queued() != 0 {
		t.Fatalf("Drain = %d, %v, %d queued; want 2, nil, 0", n, err, s.Queued())
	}
	if len(got) != 3 || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) || !bytes.Equal(got[2], want[2]) {
		t.Errorf("appended %q, want %q", got, want)
	}
}

// TestWriteBlockConcurrent: blocks written by several goroutines at once,
// some twice, make the file exactly once, with the right bytes; the
// fetcher to come writes blocks from several peers so.
func TestWriteBlockConcurrent(t *testing.T) {
	data := gen(16, 9*BlockSize+77)
	s, _, id, m := begin(t, data)
	errs := make(chan error, 2*m.Blocks())
	for i := range m.Blocks() {
		for range 2 {
			go func() { errs <- s.WriteBlock(id, i, block(data, i)) }()
		}
	}
	for range 2 * m.Blocks() {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := readAll(t, s, id); !bytes.Equal(got, data) {
		t.Fatal("the file written by concurrent blocks differs")
	}
}

// TestResumeAllWritten: a crash after the last block was written but
// before the rename: the next use finds every block and completes the
// file.
func TestResumeAllWritten(t *testing.T) {
	data := gen(17, 2*BlockSize+1)
	s, db, id, _ := begin(t, data)
	if err := os.WriteFile(s.path(id, partExt), data, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s2.Have(id)
	if err != nil || !st.Complete {
		t.Fatalf("Have = %+v, %v; want complete", st, err)
	}
	if got := readAll(t, s2, id); !bytes.Equal(got, data) {
		t.Fatal("the completed file differs")
	}
}

// TestReadBlock: blocks are served from complete files and from the
// blocks a partial file has, verified; a block not here, or damaged on
// disk, is not served.
func TestReadBlock(t *testing.T) {
	data := gen(18, 2*BlockSize+9)
	s, _, id, m := begin(t, data)
	buf := make([]byte, BlockSize)
	if err := s.WriteBlock(id, 2, block(data, 2)); err != nil {
		t.Fatal(err)
	}
	if b, err := s.ReadBlock(m, 2, buf); err != nil || !bytes.Equal(b, block(data, 2)) {
		t.Errorf("ReadBlock of a block here = %d bytes, %v", len(b), err)
	}
	if _, err := s.ReadBlock(m, 0, buf); !errors.Is(err, ErrIncomplete) {
		t.Errorf("ReadBlock of a block not here = %v, want ErrIncomplete", err)
	}
	for i := range 2 {
		if err := s.WriteBlock(id, i, block(data, i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if b, err := s.ReadBlock(m, i, buf); err != nil || !bytes.Equal(b, block(data, i)) {
			t.Errorf("ReadBlock(%d) of the complete file = %d bytes, %v", i, len(b), err)
		}
	}
	f, _ := os.OpenFile(s.path(id, ""), os.O_WRONLY, 0)
	f.WriteAt([]byte{0xff}, BlockSize+5)
	f.Close()
	if _, err := s.ReadBlock(m, 1, buf); !errors.Is(err, ErrBadBlock) || !strings.Contains(err.Error(), "damaged on disk") {
		t.Errorf("ReadBlock of a damaged block = %v, want ErrBadBlock, damaged on disk", err)
	}
}

// TestBeginNoRehash: a file just begun holds no block, and its first
// WriteBlock does not re-hash the whole (sparse) file: a block of zeros
// is not taken for written. Before, the first use re-hashed it (about a
// second per GiB on tmpfs, 5 s on a busy disk) and found the zeros.
func TestBeginNoRehash(t *testing.T) {
	data := make([]byte, 3*BlockSize) // blocks 0 and 2 are zeros
	data[BlockSize] = 1
	s := newStore(t, nil)
	m, err := Hash(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Begin(m); err != nil {
		t.Fatal(err)
	}
	st, err := s.Have(m.ID())
	if err != nil || st.Held != 0 || st.Complete {
		t.Fatalf("Have after Begin: %+v, %v, want nothing held", st, err)
	}
	for i := range m.Blocks() {
		if err := s.WriteBlock(m.ID(), i, block(data, i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := readAll(t, s, m.ID()); !bytes.Equal(got, data) {
		t.Fatal("file differs")
	}
	// After a restart the partial state is re-hashed as before.
	s2 := newStore(t, nil)
	if err := s2.Begin(m); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(filepath.Dir(s2.Dir()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s3.Have(m.ID()); err != nil || st.Held != 2 || !st.Has(0) || !st.Has(2) {
		t.Fatalf("Have after a restart: %+v, %v, want blocks 0 and 2 (zeros) found by re-hashing", st, err)
	}
}
