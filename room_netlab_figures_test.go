//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"scuttle/mdns/netlab"
	"scuttle/topology/testkit"
)

// TestRoomFigures measures the cost of a room, issue 22's figures: N
// chats on N netlab hosts (one bridge, as one Wi-Fi), either each naming
// all the others (mode named: "scuttle chat hI h0 h1 …") or none, with
// --discover (mode discover: "scuttle chat --discover hI"). Every chat
// runs in its host's namespace, whose one interface is on the lab's
// bridge, so its multicast DNS never leaves the lab. Once the
// room is up, K lines are typed one at a time at random hosts (a seeded
// choice, the same in every run), each a pace (500ms) after every
// running chat has printed the one before. For that phase it reports
//
//   - bytes per delivery: the bytes all hosts sent on the lab's segments
//     (Ethernet frames: TCP, TLS, multicast DNS…), divided by the
//     lines printed by chats other than the one typing it: K×(N−1)
//     when no chat fails. "×2" is the ratio to the 2-host room of the
//     same mode in the same run, whose cost has no forwarding in it;
//     "mcast" the multicast share of the bytes (the kernel's IP
//     counters);
//   - idle: the share of those bytes the room would have sent in the
//     phase's time with nobody typing (connection attempts, multicast
//     DNS, keep-alives), from the rate of a 2 s window before the phase;
//   - connections per chat: the established TCP connections in each
//     host's namespace once the room is up, min/median/max;
//   - latency: for each line, the time from its typing to its printing
//     at the last running chat to print it (the farthest host), as the
//     test reads the chats' output; p50 and p99 over the K lines
//     (nearest rank: with K < 100, p99 is the slowest line);
//   - CPU: the user and system time all chats spent in the phase, per
//     delivery.
//
// The variant "kill ¼" kills (SIGKILL, as a laptop that vanishes) a
// quarter of the chats, chosen by the same seeded choice, after K/2
// lines, and checks that every running chat prints every line.
//
// The room is up when every chat names a direct connection to every
// other (named), or to at least one (discover: the overlay may be
// partial), every chat has printed a line from each, and no chat has
// printed a connection's start or end for 2 s (discover connects to
// chats as it finds them). After the last line, the phase ends when the
// lab's unicast bytes have not grown for 250 ms (at most 5 s), so that
// copies still in flight count.
//
// It is a measurement, not a check: it runs only when asked, as root,
// and its sizes, modes, lines and variants are set by the environment
// so the same command measures main and a change:
//
//	SCUTTLE_FIGURES=1 SCUTTLE_ROOM_SIZES=2,8,16,32,64 SCUTTLE_ROOM_MODES=named,discover \
//	SCUTTLE_ROOM_LINES=20 SCUTTLE_ROOM_KILL=1 \
//	go test -run '^TestRoomFigures$' -v -timeout 2h .
//
// The pace is a room's, not a benchmark's: people type seconds apart.
// It also keeps TCP's acknowledgements out of the unit: with lines
// typed back to back (SCUTTLE_ROOM_PACE=0), the 2-host room's two
// chats answer each other within the peer's delayed-ACK time, so most
// of its ACKs ride on the next line the other way (0.4 pure ACKs per
// line), which no larger room's links can do, as each carries a line
// one way; at a pace longer than the retransmission timeout (200ms and
// more), every link ACKs each line at once, in every room alike.
//
// SCUTTLE_ROOM_KILL=0 leaves out the variant, =only runs it alone;
// SCUTTLE_ROOM_SEED (default 22) changes the typists and victims;
// SCUTTLE_ROOM_PACE (a duration, default 500ms) the time between a
// line printed everywhere and the next typed;
// SCUTTLE_ROOM_PCAP=DIR captures the phase's frame headers on the lab's
// bridge into DIR (tcpdump), to tell what its bytes are;
// SCUTTLE_ROOM_VERBOSE=DIR runs every chat with -v and writes its
// diagnostics (standard error) to DIR/MODE-N/hI.log, and logs when each
// line was typed and which chat printed it last, to trace a slow line
// through the chats' broadcast trees (replicate's "tree:" lines). The
// defaults are the values above. The table comes last in the log; "up
// in" is the time from the first chat's start to every chat printing
// every other's first line.
func TestRoomFigures(t *testing.T) {
	testkit.Figures(t)
	cfg := roomConfigFromEnv(t)
	var results []roomResult
	for _, kill := range cfg.kill {
		for _, mode := range cfg.modes {
			for _, n := range cfg.sizes {
				if kill && n < 4 {
					continue // a quarter of fewer than 4 is nobody
				}
				name := fmt.Sprintf("%s/%d", mode, n)
				if kill {
					name += "/kill"
				}
				t.Run(name, func(t *testing.T) {
					r := runRoom(t, roomRun{mode: mode, n: n, lines: cfg.lines, kill: kill, seed: cfg.seed, pace: cfg.pace})
					t.Log(r.row(nil))
					results = append(results, r)
				})
			}
		}
	}
	t.Logf("rooms of %s, %d lines each, %v apart, seed %d, %d CPUs:\n%s", strings.Trim(fmt.Sprint(cfg.sizes), "[]"), cfg.lines, cfg.pace, cfg.seed, runtime.NumCPU(), roomTable(results))
}

