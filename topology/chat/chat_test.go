package chat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/applog/replicate"
	"scuttle/topology/testkit"
)

// The chat as a unit, in this process: chats on 127.0.0.1 listeners,
// NAME peers found through a fakeNet instead of multicast DNS, no root.

// fakeNet resolves NAME.local to NAME.test and dials NAME.test:PORT at
// the listener of the chat registered as NAME, whatever PORT: so chats
// dial NAME peers as over mDNS, on ports of the kernel's choosing.
type fakeNet struct {
	mu     sync.Mutex
	addrs  map[string]string // name → 127.0.0.1:port
	dials  map[string]int    // 127.0.0.1:port → dials made to it
	dialed chan struct{}     // closed and replaced at each dial
}

func newFakeNet() *fakeNet {
	return &fakeNet{addrs: map[string]string{}, dials: map[string]int{}, dialed: make(chan struct{})}
}

// dialCount returns the dials made to addr so far.
func (n *fakeNet) dialCount(addr string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dials[addr]
}

// awaitDials waits until want dials to addr have been made.
func (n *fakeNet) awaitDials(t *testing.T, addr string, want int) {
	t.Helper()
	deadline := time.After(testkit.ChatWait)
	for {
		n.mu.Lock()
		got, ch := n.dials[addr], n.dialed
		n.mu.Unlock()
		if got >= want {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%d dials to %s within %v, want %d", got, addr, testkit.ChatWait, want)
		}
	}
}

func (n *fakeNet) set(name, addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if addr == "" {
		delete(n.addrs, name)
	} else {
		n.addrs[name] = addr
	}
}

func (n *fakeNet) LookupHost(ctx context.Context, host string) ([]string, error) {
	name := strings.TrimSuffix(host, ".local")
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.addrs[name]; !ok {
		return nil, fmt.Errorf("fakeNet: no %s", host)
	}
	return []string{name + ".test"}, nil
}

func (n *fakeNet) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if name, ok := strings.CutSuffix(host, ".test"); ok {
		n.mu.Lock()
		a, ok := n.addrs[name]
		n.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("fakeNet: %s is down", name)
		}
		addr = a
	}
	n.mu.Lock()
	n.dials[addr]++
	close(n.dialed)
	n.dialed = make(chan struct{})
	n.mu.Unlock()
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

// unitChat is a chat running in this process.
type unitChat struct {
	t      *testing.T
	name   string
	dir    string
	db     *applog.DB
	names  *names.Store
	c      *Chat
	addr   string // where it listens
	in     *io.PipeWriter
	out    *lineWriter
	errs   *lineWriter
	cancel context.CancelFunc
	done   chan error
	seen   []string
}

// startUnitChat runs a chat as me with peers, on the database in dir (a
// new one if dir is ""), and registers it in fn.
func startUnitChat(t *testing.T, fn *fakeNet, dir, me string, peers ...string) *unitChat {
	t.Helper()
	return startUnitChatOpts(t, fn, nil, dir, me, peers...)
}

// startUnitChatOpts is startUnitChat with the database opened with opts.
func startUnitChatOpts(t *testing.T, fn *fakeNet, opts *applog.Options, dir, me string, peers ...string) *unitChat {
	t.Helper()
	return startUnitChatWith(t, fn, opts, nil, nil, dir, me, peers...)
}

// startUnitChatWith is startUnitChatOpts with cfg, if not nil, changing
// the chat's Config before New, and setup, if not nil, the chat before
// Run.
func startUnitChatWith(t *testing.T, fn *fakeNet, opts *applog.Options, cfg func(*Config), setup func(*Chat), dir, me string, peers ...string) *unitChat {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	db, err := applog.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := names.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	u := &unitChat{t: t, name: me, dir: dir, db: db, names: ns, addr: ln.Addr().String(), in: inW,
		out: newLineWriter(), errs: newLineWriter(), done: make(chan error, 1)}
	config := Config{
		Me: me, Peers: peers, DB: db, Names: ns, Listener: ln, Resolver: fn, Dial: fn.Dial,
		In: inR, Out: u.out, Errs: u.errs,
	}
	if cfg != nil {
		cfg(&config)
	}
	u.c = New(config)
	if setup != nil {
		setup(u.c)
	}
	ctx, cancel := context.WithCancel(t.Context())
	u.cancel = cancel
	go func() { u.done <- u.c.Run(ctx) }()
	fn.set(me, u.addr)
	t.Cleanup(func() { u.stop(fn) })
	return u
}

