package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"scuttle/applog"
	"scuttle/applog/seal"
	"scuttle/topology"
)

// sealUser is a database with a published encryption key.
type sealUser struct {
	dir string
	db  *applog.DB
	kr  *seal.Keyring
}

func newSealUser(t *testing.T, dir string) *sealUser {
	t.Helper()
	db, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kr, err := seal.OpenKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := kr.Publish(db); err != nil {
		t.Fatal(err)
	}
	return &sealUser{dir: dir, db: db, kr: kr}
}

// sealed returns the payload of a seal function, failing t on error.
func sealed(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func (u *sealUser) id() applog.ID { return u.db.ID() }

func (u *sealUser) rcpt() seal.Recipient {
	return seal.Recipient{Log: u.id(), Key: u.kr.Current().Public()}
}

func (u *sealUser) append(t *testing.T, payload []byte) {
	t.Helper()
	if _, err := u.db.Append(payload); err != nil {
		t.Fatal(err)
	}
}

// copyLog inserts from's own log into to's database.
func copyLog(t *testing.T, from, to *sealUser) {
	t.Helper()
	var recs [][]byte
	it := from.db.Iter(from.id(), 1)
	for it.Next() {
		recs = append(recs, bytes.Clone(it.Record()))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := to.db.Insert(from.id(), recs); err != nil {
		t.Fatal(err)
	}
}

// readLines runs scuttle read on u's database (closed first) with args.
func readLines(t *testing.T, u *sealUser, env map[string]string, args ...string) (string, string) {
	t.Helper()
	if err := u.db.Close(); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runInProcess(t, env, "", append([]string{"read", "--db", u.dir}, args...)...)
	if code != 0 {
		t.Fatalf("read %v: exit %d: %s", args, code, stderr)
	}
	return stdout, stderr
}

// TestReadOpen: read prints sealed entries as sealed; read --open prints
// the text of what the database's keys open (a private message, a room's
// key, its lines, also a line stored before the key that opens it), and
// nothing else: a non-recipient and a removed member see no word of what
// is not theirs, on their terminal or in their database's files.
func TestReadOpen(t *testing.T) {
	must := sealed(t)
	dir := t.TempDir()
	alice := newSealUser(t, filepath.Join(dir, "alice.db"))
	bob := newSealUser(t, filepath.Join(dir, "bob.db"))
	carol := newSealUser(t, filepath.Join(dir, "carol.db"))
	dave := newSealUser(t, filepath.Join(dir, "dave.db"))
	ctxA := seal.Context{Author: alice.id()}
	ctxC := seal.Context{Author: carol.id()}

	r0, err := seal.NewRoom("ops")
	if err != nil {
		t.Fatal(err)
	}
	alice.append(t, must(seal.Seal(ctxA, alice.kr.Current(), []seal.Recipient{bob.rcpt()}, []byte("hi bob, it's alice"))))
	alice.append(t, must(seal.Invite(ctxA, alice.kr.Current(), []seal.Recipient{bob.rcpt(), carol.rcpt()}, r0)))
	alice.append(t, must(seal.SealLine(ctxA, r0, []byte("first room line"))))
	r1 := r0.Rotate() // carol is kicked
	alice.append(t, must(seal.Invite(ctxA, alice.kr.Current(), []seal.Recipient{bob.rcpt()}, r1)))
	alice.append(t, must(seal.SealLine(ctxA, r1, []byte("after the kick"))))
	alice.append(t, []byte("in public"))
	carol.append(t, must(seal.SealLine(ctxC, r0, []byte("carol in the room"))))
	for _, u := range []*sealUser{bob, carol, dave} {
		if u != carol {
			copyLog(t, carol, u) // stored before alice's log, and its room key
		}
		copyLog(t, alice, u)
	}
	A, B, C := alice.id(), bob.id(), carol.id()
	keyA := alice.kr.Current().Public()
	keyC := carol.kr.Current().Public()
	line := func(format string, args ...any) string { return fmt.Sprintf(format, args...) + "\n" }
	carolLines := line("{peer: '%s', seq: 1, key: '%s'}", C, keyC)
	sealedCarol := carolLines + line("{peer: '%s', seq: 2, sealed: true}", C)
	aliceKey := line("{peer: '%s', seq: 1, key: '%s'}", A, keyA)
	public := line("{peer: '%s', seq: 7, entry: 'in public'}", A)

	sealed := sealedCarol + aliceKey
	for seq := 2; seq <= 6; seq++ {
		sealed += line("{peer: '%s', seq: %d, sealed: true}", A, seq)
	}
	sealed += public
	wantBob := carolLines + line("{peer: '%s', seq: 2, room: 'ops', entry: 'carol in the room'}", C) + aliceKey +
		line("{peer: '%s', seq: 2, to: ['%s'], entry: 'hi bob, it\\'s alice'}", A, B) +
		line("{peer: '%s', seq: 3, to: ['%s', '%s'], invite: 'ops', epoch: 0}", A, B, C) +
		line("{peer: '%s', seq: 4, room: 'ops', entry: 'first room line'}", A) +
		line("{peer: '%s', seq: 5, to: ['%s'], invite: 'ops', epoch: 1}", A, B) +
		line("{peer: '%s', seq: 6, room: 'ops', entry: 'after the kick'}", A) + public
	wantCarol := carolLines + line("{peer: '%s', seq: 2, room: 'ops', entry: 'carol in the room'}", C) + aliceKey +
		line("{peer: '%s', seq: 2, sealed: true}", A) +
		line("{peer: '%s', seq: 3, to: ['%s', '%s'], invite: 'ops', epoch: 0}", A, B, C) +
		line("{peer: '%s', seq: 4, room: 'ops', entry: 'first room line'}", A) +
		line("{peer: '%s', seq: 5, sealed: true}", A) +
		line("{peer: '%s', seq: 6, sealed: true}", A) + public
	own := func(u *sealUser) string {
		return line("{peer: '%s', seq: 1, key: '%s'}", u.id(), u.kr.Current().Public())
	}
	wantDave := own(dave) + sealed
	wantBob, sealedBob := own(bob)+wantBob, own(bob)+sealed // carol's own log is among the others

	for _, tc := range []struct {
		name string
		u    *sealUser
		args []string
		want string
	}{
		{"bob, without --open", bob, nil, sealedBob},
		{"bob", bob, []string{"--open"}, wantBob},
		{"carol, removed after seq 3", carol, []string{"--open"}, wantCarol},
		{"dave, no recipient", dave, []string{"--open"}, wantDave},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := readLines(t, tc.u, nil, tc.args...)
			if got != tc.want {
				t.Errorf("read %v:\n got %s\nwant %s", tc.args, got, tc.want)
			}
		})
	}
	// Neither dave's nor carol's files hold a word that was not theirs.
	for _, tc := range []struct {
		u     *sealUser
		words []string
	}{
		{dave, []string{"hi bob", "first room line", "after the kick", "carol in the room"}},
		{carol, []string{"hi bob", "after the kick"}},
	} {
		filepath.WalkDir(tc.u.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(path)
			for _, w := range tc.words {
				if bytes.Contains(b, []byte(w)) {
					t.Errorf("%s holds %q", path, w)
				}
			}
			return nil
		})
	}
}