// roomConfig is what the environment asks TestRoomFigures to measure.
type roomConfig struct {
	sizes []int
	modes []string
	lines int
	kill  []bool // the variants: without kills, with
	seed  uint64
	pace  time.Duration
}

// roomConfigFromEnv reads SCUTTLE_ROOM_SIZES, _MODES, _LINES, _KILL,
// _SEED and _PACE, and fails the test on a value it cannot use.
func roomConfigFromEnv(t *testing.T) roomConfig {
	t.Helper()
	c := roomConfig{sizes: []int{2, 8, 16, 32, 64}, modes: []string{"named", "discover"}, lines: 20, kill: []bool{false, true}, seed: 22, pace: 500 * time.Millisecond}
	if v := os.Getenv("SCUTTLE_ROOM_SIZES"); v != "" {
		c.sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 2 || n > netlab.MaxHosts {
				t.Fatalf("SCUTTLE_ROOM_SIZES=%q: %q is not a room size (2 to %d)", v, f, netlab.MaxHosts)
			}
			c.sizes = append(c.sizes, n)
		}
	}
	if v := os.Getenv("SCUTTLE_ROOM_MODES"); v != "" {
		c.modes = nil
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if f != "named" && f != "discover" {
				t.Fatalf("SCUTTLE_ROOM_MODES=%q: %q is neither named nor discover", v, f)
			}
			c.modes = append(c.modes, f)
		}
	}
	if v := os.Getenv("SCUTTLE_ROOM_LINES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("SCUTTLE_ROOM_LINES=%q: want a number of lines, at least 2", v)
		}
		c.lines = n
	}
	switch v := os.Getenv("SCUTTLE_ROOM_KILL"); v {
	case "", "1":
	case "0":
		c.kill = []bool{false}
	case "only":
		c.kill = []bool{true}
	default:
		t.Fatalf("SCUTTLE_ROOM_KILL=%q: want 0, 1 or only", v)
	}
	if v := os.Getenv("SCUTTLE_ROOM_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SCUTTLE_ROOM_SEED=%q: want a number", v)
		}
		c.seed = n
	}
	if v := os.Getenv("SCUTTLE_ROOM_PACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Minute {
			t.Fatalf("SCUTTLE_ROOM_PACE=%q: want a duration from 0 to 1m", v)
		}
		c.pace = d
	}
	return c
}

// roomRun is one room to measure.
type roomRun struct {
	mode  string        // "named" or "discover"
	n     int           // hosts, one chat each
	lines int           // lines typed in the measured phase
	kill  bool          // kill a quarter of the chats after lines/2
	seed  uint64        // of the choice of typists and victims
	pace  time.Duration // from a line printed by all to the next typed
}

