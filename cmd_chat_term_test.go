package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"scuttle/topology/chat"
	"scuttle/topology/chat/term"
)

func TestChatPrompt(t *testing.T) {
	tests := []struct {
		st   chat.Status
		want string
	}{
		{chat.Status{Me: "alice", Peers: 3}, "[public · 3 peers] alice> "},
		{chat.Status{Me: "alice", Peers: 1, Private: true}, "[private · 1 peer] alice> "},
		{chat.Status{Me: "alice", Room: "ops", Private: true}, "[#ops · private · 0 peers] alice> "},
	}
	for _, tt := range tests {
		if got := prompt(tt.st); got != tt.want {
			t.Errorf("prompt(%+v) = %q, want %q", tt.st, got, tt.want)
		}
	}
}

func TestChatColour(t *testing.T) {
	tests := []struct {
		env  map[string]string
		goos string
		want bool
	}{
		{map[string]string{"TERM": "xterm-256color"}, "linux", true},
		{map[string]string{"TERM": "xterm", "NO_COLOR": "1"}, "linux", false},
		{map[string]string{"TERM": "dumb"}, "linux", false},
		{map[string]string{}, "linux", false},
		{map[string]string{}, "windows", true},
		{map[string]string{"NO_COLOR": "1"}, "windows", false},
		{map[string]string{"TERM": "dumb"}, "windows", false},
	}
	for _, tt := range tests {
		if got := wantColour(func(k string) string { return tt.env[k] }, tt.goos); got != tt.want {
			t.Errorf("wantColour(%v) on %s = %v, want %v", tt.env, tt.goos, got, tt.want)
		}
	}
}

// TestChatTerminalOnlyOnATerminal: a pipe, a file, TERM=dumb and
// --no-edit keep the pipe's format.
func TestChatTerminalOnlyOnATerminal(t *testing.T) {
	f, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, st := range []*state{
		{stdin: strings.NewReader(""), stdout: f, getenv: os.Getenv},
		{stdin: f, stdout: f, getenv: os.Getenv},
	} {
		if in, _ := chatTerminal(st, false); in != nil {
			t.Errorf("chatTerminal(%T, %T) is a terminal", st.stdin, st.stdout)
		}
	}
}

// TestChatLineWriter: what the chat reports goes through the editor a
// line at a time, escaped, and straight through without one.
func TestChatLineWriter(t *testing.T) {
	var direct, screen bytes.Buffer
	w := &lineWriter{direct: &direct}
	w.Write([]byte("before\n"))
	w.through(term.New(term.Config{Out: &screen}))
	w.Write([]byte("one\x1b[2J"))
	w.Write([]byte(" two\nthree\n"))
	w.through(nil)
	w.Write([]byte("after\n"))
	if direct.String() != "before\nafter\n" {
		t.Errorf("direct %q", direct.String())
	}
	if want := "one\\x1b[2J two\r\n\x1b[J\r\x1b[Jthree\r\n\x1b[J"; screen.String() != want {
		t.Errorf("through the editor %q, want %q", screen.String(), want)
	}
}
