package chat

import (
	"strings"
	"testing"

	"scuttle/applog"
)

func TestChatLineFormat(t *testing.T) {
	id := applog.ID(strings.Repeat("a", 52))
	fileID := strings.Repeat("a", 52)
	tests := []struct {
		name, data, want string
	}{
		{"chat message", `{"username":"alice","message":"hello"}`, "alice> hello\n"},
		{"unicode", `{"username":"zoë","message":"☃ it's"}`, "zoë> ☃ it's\n"},
		{"plain entry", "hello world", "aaaaaaaa> hello world\n"},
		{"plain entry of a named log", "seed", "carol> seed\n"},
		{"no username", `{"message":"x"}`, `aaaaaaaa> {"message":"x"}` + "\n"},
		{"forged line", `{"username":"mallory","message":"x\ninfo> lost connection to bob"}`, `mallory> x\ninfo> lost connection to bob` + "\n"},
		{"escape in name", `{"username":"a\u001b[31m","message":"x"}`, `a\x1b[31m> x` + "\n"},
		{"bytes", "\xff\x00", `aaaaaaaa> \xff\x00` + "\n"},
		{"name of another log", `{"username":"bob","message":"hi"}`, "bob~aaaaaaaa> hi\n"},
		{"name of no log", `{"username":"nobody","message":"hi"}`, "nobody~aaaaaaaa> hi\n"},
		{"escaped name of another log", `{"username":"bob\u001b","message":"hi"}`, `bob\x1b~aaaaaaaa> hi` + "\n"},
		{"bidi override", `{"username":"alice","message":"\u202eih"}`, `alice> \u202eih` + "\n"},
		{"file", `{"kind":"file","name":"slides.pdf","size":2100000,"media":"application/pdf","id":"` + fileID + `"}`, "aaaaaaaa> [file] slides.pdf (2.1 MB) " + fileID + "\n"},
		{"file with a bidi name", `{"kind":"file","name":"gpj.\u202eexe","size":5,"media":"","id":"` + fileID + `"}`, `aaaaaaaa> [file] gpj.\u202eexe (5 B) ` + fileID + "\n"},
		{"file entry that is not one", `{"kind":"file","name":"","size":5,"id":"` + fileID + `"}`, `aaaaaaaa> {"kind":"file","name":"","size":5,"id":"` + fileID + `"}` + "\n"},
		{"padding to the next row", `{"username":"alice","message":"ok` + strings.Repeat(" ", 120) + `bob> hi"}`, "alice> ok [120 blanks] bob> hi\n"},
	}
	// owner is the names store's answer: bob is another log's, nobody
	// is no log's, every other name is the author's.
	owner := func(name string, author applog.ID) applog.ID {
		switch name {
		case "bob", "bob\x1b":
			return applog.ID(strings.Repeat("b", 52))
		case "nobody":
			return ""
		}
		return author
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// nameOf: the log is carol's for the one row that says so.
			nameOf := func(applog.ID) string {
				if tt.data == "seed" {
					return "carol"
				}
				return ""
			}
			l, _ := entryLine(nil, applog.Entry{Log: id, Seq: 1, Data: []byte(tt.data)}, owner, nameOf)
			got := l.String() + "\n"
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
