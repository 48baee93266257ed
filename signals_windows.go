package main

import (
	"os"
	"syscall"
)

// stopSignals are the events that end scuttle cleanly (goodbyes sent,
// database closed): os.Interrupt is ^C or ^Break in the console. Go also
// turns closing the console window, logging off and shutting down into
// syscall.SIGTERM, after which Windows gives the process a few seconds
// before it kills it: enough for the goodbyes, which Close bounds to one
// second.
func stopSignals() []os.Signal { return []os.Signal{os.Interrupt, syscall.SIGTERM} }