// stop ends the chat, waits for it and closes its database; it fails the
// test if the chat returned an error or wrote to Errs.
func (u *unitChat) stop(fn *fakeNet) {
	u.t.Helper()
	if u.cancel == nil {
		return
	}
	fn.set(u.name, "")
	u.cancel()
	u.cancel = nil
	u.in.Close()
	select {
	case err := <-u.done:
		if err != nil {
			u.t.Errorf("%s: run: %v", u.name, err)
		}
	case <-time.After(testkit.ChatWait):
		u.t.Fatalf("%s did not end within %v", u.name, testkit.ChatWait)
	}
	if err := u.db.Close(); err != nil {
		u.t.Errorf("%s: closing the database: %v", u.name, err)
	}
	if s := u.errs.String(); s != "" {
		u.t.Errorf("%s wrote to Errs: %q", u.name, s)
	}
}

func (u *unitChat) say(line string) {
	u.t.Helper()
	if _, err := io.WriteString(u.in, line+"\n"); err != nil {
		u.t.Fatalf("typing into %s: %v", u.name, err)
	}
}

// expect waits for the next lines of output to include want, in any
// order, skipping "info> " lines that are not in want; any other line
// fails the test.
func (u *unitChat) expect(want ...string) {
	u.t.Helper()
	testkit.ExpectLines(u.t, u.name, u.out.lines, &u.seen, testkit.IsInfo, want)
}

// chat is u as testkit's exchanges see it.
func (u *unitChat) chat() testkit.Chat { return testkit.Chat{Say: u.say, Expect: u.expect} }

// expectSeen waits for line as expect does, unless the chat has printed
// it already: for a line whose moment a race decides.
func (u *unitChat) expectSeen(line string) {
	u.t.Helper()
	u.drain()
	if u.count(line) == 0 {
		u.expect(line)
	}
}

// drain takes the lines printed so far into seen, without waiting.
func (u *unitChat) drain() {
	for {
		select {
		case l := <-u.out.lines:
			u.seen = append(u.seen, l)
		default:
			return
		}
	}
}

// count returns how many lines of seen are line.
func (u *unitChat) count(line string) int {
	n := 0
	for _, l := range u.seen {
		if l == line {
			n++
		}
	}
	return n
}

// lineWriter hands each complete line written to it to lines.
type lineWriter struct {
	mu    sync.Mutex
	part  []byte
	all   bytes.Buffer
	lines chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 4096)} }

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(b)
	w.part = append(w.part, b...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			return len(b), nil
		}
		select {
		case w.lines <- string(w.part[:i]):
		default:
			return 0, errors.New("lineWriter: 4096 lines unread")
		}
		w.part = w.part[i+1:]
	}
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// TestUnitChatTwo: alice types while bob is away; bob comes, and both
// print each other's lines as NAME>, since each name is bound to its
// own key: bob's by the connection, alice's by herself.
func TestUnitChatTwo(t *testing.T) {
	fn := newFakeNet()
	a := startUnitChat(t, fn, "", "alice", "bob")
	a.say("hello")
	a.expect("alice> hello")

	b := startUnitChat(t, fn, "", "bob", "alice")
	b.expect("info> direct connection to alice", "alice> hello")
	a.expect("info> direct connection to bob")
	b.say("hi alice")
	a.expect("bob> hi alice")
	b.expect("bob> hi alice")
	a.stop(fn)
	b.expect("info> lost connection to alice")
	b.stop(fn)

	checkBindings(t, a.names, map[string]string{"alice": "direct " + string(a.db.ID()), "bob": "direct " + string(b.db.ID())})
	checkBindings(t, b.names, map[string]string{"alice": "direct " + string(a.db.ID()), "bob": "direct " + string(b.db.ID())})
	wantA := []string{"alice> hello", "info> direct connection to bob", "bob> hi alice"}
	if !slices.Equal(a.seen, wantA) {
		t.Errorf("alice printed %q, want %q", a.seen, wantA)
	}
	wantB := []string{"info> direct connection to alice", "alice> hello", "bob> hi alice", "info> lost connection to alice"}
	if !slices.Equal(sortedExceptLast(b.seen), sortedExceptLast(wantB)) {
		t.Errorf("bob printed %q, want %q (the first two in any order)", b.seen, wantB)
	}
}

