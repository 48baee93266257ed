//go:build unix

package main

import (
	"os"
	"syscall"
)

// stopSignals are the signals that end scuttle cleanly (goodbyes sent,
// database closed): SIGINT from the terminal's ^C and SIGTERM from kill,
// systemd or launchd.
func stopSignals() []os.Signal { return []os.Signal{os.Interrupt, syscall.SIGTERM} }
