package parallel

import "sync"

// Each calls do(0) … do(n-1), at most limit of them at once, each in a
// goroutine of its own but a lone call in the caller's, and returns once
// all have returned, with the first error any of them returned.
func Each(n, limit int, do func(i int) error) error {
	if n == 1 {
		return do(0)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, max(limit, 1))
	)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := do(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}
