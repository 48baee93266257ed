//go:build !unix && !windows

package main

import "os"

// stopSignals are the signals that end scuttle cleanly: os.Interrupt,
// the one signal Go offers everywhere.
func stopSignals() []os.Signal { return []os.Signal{os.Interrupt} }
