package osfile

import "errors"

// ErrWouldBlock is returned by TryLock while another process holds the
// lock.
var ErrWouldBlock = errors.New("osfile: lock held by another process")

// ErrNoMap is returned by Map where files cannot be mapped; read them
// with ReadAt instead.
var ErrNoMap = errors.New("osfile: memory mapping not available")
