//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"scuttle/mdns/netlab"
	"scuttle/topology/testkit"
)

// TestChatFigures measures the chat's figures on netlab hosts. It is a
// measurement, not a check, so it runs only when asked:
//
//	SCUTTLE_FIGURES=1 go test -run TestChatFigures -v .
func TestChatFigures(t *testing.T) {
	testkit.Figures(t)
	t.Run("start to history", func(t *testing.T) {
		// Alice runs and has announced; bob starts and prints her message.
		lab := netlab.New(t, 2)
		a := labChat(t, lab.Hosts[0], t.TempDir(), "alice")
		a.say("hello")
		a.expect("alice> hello")
		var ds []time.Duration
		for i := range 20 {
			// A new database is a new key: each gets a name of its own,
			// since alice binds a name to the first key she meets.
			dir, name := t.TempDir(), fmt.Sprint("bob", i)
			start := time.Now()
			b := labChat(t, lab.Hosts[1], dir, name, "alice")
			b.expect("alice> hello")
			ds = append(ds, time.Since(start))
			b.stop(syscall.SIGTERM)
			a.expect("info> direct connection to "+name, "info> lost connection to "+name)
		}
		report(t, "start of chat bob alice to alice> hello", ds)
	})
	t.Run("typed to printed", func(t *testing.T) {
		lab := netlab.New(t, 2)
		a := labChat(t, lab.Hosts[0], t.TempDir(), "alice", "bob")
		b := labChat(t, lab.Hosts[1], t.TempDir(), "bob", "alice")
		b.expect("info> direct connection to alice")
		a.expect("info> direct connection to bob")
		var ds []time.Duration
		for i := range 200 {
			msg := fmt.Sprint("line ", i)
			start := time.Now()
			a.say(msg)
			b.expect("alice> " + msg)
			ds = append(ds, time.Since(start))
			a.expect("alice> " + msg)
		}
		report(t, "typed at alice to printed at bob", ds)
	})
	t.Run("16 hosts", func(t *testing.T) {
		const hosts, lines = 16, 100
		lab := netlab.New(t, hosts)
		names := make([]string, hosts)
		for i := range names {
			names[i] = fmt.Sprint("h", i)
		}
		procs := make([]*chatProc, hosts)
		for i := range hosts {
			procs[i] = labChat(t, lab.Hosts[i], t.TempDir(), slices.Concat(names[i:i+1], names[:i], names[i+1:])...)
		}
		for _, p := range procs {
			var want []string
			for _, n := range names {
				if !strings.HasPrefix(p.name, n+"@") {
					want = append(want, "info> direct connection to "+n)
				}
			}
			p.await(want)
		}
		var all []string
		start := time.Now()
		for i, p := range procs {
			for k := range lines {
				p.say(fmt.Sprint("m", k))
				all = append(all, fmt.Sprintf("%s> m%d", names[i], k))
			}
		}
		for _, p := range procs {
			p.awaitWithin(all, 5*time.Minute)
		}
		d := time.Since(start)
		var rss []int
		for _, p := range procs {
			rss = append(rss, vmKB(t, p.cmd.Process.Pid, "VmHWM"))
		}
		slices.Sort(rss)
		t.Logf("16 hosts × %d lines: every host printed all %d in %v; peak RSS per process: min %d KB, median %d KB, max %d KB",
			lines, len(all), d.Round(time.Millisecond), rss[0], rss[len(rss)/2], rss[len(rss)-1])
		for _, p := range procs {
			p.stop(syscall.SIGTERM)
		}
	})
}

// report logs the p50 and p99 of ds.
func report(t *testing.T, what string, ds []time.Duration) {
	slices.Sort(ds)
	p := func(q float64) time.Duration { return ds[int(q*float64(len(ds)-1))] }
	t.Logf("%s: n=%d p50 %v p99 %v min %v max %v", what, len(ds), p(0.5), p(0.99), ds[0], ds[len(ds)-1])
}

// vmKB returns field (e.g. "VmHWM") of /proc/PID/status in KB.
func vmKB(t *testing.T, pid int, field string) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
