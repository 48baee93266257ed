//go:build linux

package mdns

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// helperConn is the start of a helper process run in a netlab namespace
// (TestHelperService, TestHelperRoom): a Conn listening on the
// namespace's lan0, and a context that ends after timeout, so that a
// helper its test forgot never outlives it for long.
func helperConn(t *testing.T, timeout time.Duration) (context.Context, *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	c, err := Listen(ctx, Config{Interfaces: []string{"lan0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ctx, c
}

// waitStopped returns when the helper process is told to stop: a
// SIGTERM or interrupt, its standard input closed (the test ended), or
// ctx done.
func waitStopped(ctx context.Context) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sig)
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-sig:
	case <-done:
	case <-ctx.Done():
	}
}
