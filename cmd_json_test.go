package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/mdns"
	"scuttle/mdns/doctor"
)

// The --json outputs, given what a stranger controls: an instance name
// and TXT value it announces, a name it claims, an entry it writes.
// Every string goes through chat.AppendJSON (writeJSON): the JSON holds
// no bidi or invisible character, C1 control or long run of blanks,
// and decodes to what the stranger sent. On the code before, each kept
// U+202E and U+200B as they are, and read --json the padding.

// hostile is a string that would reorder, hide and pad what a terminal
// shows.
const hostile = "b\u200bob\u202e\u0085" + "          " + "x"

// hostileJSON is hostile as chat.AppendJSON writes it.
const hostileJSON = `"b\u200bob\u202e\u0085` + `\u0020\u0020\u0020\u0020\u0020\u0020\u0020\u0020\u0020\u0020` + `x"`

func TestPeersJSONEscapes(t *testing.T) {
	var out strings.Builder
	st := &state{stdout: &out}
	found := []mdns.ServiceEntry{{Instance: hostile, Port: 7, TXT: []string{"id=" + hostile, "v=<2>"}}}
	if err := printPeers(st, found, "", nil, true); err != nil {
		t.Fatal(err)
	}
	want := `{"name":` + hostileJSON + `,"addrs":null,"port":7,"id":` + hostileJSON + `,"version":"\u003c2\u003e","network":"this"}` + "\n"
	if out.String() != want {
		t.Errorf("peers --json printed\n%s\nwant\n%s", out.String(), want)
	}
	checkDecodes(t, out.String(), "name", hostile)
}

func TestDoctorJSONEscapes(t *testing.T) {
	var out strings.Builder
	p := &findingPrinter{w: &out, json: true}
	p.print(doctor.Finding{Check: "peers", Status: doctor.OK, Detail: "seen: " + hostile})
	want := `{"check":"peers","status":"OK","detail":"seen: ` + strings.Trim(hostileJSON, `"`) + `"}` + "\n"
	if out.String() != want {
		t.Errorf("doctor --json printed\n%s\nwant\n%s", out.String(), want)
	}
	checkDecodes(t, out.String(), "detail", "seen: "+hostile)
}

func TestNamesJSONEscapes(t *testing.T) {
	dir := t.TempDir()
	db, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ns, err := names.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := newTestDB(t).ID()
	name := strings.ReplaceAll(hostile, " ", "\u00a0") // the store holds no spaces
	b, err := ns.Bind(name, id, names.Claimed)
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runInProcess(t, map[string]string{"SCUTTLE_DB": dir}, "", "names", "--json")
	want := `{"name":` + strings.ReplaceAll(hostileJSON, `\u0020`, `\u00a0`) + `,"id":"` + string(id) + `","how":"claimed","time":"` + b.Time.Format(time.RFC3339) + `"}` + "\n"
	if code != 0 || out != want {
		t.Errorf("names --json: exit %d, stderr %q, printed\n%s\nwant\n%s", code, stderr, out, want)
	}
	checkDecodes(t, out, "name", name)
}

func TestReadJSONEscapes(t *testing.T) {
	dir := t.TempDir()
	db, err := applog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(hostile + "\x1b[2J<b>\xff")
	if _, err := db.Append(data); err != nil {
		t.Fatal(err)
	}
	it := db.Iter(db.ID(), 1)
	it.Next()
	e := it.Entry()
	it.Close()
	id := db.ID()
	db.Close()
	out, stderr, code := runInProcess(t, map[string]string{"SCUTTLE_DB": dir}, "", "read", "--json")
	want := fmt.Sprintf(`{"peer":"%s","seq":1,"entry":%s\u001b[2J\u003cb\u003e\ufffd","time":"%s","data":"%s"}`+"\n",
		id, strings.TrimSuffix(hostileJSON, `"`), e.Time.UTC().Format(time.RFC3339Nano), base64.StdEncoding.EncodeToString(data))
	if code != 0 || out != want {
		t.Errorf("read --json: exit %d, stderr %q, printed\n%s\nwant\n%s", code, stderr, out, want)
	}
	checkDecodes(t, out, "data", base64.StdEncoding.EncodeToString(data))
}

// checkDecodes checks that line is one JSON object whose field key
// decodes to want.
func checkDecodes(t *testing.T, line, key, want string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if m[key] != want {
		t.Errorf("%s decodes to %+q, want %+q", key, m[key], want)
	}
}

// BenchmarkAppendEntryJSON: one line of read --json for a typical chat
// entry.
func BenchmarkAppendEntryJSON(b *testing.B) {
	e := applog.Entry{Log: applog.IDOf(make([]byte, 32)), Seq: 12345, Time: time.Now(),
		Data: []byte(`{"username":"zoë","message":"see you at the café <tomorrow> & bring the slides"}`)}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendEntryJSON(buf[:0], e, sealedView{})
	}
}
