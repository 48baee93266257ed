//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows)

package term

// state is empty where MakeRaw is not supported.
type state struct{}

// IsTerminal reports false: this operating system's terminals are not
// supported, so the chat runs as with a pipe.
func IsTerminal(fd int) bool { return false }

// Size returns ErrNotSupported.
func Size(fd int) (width, height int, err error) { return 0, 0, ErrNotSupported }

// MakeRaw returns ErrNotSupported.
func MakeRaw(in, out int) (*State, error) { return nil, ErrNotSupported }

func (s *state) restore() error { return nil }
