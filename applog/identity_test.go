package applog_test

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"scuttle/applog"
)

func TestIdentity(t *testing.T) {
	dir := t.TempDir()
	db, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	priv := db.PrivateKey()
	if len(priv) != ed25519.PrivateKeySize {
		t.Fatalf("PrivateKey: %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	pub := priv.Public().(ed25519.PublicKey)
	if got := applog.IDOf(pub); got != db.ID() {
		t.Errorf("IDOf(the key's public half) = %s, want the own ID %s", got, db.ID())
	}
	back, err := db.ID().PublicKey()
	if err != nil || !back.Equal(pub) {
		t.Errorf("ID.PublicKey() = %x, %v; want %x", back, err, pub)
	}
	// The key signs what the own log's author signs.
	if !ed25519.Verify(back, []byte("m"), ed25519.Sign(priv, []byte("m"))) {
		t.Error("a signature by PrivateKey does not verify under ID.PublicKey")
	}
	// The copy handed out cannot change the database's key.
	priv[0] ^= 0xff
	if bytes.Equal(db.PrivateKey(), priv) {
		t.Error("PrivateKey returned the database's own slice, not a copy")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := applog.Open(dir, &applog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if k := ro.PrivateKey(); k != nil {
		t.Errorf("read-only PrivateKey = %d bytes, want nil", len(k))
	}
}

func TestIDPublicKeyBad(t *testing.T) {
	for _, id := range []applog.ID{"", "abc", applog.ID(bytes.Repeat([]byte("0"), 52)), applog.ID(bytes.Repeat([]byte("7"), 52))} {
		if k, err := id.PublicKey(); err == nil {
			t.Errorf("ID(%q).PublicKey() = %x, want an error", id, k)
		}
	}
}

func TestIDOfPanicsOnBadKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("IDOf(a 31-byte key) did not panic")
		}
	}()
	applog.IDOf(make(ed25519.PublicKey, 31))
}

// TestUnknownFileIgnored: a file applog does not know in the database
// directory, such as the names store's DIR/names, changes nothing for
// Open (writer and reader) or Verify.
func TestUnknownFileIgnored(t *testing.T) {
	dir := t.TempDir()
	db, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append([]byte("x")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.WriteFile(filepath.Join(dir, "names"), []byte("\nnot applog's\n\x00\xff"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		db, err := applog.Open(dir, &applog.Options{ReadOnly: ro})
		if err != nil {
			t.Fatalf("Open(ReadOnly %v) with DIR/names: %v", ro, err)
		}
		var problems []error
		if err := db.Verify(func(p error) { problems = append(problems, p) }); err != nil || len(problems) > 0 {
			t.Errorf("Verify(ReadOnly %v) with DIR/names: %v, problems %v", ro, err, problems)
		}
		if got := db.Head(db.ID()); got != 1 {
			t.Errorf("head %d, want 1", got)
		}
		db.Close()
	}
}