// roomResult is what one room measured.
type roomResult struct {
	roomRun
	up          time.Duration // from the first chat's start to every chat printing every hello
	deliveries  int           // lines printed by chats other than their typist
	bytes       uint64        // sent by all hosts on the lab's segments in the phase
	mcast       uint64        // of which multicast (IP octets)
	conns       []int         // established TCP connections per host, room up, sorted
	latency     []time.Duration
	idleBytes   uint64        // sent by all hosts in idleWindow before the phase, nobody typing
	phase       time.Duration // how long the phase took
	cpu         time.Duration // user+system time of all chats in the phase
	killed      int
	allPrinted  bool // every running chat printed every line
	settleLimit bool // the end of the phase hit its 5 s bound
}

// runRoom builds the lab, starts the chats, waits for the room to be up,
// and measures the phase of typed lines.
func runRoom(t *testing.T, run roomRun) roomResult {
	res := roomResult{roomRun: run}
	rng := rand.New(rand.NewPCG(run.seed, uint64(run.n)))
	lab := netlab.New(t, run.n)
	r := newRoom(t, run.n)
	start := time.Now()
	for i, h := range lab.Hosts {
		args := []string{r.names[i]}
		if run.mode == "discover" {
			args = []string{"--discover", r.names[i]}
		} else {
			args = append(args, slices.Concat(r.names[:i], r.names[i+1:])...)
		}
		r.start(t, i, h, args, verboseLog(t, run, r.names[i]))
	}

	// Up: connections, then a line from each chat printed by all, then
	// 2 s without a connection starting or ending.
	upWait := 2*time.Minute + time.Duration(run.n)*3*time.Second
	want := run.n - 1
	if run.mode == "discover" {
		want = 1
	}
	r.waitFor(t, upWait, fmt.Sprintf("every chat connected to %d others", want), func() string {
		short, fewest := 0, 0
		for i, c := range r.chats {
			if len(c.connected) < want {
				if short == 0 || len(c.connected) < len(r.chats[fewest].connected) {
					fewest = i
				}
				short++
			}
		}
		if short == 0 {
			return ""
		}
		return fmt.Sprintf("%d chats have fewer; the fewest: %s, %d", short, r.names[fewest], len(r.chats[fewest].connected))
	})
	var hellos []string
	for i := range r.chats {
		hellos = append(hellos, "hello from "+r.names[i])
		r.say(t, i, hellos[i])
	}
	for _, h := range hellos {
		r.waitPrinted(t, upWait, h, r.running())
	}
	res.up = time.Since(start)
	r.waitQuiet(t, 2*time.Second, upWait)
	for _, h := range lab.Hosts {
		n, err := h.Established()
		if err != nil {
			t.Fatal(err)
		}
		res.conns = append(res.conns, n)
	}
	slices.Sort(res.conns)

	// What the room sends with nobody typing (connection attempts,
	// multicast DNS, keep-alives), over a window: a rate to set against
	// the phase's, not a wait for an event.
	idle0 := labCounters(t, lab)
	window := time.NewTimer(idleWindow)
	<-window.C
	res.idleBytes = sent(idle0, labCounters(t, lab))

	// The phase.
	stopCapture := captureBridge(t, lab, run)
	before := labCounters(t, lab)
	cpu0 := r.cpu(t)
	phase := time.Now()
	for k := range run.lines {
		if k > 0 && run.pace > 0 {
			// The pace: a time between lines, not a wait for an event.
			pace := time.NewTimer(run.pace)
			<-pace.C
		}
		if run.kill && k == run.lines/2 {
			victims := rng.Perm(run.n)[:run.n/4]
			for _, v := range victims {
				r.kill(t, v)
			}
			res.killed = len(victims)
			t.Logf("killed %d chats: %v", len(victims), r.namesOf(victims))
		}
		live := r.running()
		typist := live[rng.IntN(len(live))]
		text := fmt.Sprintf("room line %d from %s", k, r.names[typist])
		typed := time.Now()
		r.say(t, typist, text)
		others := slices.DeleteFunc(slices.Clone(live), func(i int) bool { return i == typist })
		last := r.waitPrinted(t, time.Minute, text, others)
		if len(others) == 0 {
			last = typed
		}
		if os.Getenv("SCUTTLE_ROOM_VERBOSE") != "" {
			t.Logf("line %d typed by %s at %s, last printed by %s after %v", k, r.names[typist],
				typed.UTC().Format("15:04:05.000"), r.lastPrinter(text, others), last.Sub(typed).Round(time.Millisecond))
		}
		res.latency = append(res.latency, last.Sub(typed))
	}
	res.settleLimit = !waitUnicastStill(t, lab, 250*time.Millisecond, 5*time.Second)
	after := labCounters(t, lab)
	stopCapture()
	res.phase = time.Since(phase)
	res.cpu = r.cpu(t) - cpu0
	res.bytes = sent(before, after)
	for i := range lab.Hosts {
		res.mcast += after[i].Sub(before[i]).McastOctets
	}
	res.deliveries, res.allPrinted = r.deliveries()
	if !res.allPrinted {
		t.Errorf("a running chat did not print every line")
	}
	return res
}

