package testkit

import (
	"os"
	"testing"
)

// Figures skips t unless SCUTTLE_FIGURES is set: a test that measures a
// figure of a closing note, rather than checking, runs only when asked,
// as in
//
//	SCUTTLE_FIGURES=1 go test -run TestChatFigures -v .
func Figures(t testing.TB) {
	t.Helper()
	if os.Getenv("SCUTTLE_FIGURES") == "" {
		t.Skip("a measurement: set SCUTTLE_FIGURES=1 to run it")
	}
}
