//go:build linux

package web

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"scuttle/topology/testkit"
)

// TestBrowserFigures measures the web interface with two real chats and
// headless Chromium in a network namespace. A measurement, not a check,
// so it runs only when asked:
//
//	SCUTTLE_FIGURES=1 go test -run TestBrowserFigures -v ./topology/chat/web/
func TestBrowserFigures(t *testing.T) {
	testkit.Figures(t)
	chromium, ok := inNetns(t)
	if !ok {
		return
	}
	alice, bob, url := twoChats(t)
	b := startBrowser(t, chromium)
	firstLine := `performance.getEntriesByName("scuttle-first-line").length > 0`
	mark := `performance.getEntriesByName("scuttle-first-line")[0].startTime`

	// Page load to first line shown, in a new browser context each time
	// (a new profile: sign-in, a new shared worker and stream), then in
	// more tabs of one context (the worker replays its lines).
	var cold, warm, script []time.Duration
	for range 10 {
		var ms [2]float64
		id := b.newContext(t)
		b.openIn(t, id, url).waitFor(firstLine, `[`+mark+`, performance.getEntriesByName("scuttle-script")[0].startTime]`, &ms)
		cold = append(cold, time.Duration(ms[0]*float64(time.Millisecond)))
		script = append(script, time.Duration((ms[0]-ms[1])*float64(time.Millisecond)))
		b.closeContext(t, id) // within the server's cap of streams
	}
	rssBefore := rssKiB(t, "self")
	ctx := b.newContext(t)
	first := b.openIn(t, ctx, url)
	first.waitFor(firstLine, "", nil)
	page := strings.SplitN(url, "?", 2)[0]
	for range 9 {
		var ms float64
		b.openIn(t, ctx, page).waitFor(firstLine, mark, &ms)
		warm = append(warm, time.Duration(ms*float64(time.Millisecond)))
	}
	report(t, "page load (navigation start, sign-in included) to first line shown, new profile", cold)
	report(t, "the page's script started to first line shown, new profile (shared worker started, stream opened)", script)
	report(t, "page load to first line shown, another tab of a profile with the page open", warm)

	// A line typed in the page to printed by bob, from the Enter key.
	var typed []time.Duration
	for i := range 20 {
		first.fill(fmt.Sprint("figure ", i))
		start := time.Now()
		first.enter()
		bob.expect(fmt.Sprint("alice> figure ", i))
		typed = append(typed, time.Since(start))
	}
	report(t, "Enter in the page to the line printed by the other chat", typed)
	// The baseline: the same line typed into the chat's input.
	var piped []time.Duration
	for i := range 20 {
		start := time.Now()
		alice.say(fmt.Sprint("baseline ", i))
		bob.expect(fmt.Sprint("alice> baseline ", i))
		piped = append(piped, time.Since(start))
	}
	report(t, "baseline: a line written to the chat's input to the line printed by the other chat", piped)

	// Ten tabs of one profile open (the context above).
	webPort := strings.TrimSuffix(strings.TrimPrefix(page, "http://127.0.0.1:"), "/")
	t.Logf("with 10 tabs open: test process (server and both chats) RSS %d KiB (%d KiB before the tabs); connections to the page's port %d; browser processes RSS %d KiB",
		rssKiB(t, "self"), rssBefore, established(t, webPort), browserRSS(t, b))
	b.closeContext(t, ctx)

	// The same without the shared worker: a stream per tab, and the
	// browser's six connections per host.
	ctx = b.newContext(t)
	noWorker := "delete window.SharedWorker"
	b.openIn(t, ctx, url, noWorker).waitFor(firstLine, "", nil)
	shown := 1
	for range 9 {
		if b.openIn(t, ctx, page, noWorker).waitWithin(5*time.Second, firstLine, "", nil) == nil {
			shown++
		}
	}
	t.Logf("without the shared worker: %d of 10 tabs show lines within 5 s; connections to the page's port %d", shown, established(t, webPort))
}

// report logs the median and the spread of ds.
func report(t *testing.T, what string, ds []time.Duration) {
	slices.Sort(ds)
	t.Logf("%s: p50 %v, min %v, max %v (n=%d)", what, ds[len(ds)/2].Round(100*time.Microsecond), ds[0].Round(100*time.Microsecond), ds[len(ds)-1].Round(100*time.Microsecond), len(ds))
}

// rssKiB returns the resident set of process pid ("self" for this one).
func rssKiB(t *testing.T, pid string) int {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		return 0 // gone
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

// browserRSS returns the resident sets of the browser's processes, added
// up (shared pages are counted in each).
func browserRSS(t *testing.T, b *browser) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	sum := 0
	pgid := strconv.Itoa(b.cmd.Process.Pid)
	for _, d := range dirs {
		st, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …: comm may hold spaces.
		rest := st[strings.LastIndexByte(string(st), ')')+2:]
		if f := strings.Fields(string(rest)); len(f) > 2 && f[2] == pgid {
			sum += rssKiB(t, filepath.Base(filepath.Dir(d)))
		}
	}
	return sum
}

// established returns how many TCP connections to local port port are
// established, in this (the test's own) network namespace.
func established(t *testing.T, port string) int {
	p, _ := strconv.Atoi(port)
	hexPort := fmt.Sprintf(":%04X", p)
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		file, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) > 3 && strings.HasSuffix(fs[1], hexPort) && fs[3] == "01" {
				n++
			}
		}
		file.Close()
	}
	return n
}