// sortedExceptLast sorts all but the last two lines, whose order the test
// fixes, and the rest of which may come in either order.
func sortedExceptLast(l []string) []string {
	l = slices.Clone(l)
	if len(l) > 2 {
		slices.Sort(l[:len(l)-2])
	}
	return l
}

// TestUnitChatForward: alice and carol each name only bob; their lines
// reach each other through bob, and each learns the other's name from
// the other's log (claimed), never by a connection.
func TestUnitChatForward(t *testing.T) {
	fn := newFakeNet()
	a := startUnitChat(t, fn, "", "alice", "bob")
	b := startUnitChat(t, fn, "", "bob", "alice", "carol")
	c := startUnitChat(t, fn, "", "carol", "bob")
	testkit.ForwardThroughBob(a.chat(), b.chat(), c.chat())
	for _, u := range []*unitChat{a, b, c} {
		u.stop(fn)
		u.drain()
	}
	testkit.CheckAliceNeverMetCarol(t, a.seen)
	checkBindings(t, a.names, map[string]string{
		"alice": "direct " + string(a.db.ID()),
		"bob":   "direct " + string(b.db.ID()),
		"carol": "claimed " + string(c.db.ID()),
	})
}

// TestUnitChatImpostor: a second "bob", with a key of its own, dials
// alice again and again. Alice refuses it with one line for the run,
// keeps the real bob, and accepts the newcomer only once the user
// trusts it, without a restart.
func TestUnitChatImpostor(t *testing.T) {
	fn := newFakeNet()
	a := startUnitChat(t, fn, "", "alice")
	b := startUnitChat(t, fn, "", "bob", "alice")
	a.expect("info> direct connection to bob")
	b.expect("info> direct connection to alice")

	// The impostor dials alice by address: "bob" is the real bob in fn.
	before := fn.dialCount(a.addr)
	m := startUnitChat(t, fn, "", "bob", a.addr)
	fn.set("bob", b.addr) // m registered itself as bob; undo that
	mID := m.db.ID()
	refused := fmt.Sprintf("info> refused bob at 127.0.0.1: key %s is not the bob you know (%s); to accept it: scuttle trust bob %s",
		mID.Short(), b.db.ID().Short(), mID)
	a.expect(refused)
	// The impostor redials after each refusal: its fourth dial comes
	// after alice refused three.
	fn.awaitDials(t, a.addr, before+4)
	b.say("the real bob")
	a.expect("bob> the real bob")
	a.drain()
	if n := a.count(refused); n != 1 {
		t.Errorf("alice printed the refusal %d times for three dials, want once; output %q", n, a.seen)
	}
	for _, l := range a.seen {
		if l != refused && l != "info> direct connection to bob" && l != "bob> the real bob" {
			t.Errorf("alice printed %q", l)
		}
	}

	// "scuttle trust bob M" from another process: alice's next
	// authorization of the impostor accepts it.
	other, err := names.Open(a.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Bind("bob", mID, names.Trusted); err != nil {
		t.Fatal(err)
	}
	m.say("now trusted")
	a.expect("bob> now trusted")
	b.say("the old bob")
	a.expect("bob~" + b.db.ID().Short() + "> the old bob")
}

// TestUnitChatClaimedNames: the display of a name that another log
// claims. Alice's database holds the real bob's log, mallory's (who
// writes as bob and as carol), dave's (who writes as carol too, then
// as dave, then a plain entry) and eve's (who writes as look-alikes of
// bob, then pads a line to forge another). A log claims one name; a
// look-alike of a bound name prints as NAME~SHORT; invisible characters
// and long runs of blanks print escaped.
func TestUnitChatClaimedNames(t *testing.T) {
	dir := t.TempDir()
	alice, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	bob := newTestDB(t, `{"username":"bob","message":"hi"}`)
	mallory := newTestDB(t, `{"username":"bob","message":"send me the keys"}`, `{"username":"carol","message":"first"}`)
	dave := newTestDB(t, `{"username":"carol","message":"me too"}`, `{"username":"dave","message":"plain"}`, "not json")
	// eve writes as look-alikes of bob, and as a name of her own, then
	// pads a line so that it would wrap into a row of its own.
	eve := newTestDB(t, `{"username":"bоb","message":"cyrillic"}`, `{"username":"bob\u200d","message":"joiner"}`, `{"username":"\u202ebob","message":"override"}`,
		`{"username":"eve","message":"mine"}`, `{"username":"eve","message":"ok`+strings.Repeat(" ", 150)+`bob> hi"}`)
	ns, err := names.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Bind("bob", bob.ID(), names.Direct); err != nil { // bob connected once
		t.Fatal(err)
	}
	for _, from := range []*applog.DB{bob, mallory, dave, eve} {
		copyLogs(t, from, alice)
	}
	alice.Close()

	fn := newFakeNet()
	a := startUnitChat(t, fn, dir, "alice")
	a.say("me")
	ms, ds, es := mallory.ID().Short(), dave.ID().Short(), eve.ID().Short()
	want := []string{
		"bob> hi",
		"bob~" + ms + "> send me the keys",
		"carol> first",
		"carol~" + ds + "> me too",
		"dave> plain",
		"dave> not json", // a plain entry of dave's log, under its name
		"bоb~" + es + "> cyrillic",
		`bob\u200d~` + es + "> joiner",
		`\u202ebob~` + es + "> override",
		"eve> mine",
		"eve> ok [150 blanks] bob> hi",
		"alice> me",
	}
	a.expect(want...)
	a.stop(fn)
	a.drain()
	if len(a.seen) != len(want) {
		t.Errorf("printed %q, want %q", a.seen, want)
	}
	checkBindings(t, a.names, map[string]string{
		"alice": "direct " + string(a.db.ID()),
		"bob":   "direct " + string(bob.ID()),
		"carol": "claimed " + string(mallory.ID()),
		"dave":  "claimed " + string(dave.ID()),
		"eve":   "claimed " + string(eve.ID()),
	})
}

// copyLogs replicates every log of from into to, and returns once to
// holds them all.
func copyLogs(t *testing.T, from, to *applog.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testkit.ChatWait)
	defer cancel()
	p1, p2 := net.Pipe()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { replicate.Serve(ctx, p1, replicate.FromDB(from), nil) })
	wg.Go(func() { replicate.Serve(ctx, p2, replicate.FromDB(to), nil) })
	for {
		changed := to.Changed()
		done := true
		for id, head := range from.Heads() {
			if to.Head(id) < head {
				done = false
			}
		}
		if done {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("copying %s: %v", from.ID().Short(), ctx.Err())
		}
	}
}

