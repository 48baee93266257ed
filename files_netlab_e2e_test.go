//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"scuttle/applog/blob"
	"scuttle/mdns/netlab"
	"scuttle/topology/testkit"
)

// fileLab is four chats on four netlab hosts, each naming the others,
// for the tests of files moved between hosts.
type fileLab struct {
	t     *testing.T
	lab   *netlab.Lab
	names []string
	dirs  []string
	procs []*chatProc
}

func newFileLab(t *testing.T, names ...string) *fileLab {
	t.Helper()
	l := &fileLab{t: t, lab: netlab.New(t, len(names)), names: names}
	for i := range names {
		l.dirs = append(l.dirs, t.TempDir())
		l.procs = append(l.procs, nil)
		l.start(i)
	}
	for i, p := range l.procs {
		var want []string
		for j, n := range names {
			if j != i {
				want = append(want, "info> direct connection to "+n)
			}
		}
		p.expectInfo(want...)
	}
	return l
}

// start starts chat i, naming every other.
func (l *fileLab) start(i int) *chatProc {
	l.t.Helper()
	args := append([]string{l.names[i]}, slices.Concat(l.names[:i], l.names[i+1:])...)
	l.procs[i] = labChat(l.t, l.lab.Hosts[i], l.dirs[i], args...)
	return l.procs[i]
}

// db is the database directory of chat i.
func (l *fileLab) db(i int) string { return filepath.Join(l.dirs[i], l.names[i]+".db") }

// sent returns the bytes each host has sent on the lab so far.
func (l *fileLab) sent() []uint64 {
	l.t.Helper()
	out := make([]uint64, len(l.names))
	for i, h := range l.lab.Hosts {
		c, err := h.Counters()
		if err != nil {
			l.t.Fatal(err)
		}
		out[i] = c.TxBytes
	}
	return out
}

// shape limits what host i sends on its lab interface to rate (tc's
// units, such as 100mbit), or lifts the limit if rate is "".
func (l *fileLab) shape(i int, rate string) {
	l.t.Helper()
	args := []string{"qdisc", "replace", "dev", "lan0", "root", "tbf", "rate", rate, "burst", "64kb", "latency", "100ms"}
	if rate == "" {
		args = []string{"qdisc", "del", "dev", "lan0", "root"}
	}
	if out, err := l.lab.Hosts[i].Command(l.t.Context(), "tc", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("tc %q on %s: %v: %s", args, l.names[i], err, out)
	}
}

