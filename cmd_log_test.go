package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/topology/chat"
	"scuttle/topology/testkit"
)

// TestExercise10 is the seed's testing steps: append twice, read after each.
func TestExercise10(t *testing.T) {
	dir := t.TempDir()
	if out := mustScuttle(t, dir, "", "append", "hello", "world"); out != "" {
		t.Errorf("append printed %q, want nothing", out)
	}
	id := strings.TrimSpace(mustScuttle(t, dir, "", "id"))
	if _, err := applog.ParseID(id); err != nil {
		t.Fatalf("scuttle id printed %q: %v", id, err)
	}
	want1 := fmt.Sprintf("{peer: '%s', seq: 1, entry: 'hello world'}\n", id)
	if got := mustScuttle(t, dir, "", "read"); got != want1 {
		t.Errorf("read after one append:\n got %q\nwant %q", got, want1)
	}
	mustScuttle(t, dir, "", "append", "hello", "world")
	want2 := want1 + fmt.Sprintf("{peer: '%s', seq: 2, entry: 'hello world'}\n", id)
	if got := mustScuttle(t, dir, "", "read"); got != want2 {
		t.Errorf("read after two appends:\n got %q\nwant %q", got, want2)
	}
	if _, err := os.Stat(filepath.Join(dir, "logs.db")); err != nil {
		t.Errorf("the default database: %v", err)
	}
}

func TestAppendStdin(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	out := mustScuttle(t, dir, "a\nb b\r\n\nit's\\\tc", "append", "-v", "--db", db)
	if want := "1\n2\n3\n4\n"; out != want {
		t.Errorf("append -v printed %q, want %q", out, want)
	}
	mustScuttle(t, dir, "d\n", "append", "--db", db, "-")
	id := strings.TrimSpace(mustScuttle(t, dir, "", "id", "--db", db))
	var want strings.Builder
	for i, e := range []string{`'a'`, `'b b'`, `''`, `'it\'s\\\tc'`, `'d'`} {
		fmt.Fprintf(&want, "{peer: '%s', seq: %d, entry: %s}\n", id, i+1, e)
	}
	if got := mustScuttle(t, dir, "", "read", "--db", db); got != want.String() {
		t.Errorf("read:\n got %q\nwant %q", got, want.String())
	}
}

func TestReadJSON(t *testing.T) {
	dir := t.TempDir()
	before := time.Now().Add(-time.Second)
	mustScuttle(t, dir, "", "append", "zoë", "says", `"hi"`)
	mustScuttle(t, dir, "", "append", "two")
	after := time.Now().Add(time.Second)
	id := strings.TrimSpace(mustScuttle(t, dir, "", "id"))
	out := mustScuttle(t, dir, "", "read", "--json")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := []string{`zoë says "hi"`, "two"}
	if len(lines) != len(want) {
		t.Fatalf("read --json printed %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, line := range lines {
		var e struct {
			Peer  string `json:"peer"`
			Seq   uint64 `json:"seq"`
			Entry string `json:"entry"`
			Time  string `json:"time"`
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		if e.Peer != id || e.Seq != uint64(i+1) || e.Entry != want[i] {
			t.Errorf("line %d: got peer %s seq %d entry %q, want %s %d %q", i+1, e.Peer, e.Seq, e.Entry, id, i+1, want[i])
		}
		ts, err := time.Parse(time.RFC3339Nano, e.Time)
		if err != nil || ts.Before(before) || ts.After(after) {
			t.Errorf("line %d: time %q (%v), want RFC 3339 between %v and %v", i+1, e.Time, err, before, after)
		}
	}
	// --peer and --since select one log's entries above a seq.
	if got := mustScuttle(t, dir, "", "read", "--peer", id, "--since", "1"); got != fmt.Sprintf("{peer: '%s', seq: 2, entry: 'two'}\n", id) {
		t.Errorf("read --peer --since 1: got %q", got)
	}
}

// TestReadFollow checks that read --follow prints an entry that another
// process appends after it started, and ends cleanly on SIGINT.
func TestReadFollow(t *testing.T) {
	dir := t.TempDir()
	mustScuttle(t, dir, "", "append", "first")
	cmd := testkit.Command(t.Context(), exec.CommandContext, scuttleBin, dir, nil, "read", "--follow")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("read --follow ended early; stderr: %s", stderr.String())
			}
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("read --follow printed nothing for 10s")
		}
		return ""
	}
	if l := next(); !strings.HasSuffix(l, "seq: 1, entry: 'first'}") {
		t.Errorf("first line %q", l)
	}
	mustScuttle(t, dir, "", "append", "second")
	if l := next(); !strings.HasSuffix(l, "seq: 2, entry: 'second'}") {
		t.Errorf("followed line %q", l)
	}
	cmd.Process.Signal(syscall.SIGINT)
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("read --follow after SIGINT: %v; stderr: %s", err, stderr.String())
	}
}

func TestMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"read"}, {"logs"}, {"id"}, {"verify"}, {"read", "--follow"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stderr, code := scuttle(t, dir, "", nil, args...)
			want := fmt.Sprintf("scuttle %s: no database at logs.db (scuttle append creates one)\n", args[0])
			if code != 1 || stderr != want {
				t.Errorf("exit %d, stderr %q; want 1, %q", code, stderr, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "logs.db")); !os.IsNotExist(err) {
				t.Errorf("%v created the database (stat: %v)", args, err)
			}
		})
	}
}

func TestLogUsageErrors(t *testing.T) {
	dir := t.TempDir()
	mustScuttle(t, dir, "", "append", "x")
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"read", "extra"}, "scuttle read: takes no arguments"},
		{[]string{"read", "--peer", "nope"}, "scuttle read: --peer: "},
		{[]string{"read", "--since", "-1"}, `invalid value "-1" for flag -since`},
		{[]string{"logs", "x"}, "scuttle logs: takes no arguments"},
		{[]string{"id", "x"}, "scuttle id: takes no arguments"},
		{[]string{"verify", "x"}, "scuttle verify: takes no arguments"},
		{[]string{"append", "--wait", "soon"}, `invalid value "soon" for flag -wait`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, code := scuttle(t, dir, "", nil, tt.args...)
			if code != 2 || !strings.HasPrefix(stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want 2 and a first line starting %q", code, stderr, tt.msg)
			}
			if !hasLine(stderr, "usage: scuttle "+tt.args[0]) {
				t.Errorf("stderr lacks the usage:\n%s", stderr)
			}
		})
	}
}

// TestConcurrentAppendProcesses runs eight appending processes on one
// database: the writer lock makes them take turns, and none is lost.
func TestConcurrentAppendProcesses(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, stderr, code := scuttle(t, dir, "", nil, "append", "--wait", "30s", fmt.Sprint("p", i)); code != 0 {
				t.Errorf("append %d: exit %d: %s", i, code, stderr)
			}
		})
	}
	wg.Wait()
	out := mustScuttle(t, dir, "", "read")
	re := regexp.MustCompile(`^\{peer: '[a-z2-7]{52}', seq: (\d+), entry: 'p(\d)'\}$`)
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil || m[1] != fmt.Sprint(i+1) || seen[m[2]] {
			t.Errorf("line %d: %q", i+1, line)
			continue
		}
		seen[m[2]] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct entries, want %d:\n%s", len(seen), n, out)
	}
	if out := mustScuttle(t, dir, "", "verify"); out != "ok: 8 entries in 1 log\n" {
		t.Errorf("verify: %q", out)
	}
}

