package seal

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"scuttle/applog"
	"scuttle/applog/internal/osfile"
)

// TestRekeyKeepsHistory: after a rekey the new key seals, and what was
// sealed to the old one still opens, also from the keyring read anew.
func TestRekeyKeepsHistory(t *testing.T) {
	dir := t.TempDir()
	alice := newUser(t)
	kr, err := OpenKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if kr.Current() != nil || len(kr.Keys()) != 0 {
		t.Fatal("a new database's keyring holds keys")
	}
	log := &memLog{}
	seq, appended, err := kr.Publish(log)
	if err != nil || !appended || seq != 1 {
		t.Fatalf("first Publish: seq %d, appended %v, %v; want 1, true", seq, appended, err)
	}
	if seq, appended, err := kr.Publish(log); err != nil || appended || seq != 1 {
		t.Fatalf("second Publish: seq %d, appended %v, %v; want 1, false", seq, appended, err)
	}
	first := kr.Current()
	ctx := Context{Author: alice.id}
	if _, err := Seal(ctx, alice.key, []Recipient{{Log: "", Key: first.Public()}}, []byte("to the first key")); err == nil {
		t.Fatal("Seal took a recipient without a log")
	}
	bobID := newUser(t).id
	old, err := Seal(ctx, alice.key, []Recipient{{Log: bobID, Key: first.Public()}}, []byte("to the first key"))
	if err != nil {
		t.Fatal(err)
	}

	second, seq, err := kr.Rekey(log)
	if err != nil || seq != 2 {
		t.Fatalf("Rekey: seq %d, %v", seq, err)
	}
	if kr.Current() != second || second.Public().Equal(first.Public()) {
		t.Fatal("Rekey did not make a new current key")
	}
	for i, e := range log.entries {
		pub, err := ParseKeyEntry(e)
		if err != nil {
			t.Fatalf("entry %d: %v", i+1, err)
		}
		if want := []*PrivateKey{first, second}[i].Public(); !pub.Equal(want) {
			t.Errorf("entry %d publishes %s, want %s", i+1, pub, want)
		}
	}
	newer, err := Seal(ctx, alice.key, []Recipient{{Log: bobID, Key: second.Public()}}, []byte("to the second key"))
	if err != nil {
		t.Fatal(err)
	}

	again, err := OpenKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Published() != 2 || len(again.Keys()) != 2 || !again.Current().Public().Equal(second.Public()) {
		t.Fatalf("read anew: %d keys, published %d", len(again.Keys()), again.Published())
	}
	for _, tc := range []struct {
		payload []byte
		text    string
	}{{old, "to the first key"}, {newer, "to the second key"}} {
		var ids []Identity
		for _, k := range again.Keys() {
			ids = append(ids, k)
		}
		m, err := Open(tc.payload, ctx, ids...)
		if err != nil || string(m.Text) != tc.text {
			t.Errorf("open %q: %+v, %v", tc.text, m, err)
		}
	}
}

// TestPublishAfterCrash: a key saved but not published (a crash between
// the two) is published by the next Publish, not replaced.
func TestPublishAfterCrash(t *testing.T) {
	dir := t.TempDir()
	kr, _ := OpenKeyring(dir)
	k, _ := GenerateKey()
	kr.keys, kr.seqs = append(kr.keys, k), append(kr.seqs, 0)
	if err := kr.save(); err != nil {
		t.Fatal(err)
	}
	kr, err := OpenKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	log := &memLog{entries: make([][]byte, 6)}
	seq, appended, err := kr.Publish(log)
	if err != nil || !appended || seq != 7 {
		t.Fatalf("Publish: %d, %v, %v; want 7, true", seq, appended, err)
	}
	if pub, err := ParseKeyEntry(log.entries[6]); err != nil || !pub.Equal(k.Public()) {
		t.Fatalf("published %v, %v; want the saved key", pub, err)
	}
}

func TestKeyringFileIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
	dir := t.TempDir()
	kr, _ := OpenKeyring(dir)
	if _, _, err := kr.Publish(&memLog{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyringFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("keyring mode %v, want 0600", perm)
	}
	// One made readable by others is made private when read.
	os.Chmod(path, 0o644)
	if _, err := OpenKeyring(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("keyring mode after OpenKeyring %v, want 0600", fi.Mode().Perm())
	}
}

// TestKeyringPlantedSymlink: a symbolic link at the keyring's name is
// neither read nor written through.
func TestKeyringPlantedSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, KeyringFile)); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if _, err := OpenKeyring(dir); !errors.Is(err, osfile.ErrSymlink) || !errors.Is(err, applog.ErrSymlink) {
		t.Fatalf("OpenKeyring through a link: %v, want ErrSymlink", err)
	}
	// Nor is its temporary file written through a link.
	if err := os.Symlink(target, filepath.Join(dir, KeyringFile+".tmp")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, KeyringFile))
	kr, _ := OpenKeyring(dir)
	if _, _, err := kr.Publish(&memLog{}); err != nil {
		t.Fatal(err) // the stale temporary name is removed, not followed
	}
	if b, _ := os.ReadFile(target); len(b) != 0 {
		t.Errorf("the link's target was written: %d bytes", len(b))
	}
}

func TestKeyringDamage(t *testing.T) {
	dir := t.TempDir()
	kr, _ := OpenKeyring(dir)
	if _, _, err := kr.Publish(&memLog{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyringFile)
	good, _ := os.ReadFile(path)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"flipped key byte", flip(good, keyringHead+3)},
		{"flipped CRC", flip(good, len(good)-1)},
		{"cut", good[:len(good)-1]},
		{"version 2", flip(good, len(keyringMagic))},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.b, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenKeyring(dir); !errors.Is(err, ErrMalformed) {
				t.Fatalf("OpenKeyring: %v, want ErrMalformed", err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x03
	return c
}

func TestKeyEntry(t *testing.T) {
	k, _ := GenerateKey()
	e := KeyEntry(k.Public())
	if len(e) != 43 || !IsKeyEntry(e) || IsSealed(e) {
		t.Fatalf("key entry of %d bytes: %x", len(e), e)
	}
	pub, err := ParseKeyEntry(e)
	if err != nil || !pub.Equal(k.Public()) {
		t.Fatalf("ParseKeyEntry: %v, %v", pub, err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"cut", e[:42]},
		{"longer", append(append([]byte(nil), e...), 0)},
		{"version 2", flip(e, 8)},
		{"other KEM", flip(e, 10)},
		{"text", []byte(`{"username":"a","message":"b"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseKeyEntry(tc.b); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseKeyEntry: %v, want ErrMalformed", err)
			}
		})
	}
}