// captureBridge, if SCUTTLE_ROOM_PCAP names a directory, captures the
// headers of every frame on the lab's bridge (tcpdump, 128 bytes of
// each) into room-MODE-N.pcap there until the returned function is
// called: what the bytes of the phase are (records, notes, TCP
// acknowledgements and keep-alives, multicast DNS) is read from it
// afterwards, as with tcpdump -r.
func captureBridge(t *testing.T, lab *netlab.Lab, run roomRun) func() {
	t.Helper()
	dir := os.Getenv("SCUTTLE_ROOM_PCAP")
	if dir == "" {
		return func() {}
	}
	file := filepath.Join(dir, fmt.Sprintf("room-%s-%d.pcap", run.mode, run.n))
	cmd := exec.Command("ip", "netns", "exec", lab.Namespaces()[0], "tcpdump", "--immediate-mode", "-i", "br0", "-s", "128", "-U", "-w", file)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	// tcpdump says "listening on" once it captures, and its counts
	// when it ends.
	var said tailWriter
	said.max = 4 << 10
	listening, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(stderr)
		for first := true; sc.Scan(); {
			said.Write(append(sc.Bytes(), '\n'))
			if first && strings.Contains(sc.Text(), "listening on") {
				first = false
				close(listening)
			}
		}
	}()
	select {
	case <-listening:
	case <-ended:
		cmd.Wait()
		t.Fatalf("tcpdump ended: %s", said.String())
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tcpdump did not start within 10s: %s", said.String())
	}
	return func() {
		cmd.Process.Signal(syscall.SIGINT)
		<-ended
		cmd.Wait()
		t.Logf("captured the phase in %s: %s", file, strings.Join(strings.Fields(said.String()), " "))
	}
}