func TestLogsAndEnv(t *testing.T) {
	dir := t.TempDir()
	env := []string{"SCUTTLE_DB=" + filepath.Join(dir, "env.db")}
	run := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := scuttle(t, dir, "", env, args...)
		if code != 0 {
			t.Fatalf("scuttle %v: exit status %d\nstderr: %s", args, code, stderr)
		}
		return stdout
	}
	run("append", "one")
	run("append", "two")
	id := strings.TrimSpace(run("id"))
	if _, err := os.Stat(filepath.Join(dir, "env.db")); err != nil {
		t.Fatalf("SCUTTLE_DB was not used: %v", err)
	}
	var li struct {
		ID      string `json:"id"`
		Head    uint64 `json:"head"`
		Entries uint64 `json:"entries"`
		Bytes   int64  `json:"bytes"`
		Own     bool   `json:"own"`
	}
	out := run("logs", "--json")
	if err := json.Unmarshal([]byte(out), &li); err != nil {
		t.Fatalf("logs --json %q: %v", out, err)
	}
	if li.ID != id || li.Head != 2 || li.Entries != 2 || li.Bytes <= 0 || !li.Own {
		t.Errorf("logs --json: %+v, want id %s head 2 entries 2 bytes > 0 own", li, id)
	}
	table := run("logs")
	want := regexp.MustCompile(`^ID +HEAD +ENTRIES +BYTES +OWN +STATE\n` + id + ` +2 +2 +\d+ +own *\n$`)
	if !want.MatchString(table) {
		t.Errorf("logs:\n%s", table)
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `''`},
		{"hello world", `'hello world'`},
		{"it's", `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{"two\nlines\r\n", `'two\nlines\r\n'`},
		{"tab\there", `'tab\there'`},
		{"nul\x00bell\x07esc\x1bdel\x7f", `'nul\x00bell\x07esc\x1bdel\x7f'`},
		{"zoë ☃", `'zoë ☃'`},
		{"bad\xff\xc3", `'bad\xff\xc3'`},
		{"c1\u0085sep\u2028", `'c1\u0085sep\u2028'`},
	}
	for _, tt := range tests {
		if got := string(appendQuoted(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("appendQuoted(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestReadGolden reads a database written by an earlier build, in place:
// the output must not change (the on-disk format is stable), and reading
// must not write to the database.
func TestReadGolden(t *testing.T) {
	db := filepath.Join("testdata", "exercise10.db")
	before := treeDigest(t, db)
	for _, tt := range []struct {
		args   []string
		golden string
	}{
		{[]string{"read"}, "exercise10.read"},
		{[]string{"read", "--json"}, "exercise10.json"},
	} {
		want, err := os.ReadFile(filepath.Join("testdata", tt.golden))
		if err != nil {
			t.Fatal(err)
		}
		if got := mustScuttle(t, ".", "", append(tt.args, "--db", db)...); got != string(want) {
			t.Errorf("scuttle %s:\n got %q\nwant %q", strings.Join(tt.args, " "), got, want)
		}
	}
	if got := mustScuttle(t, ".", "", "verify", "--db", db); got != "ok: 4 entries in 1 log\n" {
		t.Errorf("verify: %q", got)
	}
	if after := treeDigest(t, db); after != before {
		t.Errorf("reading changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

// treeDigest describes every file below dir: name, size and contents' hash.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		fmt.Fprintf(&b, "%s %d %x\n", path, len(data), sha256.Sum256(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestCorruptDatabase flips a byte of a record's payload on disk: read
// prints the good prefix and fails naming the log, seq and offset, and
// verify reports it; neither panics or skips it silently.
func TestCorruptDatabase(t *testing.T) {
	dir := t.TempDir()
	for _, e := range []string{"first entry", "second entry", "third entry"} {
		mustScuttle(t, dir, "", "append", e)
	}
	id := strings.TrimSpace(mustScuttle(t, dir, "", "id"))
	segs, err := filepath.Glob(filepath.Join(dir, "logs.db", id, "*.seg"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments of %s: %v %v", id, segs, err)
	}
	data, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	at := strings.Index(string(data), "second entry")
	if at < 0 {
		t.Fatal("the segment does not hold the second entry's payload")
	}
	data[at] ^= 0x01
	if err := os.WriteFile(segs[0], data, 0o644); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := scuttle(t, dir, "", nil, "read")
	if want := fmt.Sprintf("{peer: '%s', seq: 1, entry: 'first entry'}\n", id); code != 1 || stdout != want {
		t.Errorf("read: exit %d, stdout %q; want 1 and the good prefix %q", code, stdout, want)
	}
	for _, part := range []string{"scuttle read: ", id, "seq 2", "offset"} {
		if !strings.Contains(stderr, part) {
			t.Errorf("read's error %q does not name %q", stderr, part)
		}
	}
	stdout, stderr, code = scuttle(t, dir, "", nil, "verify")
	if code != 1 || stderr != "scuttle verify: 1 problem\n" {
		t.Errorf("verify: exit %d, stderr %q; want 1 and one problem", code, stderr)
	}
	for _, part := range []string{id, "seq 2", "offset"} {
		if !strings.Contains(stdout, part) {
			t.Errorf("verify's report %q does not name %q", stdout, part)
		}
	}
}

// TestReadJSONBytes: an entry that is not valid UTF-8 keeps its bytes in
// read --json (data, base64), where the entry text alone would turn them
// into U+FFFD.
func TestReadJSONBytes(t *testing.T) {
	dir := t.TempDir()
	raw := "ok\xff\xfe\xc3"
	mustScuttle(t, dir, raw+"\nplain\n", "append")
	out := mustScuttle(t, dir, "", "read", "--json")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("read --json printed %d lines, want 2:\n%s", len(lines), out)
	}
	var e struct {
		Entry string `json:"entry"`
		Data  []byte `json:"data"` // encoding/json reads base64 into []byte
	}
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	if string(e.Data) != raw || e.Entry != "ok\uFFFD\uFFFD\uFFFD" {
		t.Errorf("invalid UTF-8 entry: data %q entry %q, want data %q", e.Data, e.Entry, raw)
	}
	if strings.Contains(lines[1], `"data"`) {
		t.Errorf("valid entry has a data field: %s", lines[1])
	}
}

// forkedDBs makes alice's database and a copy of it (a backup restored
// elsewhere), each with a different entry 3 after "one", "two", and a
// third database, bob's, holding alice's branch and then fed the copy's:
// bob's database holds alice's log forked at 3. It returns the three
// directories under dir.
func forkedDBs(t *testing.T, dir string) (aliceDB, copyDB, bobDB string) {
	t.Helper()
	aliceDB, copyDB, bobDB = filepath.Join(dir, "alice.db"), filepath.Join(dir, "copy.db"), filepath.Join(dir, "bob.db")
	mustScuttle(t, dir, "", "append", "--db", aliceDB, "one")
	mustScuttle(t, dir, "", "append", "--db", aliceDB, "two")
	if err := os.CopyFS(copyDB, os.DirFS(aliceDB)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(copyDB, "LOCK"))
	mustScuttle(t, dir, "", "append", "--db", aliceDB, "three")
	mustScuttle(t, dir, "", "append", "--db", copyDB, "other three")
	records := func(db string) (applog.ID, [][]byte) {
		l, err := applog.Open(db, &applog.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var recs [][]byte
		it := l.Iter(l.ID(), 1)
		for it.Next() {
			recs = append(recs, bytes.Clone(it.Record()))
		}
		it.Close()
		return l.ID(), recs
	}
	id, ra := records(aliceDB)
	_, rb := records(copyDB)
	bob, err := applog.Open(bobDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Insert(id, ra); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Insert(id, rb); !errors.Is(err, applog.ErrFork) {
		t.Fatalf("bob's insert of the other branch: %v, want ErrFork", err)
	}
	if err := bob.Close(); err != nil {
		t.Fatal(err)
	}
	return aliceDB, copyDB, bobDB
}

// TestForkedLogCommands: logs, logs --json and verify show the fork (verify
// with exit 0: it is no local corruption), and append to the own log
// when it is forked warns plainly.
func TestForkedLogCommands(t *testing.T) {
	dir := t.TempDir()
	aliceDB, _, bobDB := forkedDBs(t, dir)
	id := strings.TrimSpace(mustScuttle(t, dir, "", "id", "--db", aliceDB))

	table := mustScuttle(t, dir, "", "logs", "--db", bobDB)
	if !regexp.MustCompile(`(?m)^` + id + ` +3 +3 +\d+ +forked at 3$`).MatchString(table) {
		t.Errorf("logs:\n%s", table)
	}
	var forked uint64
	for line := range strings.Lines(mustScuttle(t, dir, "", "logs", "--db", bobDB, "--json")) {
		var li struct {
			ID     string `json:"id"`
			Forked uint64 `json:"forked"`
		}
		if err := json.Unmarshal([]byte(line), &li); err != nil {
			t.Fatal(err)
		}
		if li.ID == id {
			forked = li.Forked
		} else if li.Forked != 0 {
			t.Errorf("logs --json: %s", line)
		}
	}
	if forked != 3 {
		t.Errorf("logs --json: forked %d, want 3", forked)
	}
	out, stderr, code := scuttle(t, dir, "", nil, "verify", "--db", bobDB)
	wantLine := "forked: log " + id + " at seq 3: its author signed two different entries; frozen here (not local corruption)\n"
	if code != 0 || !strings.Contains(out, wantLine) || !strings.Contains(out, "ok: ") {
		t.Errorf("verify: exit %d, stdout:\n%s\nstderr: %s\nwant the line %q and ok", code, out, stderr, wantLine)
	}

	// alice receives bob's proof: her own log is forked
	proof := func() []byte {
		l, err := applog.Open(bobDB, &applog.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		p, err := l.ForkProof(applog.ID(id))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}()
	a, err := applog.Open(aliceDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, isNew, err := a.AddForkProof(proof); err != nil || !isNew {
		t.Fatalf("AddForkProof: %v, %v", isNew, err)
	}
	a.Close()
	_, stderr, code = scuttle(t, dir, "", nil, "append", "--db", aliceDB, "four")
	if code != 0 || stderr != "scuttle append: warning: "+chat.OwnForkWarning(3)+"\n" {
		t.Errorf("append to a forked own log: exit %d, stderr %q", code, stderr)
	}
}

// TestVerifyRepaired: with two log table records damaged, verify says
// what it found and repaired (the logs found from their directories),
// loses no entry and exits 0.
func TestVerifyRepaired(t *testing.T) {
	dir := t.TempDir()
	mustScuttle(t, dir, "", "append", "own entry")
	db, err := applog.Open(filepath.Join(dir, "logs.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		peer, err := applog.Open(filepath.Join(t.TempDir(), "peer"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := peer.Append(fmt.Appendf(nil, "peer %d", i)); err != nil {
			t.Fatal(err)
		}
		it := peer.Iter(peer.ID(), 1)
		for it.Next() {
			if _, err := db.Insert(peer.ID(), [][]byte{it.Record()}); err != nil {
				t.Fatal(err)
			}
		}
		it.Close()
		peer.Close()
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "logs.db", "logs")
	b, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	const header, record = 16, 36
	b[header+1*record+3] ^= 0x10
	b[header+3*record+3] ^= 0x10
	if err := os.WriteFile(table, b, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := scuttle(t, dir, "", nil, "verify")
	if code != 0 || stderr != "" {
		t.Fatalf("verify: exit %d, stderr %q; want 0", code, stderr)
	}
	for _, part := range []string{"applog: repaired: log table record 1 was damaged", "applog: repaired: log table record 3 was damaged", "ok: 4 entries in 4 logs\n"} {
		if !strings.Contains(stdout, part) {
			t.Errorf("verify's report %q does not say %q", stdout, part)
		}
	}
}
