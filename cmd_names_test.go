package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/topology"
)

// TestNamesAndTrust: scuttle trust binds a name, names lists it, and both
// work while another handle (as a running chat) holds the database for
// writing.
func TestNamesAndTrust(t *testing.T) {
	dir := t.TempDir()
	db, err := applog.Open(dir, nil) // held for writing, like a chat
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ns, err := names.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, other := newTestDB(t).ID(), newTestDB(t).ID()
	if _, err := ns.Bind("bob", bob, names.Direct); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SCUTTLE_DB": dir}

	out, stderr, code := runInProcess(t, env, "", "trust", "carol", string(other))
	if code != 0 || out != fmt.Sprintf("carol is %s (trusted)\n", other) || stderr != "" {
		t.Errorf("trust carol: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	b, _ := ns.Lookup("bob")
	out, stderr, code = runInProcess(t, env, "", "trust", "bob", string(other))
	want := fmt.Sprintf("bob is now %s (trusted), was %s (direct since %s)\n", other, bob, b.Time.Format("2006-01-02T15:04:05Z"))
	if code != 0 || out != want || stderr != "" {
		t.Errorf("trust bob: exit %d, stdout %q, stderr %q; want stdout %q", code, out, stderr, want)
	}
	if err := ns.Reload(); err != nil {
		t.Fatal(err)
	}
	if b, _ := ns.Lookup("bob"); b.ID != other || b.How != names.Trusted {
		t.Errorf("after trust, bob is %s %v, want %s trusted", b.ID.Short(), b.How, other.Short())
	}

	out, _, code = runInProcess(t, env, "", "names")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		!strings.HasPrefix(lines[1], "bob    "+string(other)+"  trusted  ") || !strings.HasPrefix(lines[2], "carol  "+string(other)+"  trusted  ") {
		t.Errorf("names: exit %d, stdout:\n%s", code, out)
	}
	out, _, code = runInProcess(t, env, "", "names", "--json")
	b, _ = ns.Lookup("carol")
	if wantLine := fmt.Sprintf(`{"name":"carol","id":%q,"how":"trusted","time":%q}`, other, b.Time.Format("2006-01-02T15:04:05Z")); code != 0 || !hasLine(out, wantLine) || strings.Count(out, "\n") != 2 {
		t.Errorf("names --json: exit %d, stdout:\n%s\nwant 2 lines, one %s", code, out, wantLine)
	}
}

func TestNamesUsage(t *testing.T) {
	dir := t.TempDir()
	db, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := db.ID()
	db.Close()
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"trust", "--db", dir, "bob"}, 2, "scuttle trust: takes NAME and ID, got 1 arguments"},
		{[]string{"trust", "--db", dir, "bob", "nope"}, 2, `scuttle trust: applog: bad id "nope": length 4, want 52`},
		{[]string{"trust", "--db", dir, "b.b", string(id)}, 2, `scuttle trust: mdns: bad name "b.b": '.' at offset 1: a name is one DNS label, with no dots, spaces, control characters or backslashes`},
		{[]string{"trust", "--db", missing, "bob", string(id)}, 1, "scuttle trust: no database at " + missing + " (scuttle append creates one)"},
		{[]string{"names", "--db", dir, "x"}, 2, "scuttle names: takes no arguments"},
		{[]string{"names", "--db", missing}, 1, "scuttle names: no database at " + missing + " (scuttle append creates one)"},
		{[]string{"chat", "--iface", "lo", "--db", dir, "--network", "abc", "alice"}, 2, "scuttle chat: --network: network key: 3 characters (not counting dashes), want 56"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, code := runInProcess(t, nil, "", tt.args...)
			if code != tt.code || firstLine(stderr) != tt.msg {
				t.Errorf("exit %d, stderr %q; want %d and first line %q", code, stderr, tt.code, tt.msg)
			}
		})
	}
	// The environment's key, and that -h never shows it.
	env := map[string]string{"SCUTTLE_NETWORK": "abc", "SCUTTLE_DB": dir}
	if _, stderr, code := runInProcess(t, env, "", "chat", "--iface", "lo", "alice"); code != 2 || firstLine(stderr) != "scuttle chat: SCUTTLE_NETWORK: network key: 3 characters (not counting dashes), want 56" {
		t.Errorf("SCUTTLE_NETWORK=abc: exit %d, stderr %q", code, stderr)
	}
	secret := topology.FormatNetworkKey(make([]byte, 32))
	env["SCUTTLE_NETWORK"] = secret
	if out, _, _ := runInProcess(t, env, "", "chat", "-h"); strings.Contains(out, secret) {
		t.Errorf("chat -h shows the key of SCUTTLE_NETWORK:\n%s", out)
	}
}
