package parallel

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

func TestEach(t *testing.T) {
	for _, c := range []struct{ n, limit int }{{0, 4}, {1, 4}, {3, 1}, {100, 8}, {5, 0}} {
		t.Run(fmt.Sprintf("n=%d/limit=%d", c.n, c.limit), func(t *testing.T) {
			var running, most atomic.Int32
			var mu sync.Mutex
			called := make([]int, c.n)
			err := Each(c.n, c.limit, func(i int) error {
				r := running.Add(1)
				defer running.Add(-1)
				for {
					m := most.Load()
					if r <= m || most.CompareAndSwap(m, r) {
						break
					}
				}
				mu.Lock()
				called[i]++
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, k := range called {
				if k != 1 {
					t.Errorf("do(%d) called %d times", i, k)
				}
			}
			if m := int(most.Load()); m > max(c.limit, 1) {
				t.Errorf("%d calls at once, limit %d", m, c.limit)
			}
		})
	}
}

func TestEachError(t *testing.T) {
	errOdd := errors.New("odd")
	var calls atomic.Int32
	err := Each(10, 3, func(i int) error {
		calls.Add(1)
		if i == 7 {
			return errOdd
		}
		return nil
	})
	if err != errOdd || calls.Load() != 10 {
		t.Fatalf("Each = %v after %d calls, want %v after 10", err, calls.Load(), errOdd)
	}
}
