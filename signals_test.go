package main

import (
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"
)

func TestStopSignals(t *testing.T) {
	want := []os.Signal{os.Interrupt, syscall.SIGTERM} // Unix and Windows
	switch runtime.GOOS {
	case "plan9", "js", "wasip1":
		want = []os.Signal{os.Interrupt}
	}
	if got := stopSignals(); !slices.Equal(got, want) {
		t.Errorf("stopSignals() = %v, want %v", got, want)
	}
}
