package mdns

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// testLogger logs to t at debug level.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// uniqueName returns a name no other test run uses, so runs on one host
// (loopback) do not conflict.
func uniqueName(t testing.TB, prefix string) string {
	return fmt.Sprintf("%s-%s", prefix, rand.Text()[:10])
}

// maxWait bounds waits for something that should happen at once.
const maxWait = 2 * time.Second

func testV6(i int) netip.Addr {
	return netip.AddrFrom16([16]byte{0: 0x20, 1: 0x01, 14: byte(i >> 8), 15: byte(i)})
}
