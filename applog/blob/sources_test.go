package blob

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"scuttle/applog"
)

// logID returns the log id of the ed25519 key of seed n.
func logID(n byte) applog.ID {
	seed := bytes.Repeat([]byte{n}, ed25519.SeedSize)
	return applog.ID(idEncoding.EncodeToString(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)))
}

// TestSources: AddSource records each log once, sorted, in the
// documented file; Sources reads them back; a file not held has none to
// record; the bound is MaxSources, past which nothing changes.
func TestSources(t *testing.T) {
	s := newStore(t, nil)
	id, _, err := s.Add(writeSource(t, gen(20, 100)))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Sources(id); err != nil || got != nil {
		t.Fatalf("Sources of a file with none = %v, %v; want none", got, err)
	}
	a, b := logID(1), logID(2)
	lo, hi := min(a, b), max(a, b)
	for _, x := range []applog.ID{hi, lo, hi} {
		if err := s.AddSource(id, x); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Sources(id); err != nil || !slices.Equal(got, []applog.ID{lo, hi}) {
		t.Fatalf("Sources = %v, %v; want [%s %s]", got, err, lo, hi)
	}
	b2, err := os.ReadFile(s.path(id, sourcesExt))
	if want := "scuttle blob sources v1\n" + string(lo) + "\n" + string(hi) + "\n"; err != nil || string(b2) != want {
		t.Errorf("id.src = %q, %v; want %q", b2, err, want)
	}
	if fi, err := os.Stat(s.path(id, sourcesExt)); err != nil || privateModes && fi.Mode().Perm() != 0o600 {
		t.Errorf("id.src: %v, %v; want mode 0600", fi.Mode(), err)
	}

	other, _ := Hash(strings.NewReader("not here"))
	if err := s.AddSource(other.ID(), a); !errors.Is(err, ErrNotFound) {
		t.Errorf("AddSource of a file not held = %v, want ErrNotFound", err)
	}
	if _, err := s.Sources(other.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Sources of a file not held = %v, want ErrNotFound", err)
	}
	if _, err := os.Lstat(s.path(other.ID(), sourcesExt)); err == nil {
		t.Errorf("AddSource made a sources file for a file not held")
	}
	if err := s.AddSource(id, "nonsense"); err == nil {
		t.Errorf("AddSource of a bad log id: nil error")
	}

	var all []applog.ID
	for n := range byte(MaxSources) {
		x := logID(10 + n)
		all = append(all, x)
		if err := s.AddSource(id, x); err != nil && len(all) <= MaxSources-2 {
			t.Fatalf("source %d: %v", len(all), err)
		}
	}
	got, _ := s.Sources(id)
	if len(got) != MaxSources || !slices.IsSorted(got) {
		t.Fatalf("%d sources after adding %d, want %d sorted", len(got), len(all)+2, MaxSources)
	}
	if err := s.AddSource(id, logID(99)); !errors.Is(err, ErrTooManySources) {
		t.Errorf("AddSource past the bound = %v, want ErrTooManySources", err)
	}
	if err := s.AddSource(id, got[3]); err != nil {
		t.Errorf("AddSource of a source recorded, at the bound = %v, want nil", err)
	}
	if again, _ := s.Sources(id); !slices.Equal(again, got) {
		t.Errorf("sources changed at the bound: %v, want %v", again, got)
	}

	// A damaged file: Sources says so; AddSource starts it again.
	os.WriteFile(s.path(id, sourcesExt), []byte("garbage"), 0o600)
	if _, err := s.Sources(id); err == nil || !strings.Contains(err.Error(), "not a sources file") {
		t.Errorf("Sources of a damaged file = %v, want an error saying so", err)
	}
	if err := s.AddSource(id, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Sources(id); err != nil || !slices.Equal(got, []applog.ID{a}) {
		t.Errorf("Sources after AddSource over damage = %v, %v; want [%s]", got, err, a)
	}
}

// TestPurge: blocking one of two sources keeps the file, minus that
// source; blocking the only source deletes the file, complete or
// partial, with its manifest and sidecars; a file with no source
// recorded is kept; Serves follows.
func TestPurge(t *testing.T) {
	s := newStore(t, nil)
	alice, bob, carol := logID(1), logID(2), logID(3)
	shared, _, err := s.Add(writeSource(t, gen(21, 100))) // named by alice and bob
	if err != nil {
		t.Fatal(err)
	}
	alone, _, _, err := s.AddSealed(writeSource(t, gen(22, BlockSize+5))) // by alice alone
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := Hash(bytes.NewReader(gen(23, 2*BlockSize)))
	if err := s.Begin(pm); err != nil { // partial, by alice alone
		t.Fatal(err)
	}
	if err := s.WriteBlock(pm.ID(), 0, gen(23, BlockSize)); err != nil {
		t.Fatal(err)
	}
	orphan, _, err := s.Add(writeSource(t, gen(24, 10))) // no source recorded
	if err != nil {
		t.Fatal(err)
	}
	byCarol, _, err := s.Add(writeSource(t, gen(25, 10)))
	if err != nil {
		t.Fatal(err)
	}
	for _, add := range []struct {
		id ID
		a  applog.ID
	}{{shared, alice}, {shared, bob}, {alone, alice}, {pm.ID(), alice}, {byCarol, carol}} {
		if err := s.AddSource(add.id, add.a); err != nil {
			t.Fatal(err)
		}
	}
	held := func(a applog.ID) bool { return a != carol } // carol's log is not held
	for _, tc := range []struct {
		id   ID
		want bool
	}{{shared, true}, {alone, true}, {pm.ID(), true}, {orphan, false}, {byCarol, false}} {
		if got := s.Serves(tc.id, held); got != tc.want {
			t.Errorf("Serves(%s) before the block = %v, want %v", tc.id, got, tc.want)
		}
	}

	n, err := s.RemoveBy(alice)
	if err != nil || n != 2 {
		t.Fatalf("RemoveBy(alice) = %d, %v; want 2 files", n, err)
	}
	if got, err := s.Sources(shared); err != nil || !slices.Equal(got, []applog.ID{bob}) {
		t.Errorf("sources of the shared file = %v, %v; want bob alone", got, err)
	}
	for _, id := range []ID{alone, pm.ID()} {
		for _, ext := range []string{"", partExt, manifestExt, sourcesExt, keyExt} {
			if _, err := os.Lstat(s.path(id, ext)); err == nil {
				t.Errorf("%s%s is still there after its only source was blocked", id, ext)
			}
		}
	}
	list, _ := s.List()
	var ids []ID
	for _, st := range list {
		ids = append(ids, st.ID)
	}
	want := []ID{shared, orphan, byCarol}
	slices.SortFunc(want, func(x, y ID) int { return bytes.Compare(x[:], y[:]) })
	if !slices.Equal(ids, want) {
		t.Errorf("List after the block = %v, want %v", ids, want)
	}
	if !s.Serves(shared, held) {
		t.Errorf("the shared file is no longer served")
	}

	// Purge with a block list: bob and carol too.
	n, err = s.Purge(func(a applog.ID) bool { return a == bob || a == carol })
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want 2 files", n, err)
	}
	if list, _ := s.List(); len(list) != 1 || list[0].ID != orphan {
		t.Errorf("List after Purge = %v, want the file with no source alone", list)
	}
	if n, err := s.Purge(func(applog.ID) bool { return true }); err != nil || n != 0 {
		t.Errorf("Purge of a store of one file with no source = %d, %v; want 0", n, err)
	}
}

// TestPurgeDamaged: a sources file Purge cannot read is left, with its
// file; the others are purged, and the error names it.
func TestPurgeDamaged(t *testing.T) {
	s := newStore(t, nil)
	var ids []ID
	for i := range 3 {
		id, _, err := s.Add(writeSource(t, gen(uint32(30+i), 10)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddSource(id, logID(1)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	os.WriteFile(s.path(ids[1], sourcesExt), []byte(sourcesMagic+"x\n"), 0o600)
	n, err := s.RemoveBy(logID(1))
	if n != 2 || err == nil || !strings.Contains(err.Error(), "the sources of "+ids[1].String()) {
		t.Errorf("RemoveBy = %d, %v; want 2 and an error naming %s", n, err, ids[1])
	}
	if _, err := s.Have(ids[1]); err != nil {
		t.Errorf("the file of the damaged sources file: %v; want it kept", err)
	}
}

// TestParseSources: the parser takes exactly the encoding.
func TestParseSources(t *testing.T) {
	a, b := min(logID(1), logID(2)), max(logID(1), logID(2))
	var many []applog.ID
	for n := range byte(MaxSources + 1) {
		many = append(many, logID(40+n))
	}
	slices.Sort(many)
	for _, tc := range []struct {
		name string
		in   string
		want []applog.ID // nil: refused
	}{
		{"none", sourcesMagic, []applog.ID{}},
		{"two", sourcesMagic + string(a) + "\n" + string(b) + "\n", []applog.ID{a, b}},
		{"no magic", string(a) + "\n", nil},
		{"no newline", sourcesMagic + string(a), nil},
		{"out of order", sourcesMagic + string(b) + "\n" + string(a) + "\n", nil},
		{"twice", sourcesMagic + string(a) + "\n" + string(a) + "\n", nil},
		{"bad id", sourcesMagic + strings.ToUpper(string(a)) + "\n", nil},
		{"empty line", sourcesMagic + "\n", nil},
		{"crlf", sourcesMagic + string(a) + "\r\n", nil},
		{"at the bound", string(encodeSources(many[:MaxSources])), many[:MaxSources]},
		{"past the bound", string(encodeSources(many)), nil},
	} {
		got, err := parseSources([]byte(tc.in))
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: parsed %v, want an error", tc.name, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

// FuzzParseSources: parseSources never panics, and what it takes is
// sorted, unique, within the bound, and encodes back to the same bytes.
func FuzzParseSources(f *testing.F) {
	f.Add([]byte(sourcesMagic))
	f.Add(encodeSources([]applog.ID{min(logID(1), logID(2)), max(logID(1), logID(2))}))
	f.Add([]byte(sourcesMagic + "x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ids, err := parseSources(b)
		if err != nil {
			return
		}
		if len(ids) > MaxSources || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Fatalf("parsed %v: out of bounds or order", ids)
		}
		if back := encodeSources(ids); !bytes.Equal(back, b) {
			t.Fatalf("encodes to %q, parsed from %q", back, b)
		}
	})
}

// TestSidecarSymlinks: a symbolic link planted at id.src or id.key is
// not followed: reading through it fails with ErrSymlink, and AddSource
// and SetKey replace the link, leaving its target as it was.
func TestSidecarSymlinks(t *testing.T) {
	s := newStore(t, nil)
	id, _, err := s.Add(writeSource(t, gen(60, 10)))
	if err != nil {
		t.Fatal(err)
	}
	target := writeSource(t, []byte(sourcesMagic))
	for _, ext := range []string{sourcesExt, keyExt} {
		if err := os.Symlink(target, s.path(id, ext)); err != nil {
			t.Skipf("cannot make a symbolic link: %v", err)
		}
	}
	if _, err := s.Sources(id); !errors.Is(err, ErrSymlink) {
		t.Errorf("Sources through a link = %v, want ErrSymlink", err)
	}
	if _, _, err := s.Key(id); !errors.Is(err, ErrSymlink) {
		t.Errorf("Key through a link = %v, want ErrSymlink", err)
	}
	if err := s.AddSource(id, logID(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetKey(id, [KeySize]byte{1}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != sourcesMagic {
		t.Errorf("the link's target was written: %q", b)
	}
	for _, ext := range []string{sourcesExt, keyExt} {
		if fi, err := os.Lstat(s.path(id, ext)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("id%s after the write: %v, %v; want a regular file", ext, fi.Mode(), err)
		}
	}
}