// checkBindings checks that s holds exactly want: name → "how id".
func checkBindings(t *testing.T, s *names.Store, want map[string]string) {
	t.Helper()
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range s.Bindings() {
		got[b.Name] = b.How.String() + " " + string(b.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bindings:\n%v\nwant\n%v", got, want)
	}
}

// restoreDir copies the database directory src (closed) to a new one: a
// backup, restored.
func restoreDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dst, "LOCK"))
	return dst
}

// TestUnitChatRestoredBackup: alice restores an old backup of her
// database and types at once, with bob online holding more of her log.
// Her line must wait for the records bob holds and get the next seq
// after them: no fork, and bob prints it.
func TestUnitChatRestoredBackup(t *testing.T) {
	fn := newFakeNet()
	b := startUnitChat(t, fn, "", "bob", "alice")
	dir := t.TempDir()
	a := startUnitChat(t, fn, dir, "alice", "bob")
	a.say("one")
	a.expect("alice> one")
	b.expect("alice> one")
	a.stop(fn)
	backup := restoreDir(t, dir)
	a = startUnitChat(t, fn, dir, "alice", "bob")
	a.say("two")
	a.say("three")
	b.expect("alice> two", "alice> three")
	a.stop(fn)

	r := startUnitChat(t, fn, backup, "alice", "bob")
	r.say("four") // at once: the chat must first learn that bob holds 3
	b.expect("alice> four")
	r.expect("alice> one", "alice> two", "alice> three", "alice> four")
	id := r.db.ID()
	if e, err := r.db.Get(id, 4); err != nil || !strings.Contains(string(e.Data), `"four"`) {
		t.Errorf("restored alice's seq 4: %q, %v; want four", e.Data, err)
	}
	for _, u := range []*unitChat{r, b} {
		if seq := u.db.Forked(id); seq != 0 || u.db.Head(id) != 4 {
			t.Errorf("%s: alice's log head %d, forked %d; want 4, not forked", u.name, u.db.Head(id), seq)
		}
	}
	r.stop(fn)
	b.stop(fn)
}