// TestReadOpenNetwork: an entry sealed in a private network opens only
// with that network's key given to read --open.
func TestReadOpenNetwork(t *testing.T) {
	must := sealed(t)
	dir := t.TempDir()
	alice := newSealUser(t, filepath.Join(dir, "alice.db"))
	bob := newSealUser(t, filepath.Join(dir, "bob.db"))
	text, err := topology.NewNetworkKey()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := topology.ParseNetworkKey(text)
	ctx := seal.Context{Author: alice.id(), Network: seal.NetworkID(key)}
	alice.append(t, must(seal.Seal(ctx, alice.kr.Current(), []seal.Recipient{bob.rcpt()}, []byte("in the network"))))
	copyLog(t, alice, bob)
	A := alice.id()
	sealedLine := fmt.Sprintf("{peer: '%s', seq: 2, sealed: true}\n", A)
	openLine := fmt.Sprintf("{peer: '%s', seq: 2, to: ['%s'], entry: 'in the network'}\n", A, bob.id())
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"public network", nil, []string{"--open"}, sealedLine},
		{"--network", nil, []string{"--open", "--network", text}, openLine},
		{"SCUTTLE_NETWORK", map[string]string{"SCUTTLE_NETWORK": text}, []string{"--open"}, openLine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := readLines(t, bob, tc.env, append(tc.args, "--peer", string(A))...)
			if !strings.HasSuffix(got, tc.want) {
				t.Errorf("got\n%s\nwant its last line %s", got, tc.want)
			}
		})
	}
}

