package chat

import (
	"io"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
)

// benchChat returns a chat on a new database whose own name is alice,
// printing on io.Discard, and an entry of its own log.
func benchChat(b *testing.B) (*Chat, applog.Entry) {
	db := newTestDB(b)
	ns, err := names.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ns.Bind("alice", db.ID(), names.Direct); err != nil {
		b.Fatal(err)
	}
	c := New(Config{Me: "alice", DB: db, Names: ns, Out: io.Discard})
	e := applog.Entry{Log: db.ID(), Seq: 1, Time: time.Now(),
		Data: encodeMessage(message{Username: "alice", Message: "a line of a usual length, said in a chat by alice"})}
	return c, e
}

// BenchmarkChatLine: the cost of showing one entry of the feed on the
// pipe, from its bytes to the line written (the path of print).
func BenchmarkChatLine(b *testing.B) {
	c, e := benchChat(b)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var l Line
		l, buf = entryLine(buf, e, c.owner, c.nameOf)
		c.show(l)
	}
	c.flush()
}
