//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"scuttle/applog/blob"
	"scuttle/topology/testkit"
)

// TestChatFileFigures measures the moving of files between netlab
// hosts, each figure against a baseline of the same run. It is a
// measurement, not a check, so it runs only when asked (SCUTTLE_FILE_MB
// sets the large file's size, 1024 by default):
//
//		SCUTTLE_FIGURES=1 go test -run TestChatFileFigures -v -timeout 30m .
//
//	  - A large file from alice to bob (/get), against the same bytes over
//	    TLS 1.3 from openssl s_server -WWW to curl, between the same two
//	    hosts, alternating, twice each; and bob's peak resident memory
//	    (VmHWM) during the fetch.
//	  - The bytes re-sent after bob is killed (SIGKILL) half-way and
//	    started again: what the holders sent in all, less what a fetch
//	    without a kill costs the same file.
//	  - The time from a 1 MiB image's /send at alice to its completion on
//	    each of 8 hosts (fetched by itself: it is below --fetch-max).
func TestChatFileFigures(t *testing.T) {
	testkit.Figures(t)
	mb := int64(1024)
	if s := os.Getenv("SCUTTLE_FILE_MB"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			t.Fatalf("SCUTTLE_FILE_MB=%q: want a number of MiB", s)
		}
		mb = n
	}
	t.Run("large", func(t *testing.T) { largeFileFigures(t, mb<<20) })
	t.Run("image on 8 hosts", imageFigures)
}

func largeFileFigures(t *testing.T, size int64) {
	l := newFileLab(t, "alice", "bob")
	alice, bob := l.procs[0], l.procs[1]
	path, id, sum := randomFile(t, "big.bin", size, 2)
	line := "alice> [file] big.bin (" + blob.FormatSize(size) + ") " + id.String()
	complete := "info> big.bin complete: scuttle get " + id.String()
	alice.say("/send " + path)
	alice.expect(line)
	bob.expect(line)

	// The baseline's server: alice's host serves the file's directory.
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
		"-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=alice").CombinedOutput(); err != nil {
		t.Skipf("openssl: %v: %s", err, out)
	}
	srv := l.lab.Hosts[0].Command(t.Context(), "openssl", "s_server", "-WWW", "-tls1_3", "-accept", "4433", "-cert", cert, "-key", key)
	srv.Dir = filepath.Dir(path)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "ACCEPT") {
	}
	go func() {
		for sc.Scan() {
		}
	}()
	url := "https://" + l.lab.Hosts[0].IPv4().String() + ":4433/big.bin"

	baseline := func() time.Duration {
		out := filepath.Join(t.TempDir(), "big.bin")
		start := time.Now()
		if b, err := l.lab.Hosts[1].Command(t.Context(), "curl", "-sS", "-k", "--tlsv1.3", "-o", out, url).CombinedOutput(); err != nil {
			t.Fatalf("curl: %v: %s", err, b)
		}
		d := time.Since(start)
		os.Remove(out)
		return d
	}
	fetch := func() (time.Duration, int64) {
		start := time.Now()
		bob.say("/get " + id.String())
		bob.expect(complete)
		d := time.Since(start)
		hwm := vmHWM(t, bob.cmd.Process.Pid)
		checkGot(t, l.db(1), id, sum)
		return d, hwm
	}
	// restartBob starts bob again with nothing of the file.
	restartBob := func() {
		bob.stop(syscall.SIGTERM)
		for _, ext := range []string{"", ".part", ".man", ".src", ".key"} {
			os.Remove(filepath.Join(l.db(1), "blobs", id.String()+ext))
		}
		bob = l.start(1)
		bob.expect(line)
	}

	var ours, theirs []time.Duration
	var hwm []int64
	for round := range 2 {
		theirs = append(theirs, baseline())
		if round > 0 {
			restartBob()
		}
		d, m := fetch()
		ours = append(ours, d)
		hwm = append(hwm, m)
	}
	for i := range ours {
		t.Logf("round %d: %d MiB alice → bob: scuttle %v (%.0f MB/s), openssl s_server -WWW → curl %v (%.0f MB/s): %.2f×; bob's peak RSS %d MiB",
			i+1, size>>20, ours[i].Round(time.Millisecond), float64(size)/ours[i].Seconds()/1e6,
			theirs[i].Round(time.Millisecond), float64(size)/theirs[i].Seconds()/1e6,
			theirs[i].Seconds()/ours[i].Seconds(), hwm[i]>>10)
	}

	// What a fetch costs on the wire, then the same with a kill half-way.
	restartBob()
	before := l.sent()[0]
	_, _ = fetch()
	clean := l.sent()[0] - before
	restartBob()
	before = l.sent()[0]
	bob.say("/get " + id.String())
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for l.sent()[0]-before < uint64(size/2) {
		<-tick.C
	}
	bob.cmd.Process.Kill()
	<-bob.done
	held, blocks := heldBlocks(t, l.db(1), id)
	bob = l.start(1)
	bob.expect(line, complete)
	killed := l.sent()[0] - before
	resent := int64(killed) - int64(clean)
	t.Logf("kill -9 half-way: bob held %d of %d blocks; alice sent %d bytes in all, against %d for a fetch without a kill: %d bytes (%.2f blocks of %d KiB) re-sent",
		held, blocks, killed, clean, resent, float64(resent)/blob.BlockSize, blob.BlockSize>>10)
	checkGot(t, l.db(1), id, sum)
}

func imageFigures(t *testing.T) {
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	l := newFileLab(t, names...)
	path, id, _ := randomFile(t, "photo.png", 1<<20, 3)
	line := "alice> [file] photo.png (" + blob.FormatSize(1<<20) + ") " + id.String()
	complete := "info> photo.png complete: scuttle get " + id.String()
	start := time.Now()
	l.procs[0].say("/send " + path)
	var times []time.Duration
	for _, p := range l.procs[1:] {
		p.expect(line, complete)
		times = append(times, time.Since(start))
	}
	t.Logf("1 MiB image /send at alice to complete on the 7 others: %v (the last)", times[len(times)-1].Round(time.Millisecond))
}

// vmHWM returns the peak resident memory of process pid, in KiB.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || filepath.Base(exe) != filepath.Base(scuttleBin) {
		t.Fatalf("process %d is %q (%v), not scuttle", pid, exe, err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}