// verboseLog, if SCUTTLE_ROOM_VERBOSE names a directory, creates the file
// chat name's diagnostics go to in run (DIR/MODE-N/NAME.log), closed at
// the test's end; else it returns nil.
func verboseLog(t *testing.T, run roomRun, name string) io.Writer {
	t.Helper()
	dir := os.Getenv("SCUTTLE_ROOM_VERBOSE")
	if dir == "" {
		return nil
	}
	dir = filepath.Join(dir, fmt.Sprintf("%s-%d", run.mode, run.n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// idleWindow is how long runRoom measures the room sending with nobody
// typing.
const idleWindow = 2 * time.Second

// sent returns the bytes all hosts sent between two readings.
func sent(before, after []netlab.Counters) uint64 {
	var s uint64
	for i := range after {
		s += after[i].Sub(before[i]).TxBytes
	}
	return s
}

// labCounters reads the counters of every host of lab.
func labCounters(t *testing.T, lab *netlab.Lab) []netlab.Counters {
	t.Helper()
	var out []netlab.Counters
	for _, h := range lab.Hosts {
		c, err := h.Counters()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// waitUnicastStill waits until the bytes all hosts sent, less their
// multicast, have not changed for still, at most limit; it says whether
// they came to rest. No event tells that a chat has stopped sending, so
// this one wait polls the kernel's counters.
func waitUnicastStill(t *testing.T, lab *netlab.Lab, still, limit time.Duration) bool {
	t.Helper()
	sum := func() uint64 {
		var s uint64
		for _, c := range labCounters(t, lab) {
			s += c.TxBytes - c.McastOctets
		}
		return s
	}
	deadline := time.Now().Add(limit)
	prev := sum()
	tick := time.NewTicker(still)
	defer tick.Stop()
	for range tick.C {
		cur := sum()
		if cur == prev {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		prev = cur
	}
	return false
}

// room is the running chats of a lab as the test reads them: who each
// is connected to, and when it printed each line.
type room struct {
	names []string

	mu      sync.Mutex
	chats   []*roomChat
	printed map[string]map[int]time.Time // line text → chat → when first printed
	twice   map[string]int               // line text → prints beyond the first, all chats
	lastCon time.Time                    // when a chat last printed a connection's start or end
	changed chan struct{}                // closed and replaced on every line read
}

// roomChat is one chat process of a room.
type roomChat struct {
	proc      *os.Process
	stdin     io.WriteCloser
	done      chan struct{} // closed when the process has ended and its output is read
	killed    bool
	cpuAtKill time.Duration   // its CPU time, read just before it was killed
	connected map[string]bool // from its info lines
	tail      []string        // its last lines, for failure messages
	stderr    *tailWriter
}

func newRoom(t *testing.T, n int) *room {
	r := &room{printed: map[string]map[int]time.Time{}, twice: map[string]int{}, changed: make(chan struct{})}
	for i := range n {
		r.names = append(r.names, fmt.Sprint("h", i))
	}
	return r
}

// start starts chat i on h, with args after "chat"; with diag not nil,
// with -v, its standard error copied to diag.
func (r *room) start(t *testing.T, i int, h *netlab.Host, args []string, diag io.Writer) {
	t.Helper()
	args = append([]string{"chat"}, args...)
	if diag != nil {
		args = slices.Insert(args, 1, "-v")
	}
	cmd := testkit.Command(t.Context(), h.Command, scuttleBin, t.TempDir(), nil, args...)
	c := &roomChat{done: make(chan struct{}), connected: map[string]bool{}, stderr: &tailWriter{max: 16 << 10}}
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = c.stderr
	if diag != nil {
		cmd.Stderr = io.MultiWriter(c.stderr, diag)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", r.names[i], err)
	}
	c.proc = cmd.Process
	r.mu.Lock()
	r.chats = append(r.chats, c)
	r.mu.Unlock()
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.read(i, sc.Text(), time.Now())
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(c.done)
		r.mu.Lock()
		r.notify()
		r.mu.Unlock()
	}()
	t.Cleanup(func() {
		c.stdin.Close()
		c.proc.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			c.proc.Kill()
			<-c.done
		}
		if t.Failed() {
			r.mu.Lock()
			t.Logf("%s's last lines:\n%s\nits stderr:\n%s", r.names[i], strings.Join(c.tail, "\n"), c.stderr)
			r.mu.Unlock()
		}
	})
}

// read takes line, printed by chat i at at.
func (r *room) read(i int, line string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.chats[i]
	if len(c.tail) == 20 {
		c.tail = slices.Delete(c.tail, 0, 1)
	}
	c.tail = append(c.tail, line)
	if peer, ok := strings.CutPrefix(line, "info> direct connection to "); ok {
		c.connected[peer] = true
		r.lastCon = at
	} else if peer, ok := strings.CutPrefix(line, "info> lost connection to "); ok {
		delete(c.connected, peer)
		r.lastCon = at
	} else if !testkit.IsInfo(line) {
		if _, text, ok := strings.Cut(line, "> "); ok {
			m := r.printed[text]
			if m == nil {
				m = map[int]time.Time{}
				r.printed[text] = m
			}
			if _, dup := m[i]; dup {
				r.twice[text]++
			} else {
				m[i] = at
			}
		}
	}
	r.notify()
}

// notify wakes the waits; r.mu is held.
func (r *room) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// waitFor waits until missing, called with r.mu held, returns "", at
// most limit; it fails the test with what is missing otherwise.
func (r *room) waitFor(t *testing.T, limit time.Duration, what string, missing func() string) {
	t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	progress := time.NewTicker(30 * time.Second)
	defer progress.Stop()
	start := time.Now()
	for {
		r.mu.Lock()
		m, ch := missing(), r.changed
		r.mu.Unlock()
		if m == "" {
			return
		}
		select {
		case <-ch:
		case <-progress.C:
			t.Logf("after %v waiting for %s: %s", time.Since(start).Round(time.Second), what, m)
		case <-deadline.C:
			t.Fatalf("waiting %v for %s: %s", limit, what, m)
		}
	}
}

// waitPrinted waits until each chat of who has printed text, and returns
// when the last of them did.
func (r *room) waitPrinted(t *testing.T, limit time.Duration, text string, who []int) time.Time {
	t.Helper()
	var last time.Time
	r.waitFor(t, limit, fmt.Sprintf("%q printed by %d chats", text, len(who)), func() string {
		var not []string
		for _, i := range who {
			at, ok := r.printed[text][i]
			if !ok {
				not = append(not, r.names[i])
			} else if at.After(last) {
				last = at
			}
		}
		if len(not) > 0 {
			return fmt.Sprintf("not printed by %v", not)
		}
		return ""
	})
	return last
}

// lastPrinter returns the name of the chat of who that printed text last.
func (r *room) lastPrinter(text string, who []int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := ""
	var last time.Time
	for _, i := range who {
		if at, ok := r.printed[text][i]; ok && !at.Before(last) {
			name, last = r.names[i], at
		}
	}
	return name
}

// waitQuiet waits until no chat has printed a connection's start or end
// for quiet, at most limit.
func (r *room) waitQuiet(t *testing.T, quiet, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r.mu.Lock()
		rest := quiet - time.Since(r.lastCon)
		ch := r.changed
		r.mu.Unlock()
		if rest <= 0 {
			return
		}
		if time.Now().Add(rest).After(deadline) {
			t.Fatalf("connections still starting or ending after %v", limit)
		}
		timer := time.NewTimer(rest)
		select {
		case <-ch:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// say types line into chat i.
func (r *room) say(t *testing.T, i int, line string) {
	t.Helper()
	if _, err := io.WriteString(r.chats[i].stdin, line+"\n"); err != nil {
		t.Fatalf("typing into %s: %v", r.names[i], err)
	}
}

// kill kills chat i and waits for its end.
func (r *room) kill(t *testing.T, i int) {
	t.Helper()
	c := r.chats[i]
	used := procCPU(t, c.proc.Pid)
	c.proc.Kill()
	select {
	case <-c.done:
	case <-time.After(testkit.ChatWait):
		t.Fatalf("%s still running %v after SIGKILL", r.names[i], testkit.ChatWait)
	}
	r.mu.Lock()
	c.killed = true
	c.cpuAtKill = used
	r.mu.Unlock()
}

// running returns the chats not killed.
func (r *room) running() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for i, c := range r.chats {
		if !c.killed {
			out = append(out, i)
		}
	}
	return out
}

// namesOf returns the names of chats is.
func (r *room) namesOf(is []int) []string {
	var out []string
	for _, i := range is {
		out = append(out, r.names[i])
	}
	return out
}

// deliveries counts the room lines printed by chats other than their
// typist, and says whether every running chat printed every room line.
func (r *room) deliveries() (n int, all bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	all = true
	for text, by := range r.printed {
		var typist string
		if _, after, ok := strings.Cut(text, " from "); ok && strings.HasPrefix(text, "room line ") {
			typist = after
		} else {
			continue
		}
		for i, c := range r.chats {
			_, ok := by[i]
			if r.names[i] != typist && ok {
				n++
			}
			if !c.killed && !ok {
				all = false
			}
		}
	}
	return n, all
}

// cpu returns the user and system time the chats have used so far; a
// killed chat counts what it had used just before it was killed.
func (r *room) cpu(t *testing.T) time.Duration {
	t.Helper()
	var sum time.Duration
	for _, c := range r.chats {
		if c.killed {
			sum += c.cpuAtKill
		} else {
			sum += procCPU(t, c.proc.Pid)
		}
	}
	return sum
}

// procCPU returns the user and system time process pid has used.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatalf("CPU time of process %d: %v", pid, err)
	}
	// The fields after the command's ")": state is the 1st, utime the
	// 12th and stime the 13th, in clock ticks of 1/100 s (USER_HZ).
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		t.Fatalf("/proc/%d/stat: %d fields after the command: %q", pid, len(f), b)
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/%d/stat: utime %q, stime %q", pid, f[11], f[12])
	}
	return time.Duration(u+s) * 10 * time.Millisecond
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > w.max {
		w.b = slices.Clone(w.b[len(w.b)-w.max:])
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}

// row formats r as a row of roomTable; base is the 2-host room of the
// same mode, or nil.
func (r roomResult) row(base *roomResult) string {
	mode := r.mode
	if r.kill {
		mode += ", kill ¼"
	}
	per := float64(r.bytes) / float64(max(r.deliveries, 1))
	ratio := "–"
	if base != nil && base.deliveries > 0 && base.bytes > 0 {
		ratio = fmt.Sprintf("%.1f", per/(float64(base.bytes)/float64(base.deliveries)))
	}
	lat := slices.Clone(r.latency)
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(p*float64(len(lat)-1)+0.5)].Round(time.Millisecond)
	}
	kill := "–"
	if r.kill {
		kill = fmt.Sprintf("%d killed; every running chat printed every line: %v", r.killed, r.allPrinted)
	}
	settle := ""
	if r.settleLimit {
		settle = " (still sending after 5 s)"
	}
	idle := float64(r.idleBytes) / idleWindow.Seconds() * r.phase.Seconds() / float64(max(r.bytes, 1))
	return fmt.Sprintf("| %s | %d | %d | %.0f%s | %s | %.0f%% | %.0f%% | %d / %d / %d | %v | %v | %.1f ms | %v | %s |",
		mode, r.n, r.deliveries, per, settle, ratio, 100*float64(r.mcast)/float64(max(r.bytes, 1)), 100*idle,
		r.conns[0], r.conns[len(r.conns)/2], r.conns[len(r.conns)-1],
		q(0.5), q(0.99), float64(r.cpu.Microseconds())/1000/float64(max(r.deliveries, 1)), r.up.Round(100*time.Millisecond), kill)
}

// roomTable formats the results as a Markdown table.
func roomTable(rs []roomResult) string {
	var b strings.Builder
	b.WriteString("| mode | hosts | deliveries | bytes/delivery | ×2 | mcast | idle | conns/chat min/med/max | p50 | p99 | CPU/delivery | up in | kill |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		var base *roomResult
		for i := range rs {
			if rs[i].mode == r.mode && rs[i].n == 2 && !rs[i].kill {
				base = &rs[i]
			}
		}
		b.WriteString(r.row(base) + "\n")
	}
	return b.String()
}