// randomFile writes size bytes of a seeded random stream to a new file
// and returns its path, content id and SHA-256.
func randomFile(t *testing.T, name string, size int64, seed uint64) (string, blob.ID, [32]byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	src := rand.NewChaCha8([32]byte{byte(seed)})
	if _, err := io.CopyN(io.MultiWriter(f, h), src, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f, err = os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := blob.Hash(f)
	if err != nil {
		t.Fatal(err)
	}
	return p, m.ID(), [32]byte(h.Sum(nil))
}

// checkGot writes the file id out of the database db with scuttle get
// (also while a chat runs on it) and checks its SHA-256.
func checkGot(t *testing.T, db string, id blob.ID, want [32]byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	mustScuttle(t, "", "", "get", "--db", db, "-o", out, id.String())
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	if got := [32]byte(h.Sum(nil)); got != want {
		t.Fatalf("scuttle get %s from %s: SHA-256 %x, want %x", id, db, got, want)
	}
}

// heldBlocks returns how many blocks of file id the store of the
// database db holds, as scuttle files --json says.
func heldBlocks(t *testing.T, db string, id blob.ID) (held, blocks int) {
	t.Helper()
	out := mustScuttle(t, "", "", "files", "--json", "--db", db)
	for _, line := range bytes.Split(bytes.TrimSpace([]byte(out)), []byte("\n")) {
		var f struct {
			ID     string
			Blocks int
			Held   int
		}
		if err := json.Unmarshal(line, &f); err != nil {
			t.Fatalf("scuttle files --json: %q: %v", line, err)
		}
		if f.ID == id.String() {
			return f.Held, f.Blocks
		}
	}
	return 0, 0
}

// TestChatFileLab: a 64 MiB file shared in the chat between netlab
// hosts.
//   - alice sends it; carol fetches it (/get: it is past --fetch-max),
//     the bytes identical.
//   - bob fetches it from alice and carol at once: each serves part of
//     its blocks (at least an eighth), the bytes identical.
//   - dave's chat is killed (SIGKILL) part-way through its fetch, and
//     started again: the fetch resumes from the blocks on disk without a
//     new /get, and the hosts send about what was missing, not the whole
//     file again.
func TestChatFileLab(t *testing.T) {
	const size = 64 << 20
	l := newFileLab(t, "alice", "bob", "carol", "dave")
	alice, bob, carol, dave := l.procs[0], l.procs[1], l.procs[2], l.procs[3]
	path, id, sum := randomFile(t, "big.bin", size, 1)
	line := "alice> [file] big.bin (" + blob.FormatSize(size) + ") " + id.String()
	fetching := "info> fetching big.bin (" + blob.FormatSize(size) + ") from the peers that hold it"
	complete := "info> big.bin complete: scuttle get " + id.String()

	alice.say("/send " + path)
	for _, p := range l.procs {
		p.expect(line)
	}
	carol.say("/get " + id.String())
	carol.expect(fetching, complete)
	checkGot(t, l.db(2), id, sum)

	before := l.sent()
	start := time.Now()
	bob.say("/get " + id.String())
	bob.expect(fetching, complete)
	t.Logf("bob fetched %d bytes in %v", size, time.Since(start))
	after := l.sent()
	checkGot(t, l.db(1), id, sum)
	for _, i := range []int{0, 2} {
		if n := after[i] - before[i]; n < size/8 {
			t.Errorf("%s sent %d bytes while bob fetched the %d-byte file, want at least an eighth: both holders serve", l.names[i], n, size)
		}
	}

	// dave: killed part-way, then started again. The holders send at
	// 100 Mbit/s meanwhile, so that the kill comes well before the end
	// however fast the machine.
	for i := range 3 {
		l.shape(i, "100mbit")
	}
	before = l.sent()
	dave.say("/get " + id.String())
	tick := time.NewTicker(2 * time.Millisecond) // the lab's counters tell no event
	defer tick.Stop()
	deadline := time.After(testkit.ChatWait)
	for waiting := true; waiting; {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the hosts sent less than a quarter of the file to dave within %v", testkit.ChatWait)
		}
		now := l.sent()
		var n uint64
		for i := range 3 {
			n += now[i] - before[i]
		}
		waiting = n < size/4
	}
	dave.cmd.Process.Kill()
	<-dave.done
	for i := range 3 {
		l.shape(i, "")
	}
	held, blocks := heldBlocks(t, l.db(3), id)
	if held == 0 || held >= blocks {
		t.Fatalf("dave's store holds %d of %d blocks after the kill, want part of the file", held, blocks)
	}
	mid := l.sent()
	dave = l.start(3)
	dave.expect(line, complete)
	end := l.sent()
	checkGot(t, l.db(3), id, sum)
	var again uint64
	for i := range 3 {
		again += end[i] - mid[i]
	}
	missing := uint64(blocks-held) * blob.BlockSize
	// The hosts sent what was missing, plus TLS, TCP and the chat's own
	// traffic: well below what a fetch from the start would cost.
	if limit := missing + size/8; again > limit {
		t.Errorf("after the restart the hosts sent %d bytes to dave for %d missing bytes (%d of %d blocks held), want at most %d: the fetch should resume", again, missing, held, blocks, limit)
	}
	t.Logf("dave held %d of %d blocks after the kill; the hosts then sent %d bytes for %d missing (%.3f×)", held, blocks, again, missing, float64(again)/float64(missing))
}