// TestReadOpenJSON: the JSON shapes of a key entry, a sealed entry, and
// an opened one.
func TestReadOpenJSON(t *testing.T) {
	must := sealed(t)
	dir := t.TempDir()
	alice := newSealUser(t, filepath.Join(dir, "alice.db"))
	bob := newSealUser(t, filepath.Join(dir, "bob.db"))
	ctx := seal.Context{Author: alice.id()}
	alice.append(t, must(seal.Seal(ctx, alice.kr.Current(), []seal.Recipient{bob.rcpt()}, []byte("hi"))))
	copyLog(t, alice, bob)
	strip := regexp.MustCompile(`,"time":"[^"]*"`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, fmt.Sprintf(`{"peer":"%s","seq":1,"key":"%s"}`+"\n"+`{"peer":"%s","seq":2,"sealed":true}`+"\n", alice.id(), alice.kr.Current().Public(), alice.id())},
		{[]string{"--open"}, fmt.Sprintf(`{"peer":"%s","seq":1,"key":"%s"}`+"\n"+`{"peer":"%s","seq":2,"sealed":true,"to":["%s"],"entry":"hi"}`+"\n", alice.id(), alice.kr.Current().Public(), alice.id(), bob.id())},
	} {
		got, _ := readLines(t, bob, nil, append(tc.args, "--json", "--peer", string(alice.id()))...)
		for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
			if !json.Valid([]byte(l)) || !strings.Contains(l, `"time":"`) {
				t.Errorf("line %s: not JSON with a time", l)
			}
		}
		if got := strip.ReplaceAllString(got, ""); got != tc.want {
			t.Errorf("read --json %v:\n got %s\nwant %s", tc.args, got, tc.want)
		}
	}
}

// TestRekeyCommand: rekey publishes a new key in the own log each time
// and keeps the older ones; what was sealed to an older key still opens.
func TestRekeyCommand(t *testing.T) {
	must := sealed(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "bob.db")
	env := map[string]string{"SCUTTLE_DB": db}
	keyLine := regexp.MustCompile(`^\{key: '([a-z2-7]{52})', seq: (\d+), kept: (\d+)\}\n$`)
	var keys []string
	for i := 1; i <= 2; i++ {
		stdout, stderr, code := runInProcess(t, env, "", "rekey")
		m := keyLine.FindStringSubmatch(stdout)
		if code != 0 || m == nil || m[2] != fmt.Sprint(i) || m[3] != fmt.Sprint(i) {
			t.Fatalf("rekey %d: exit %d, %q, %s", i, code, stdout, stderr)
		}
		keys = append(keys, m[1])
	}
	if keys[0] == keys[1] {
		t.Fatal("rekey published the same key twice")
	}
	if fi, err := os.Stat(filepath.Join(db, seal.KeyringFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyring: %v, %v; want mode 0600", fi, err)
	}
	id := strings.TrimSpace(mustRun(t, env, "id"))
	want := fmt.Sprintf("{peer: '%s', seq: 1, key: '%s'}\n{peer: '%s', seq: 2, key: '%s'}\n", id, keys[0], id, keys[1])
	if got := mustRun(t, env, "read"); got != want {
		t.Errorf("read:\n got %s\nwant %s", got, want)
	}

	// A message sealed to each key opens with the keyring.
	alice := newSealUser(t, filepath.Join(dir, "alice.db"))
	bobID := applog.ID(id)
	for i, k := range keys {
		pub, err := seal.ParsePublicKeyString(k)
		if err != nil {
			t.Fatal(err)
		}
		alice.append(t, must(seal.Seal(seal.Context{Author: alice.id()}, alice.kr.Current(), []seal.Recipient{{Log: bobID, Key: pub}}, []byte(fmt.Sprintf("to key %d", i+1)))))
	}
	b, err := applog.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	copyLog(t, alice, &sealUser{db: b})
	b.Close()
	got := mustRun(t, env, "read", "--open", "--peer", string(alice.id()))
	for i := range keys {
		if w := fmt.Sprintf("entry: 'to key %d'}", i+1); !strings.Contains(got, w) {
			t.Errorf("read --open lacks %q:\n%s", w, got)
		}
	}

	// A chat holding the database makes rekey fail after --wait.
	l, err := applog.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, stderr, code := runInProcess(t, env, "", "rekey", "--wait", "0"); code != 1 || !strings.HasPrefix(stderr, "scuttle rekey: ") {
		t.Errorf("rekey of a database in use: exit %d, %s; want 1", code, stderr)
	}
}

func mustRun(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	stdout, stderr, code := runInProcess(t, env, "", args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	return stdout
}

func TestSealUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"read", "--network", "x"}, "scuttle read: --network and --network-file go with --open"},
		{[]string{"rekey", "x"}, "scuttle rekey: takes no arguments"},
	} {
		_, stderr, code := runInProcess(t, map[string]string{"SCUTTLE_DB": t.TempDir()}, "", tc.args...)
		if code != 2 || !hasLine(stderr, tc.msg) {
			t.Errorf("%v: exit %d, %s; want 2 and %q", tc.args, code, stderr, tc.msg)
		}
	}
}