// TestUnitChatFork: alice's copied database says something while bob,
// who holds her other branch, is away, then connects: both chats say
// once what happened, keep one connection, and bob's lines still reach
// the copy.
func TestUnitChatFork(t *testing.T) {
	fn := newFakeNet()
	b := startUnitChat(t, fn, "", "bob", "alice")
	dir := t.TempDir()
	a := startUnitChat(t, fn, dir, "alice", "bob")
	a.say("one")
	b.expect("alice> one")
	a.stop(fn)
	copied := restoreDir(t, dir)
	a = startUnitChat(t, fn, dir, "alice", "bob")
	a.say("two")
	b.expect("alice> two")
	a.stop(fn)
	b.expect("info> lost connection to alice")

	c := startUnitChat(t, fn, copied, "alice") // names no peer: nobody to wait for
	c.say("other two")
	c.expect("alice> one", "alice> other two")
	c.stop(fn)
	b.drain()
	mark := len(b.seen)
	c = startUnitChat(t, fn, copied, "alice", "bob")
	c.expect("alice> one", "alice> other two", "info> direct connection to bob")
	// Both hold two entries of alice's log: the branches meet with the
	// first record one side lacks. Bob may have met the copy already
	// while it ran without naming him (he keeps dialling alice), and then
	// both have told of the fork before this.
	c.say("three")
	c.expect("alice> three")
	c.expectSeen(ownForkLine(2))
	b.expectSeen("info> alice's log forked at seq 2 (two different signed entries); it is frozen here")
	b.say("still here")
	c.expect("bob> still here")
	b.say("bye")
	c.expect("bob> bye")
	b.drain()
	c.drain()
	b.seen = b.seen[mark:]
	for u, other := range map[*unitChat]string{b: "alice", c: "bob"} {
		for line, want := range map[string]int{"info> direct connection to " + other: 1, "info> lost connection to " + other: 0} {
			if n := u.count(line); n != want {
				t.Errorf("%s printed %q %d times, want %d: the connection flapped", u.name, line, n, want)
			}
		}
	}
	if n := b.count("alice> three"); n != 0 {
		t.Errorf("bob printed alice's entry of a frozen log")
	}
	if n := c.count(ownForkLine(2)); n != 1 {
		t.Errorf("the copy printed its fork %d times, want 1", n)
	}
}

