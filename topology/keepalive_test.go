package topology

import (
	"testing"
	"time"
)

// TestKeepAliveIdle: the idle time before the first probe is 5 s for up
// to 2 connections, then 2 s per connection rounded up to a power of two
// seconds: about one probe every 2 s all told, at most.
func TestKeepAliveIdle(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{0, 5 * time.Second},
		{1, 5 * time.Second},
		{2, 5 * time.Second},
		{3, 8 * time.Second},
		{4, 8 * time.Second},
		{5, 16 * time.Second},
		{8, 16 * time.Second},
		{15, 32 * time.Second},
		{31, 64 * time.Second},
		{63, 128 * time.Second},
		{128, 256 * time.Second},
	} {
		if got := keepAliveIdle(tc.n); got != tc.want {
			t.Errorf("keepAliveIdle(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}