func ownForkLine(seq uint64) string { return "info> " + OwnForkWarning(seq) }

// TestUnitChatMaxLogs: bob holds at most his own log and one more; alice
// brings hers and carol's. Bob says once that new logs are refused, and
// keeps the connection: alice's lines still come.
func TestUnitChatMaxLogs(t *testing.T) {
	fn := newFakeNet()
	carol := startUnitChat(t, fn, "", "carol", "alice")
	a := startUnitChat(t, fn, "", "alice", "carol")
	carol.say("from carol")
	a.expect("carol> from carol")
	carol.stop(fn)
	a.say("from alice")
	a.expect("alice> from alice")
	bobDir := t.TempDir()
	bdb, err := applog.Open(bobDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	it := a.db.Iter(a.db.ID(), 1)
	for it.Next() {
		recs = append(recs, bytes.Clone(it.Record()))
	}
	it.Close()
	if _, err := bdb.Insert(a.db.ID(), recs); err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	b := startUnitChatOpts(t, fn, &applog.Options{MaxLogs: 2}, bobDir, "bob", "alice")
	limit := "info> this database holds as many logs as --max-logs allows: records of new logs are refused"
	b.expect("alice> from alice", limit)
	a.say("still flowing")
	b.expect("alice> still flowing")
	b.say("hi")
	a.expect("alice> still flowing", "bob> hi")
	b.drain()
	if n := b.count(limit); n != 1 || b.count("carol> from carol") != 0 || b.count("info> lost connection to alice") != 0 {
		t.Errorf("bob printed %q", b.seen)
	}
}

// TestUnitChatBlock: alice, bob and carol in a line; bob blocks carol's
// log while his chat runs. Within a second its files are gone from
// bob's database; carol's later lines are neither stored nor forwarded
// to alice; alice's lines still reach carol through bob; and no
// connection drops.
func TestUnitChatBlock(t *testing.T) {
	fn := newFakeNet()
	a := startUnitChat(t, fn, "", "alice", "bob")
	b := startUnitChat(t, fn, "", "bob", "alice", "carol")
	c := startUnitChat(t, fn, "", "carol", "bob")
	testkit.ForwardThroughBob(a.chat(), b.chat(), c.chat())

	if err := applog.Block(b.dir, c.db.ID()); err != nil {
		t.Fatal(err)
	}
	carolDir := filepath.Join(b.dir, string(c.db.ID()))
	blocked := time.Now()
	deadline := blocked.Add(2 * time.Second)
	for {
		if _, err := os.Stat(carolDir); errors.Is(err, os.ErrNotExist) {
			t.Logf("figure: carol's log deleted %v after the block", time.Since(blocked).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bob's running chat did not delete carol's log within 2 s")
		}
		time.Sleep(20 * time.Millisecond) // polling the file system: no event to await
	}
	c.say("spam")
	c.expect("carol> spam")
	a.say("after the block")
	a.expect("alice> after the block")
	b.expect("alice> after the block")
	c.expect("alice> after the block")
	for _, u := range []*unitChat{a, b, c} {
		u.drain()
	}
	a.stop(fn)
	c.stop(fn)
	b.stop(fn)
	if n := b.count("carol> spam") + a.count("carol> spam"); n != 0 {
		t.Errorf("carol's line after the block printed %d times by bob and alice", n)
	}
	for _, u := range []*unitChat{a, b, c} {
		for _, l := range u.seen {
			if strings.HasPrefix(l, "info> lost connection") {
				t.Errorf("%s: %q before the end: the block cut a connection", u.name, l)
			}
		}
	}
	bdb, err := applog.Open(b.dir, &applog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	if h := bdb.Head(c.db.ID()); h != 0 {
		t.Errorf("bob holds %d entries of the blocked log", h)
	}
	if _, err := os.Stat(carolDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("carol's log directory in bob's database: %v, want it gone", err)
	}
}
