//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package term

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// state is the termios of the terminal before MakeRaw.
type state struct {
	fd  int
	old unix.Termios
}

// IsTerminal reports whether fd is a terminal.
func IsTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	return err == nil
}

// Size returns the terminal's width and height in character cells.
func Size(fd int) (width, height int, err error) {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0, fmt.Errorf("term: size of fd %d: %w", fd, err)
	}
	return int(ws.Col), int(ws.Row), nil
}

// MakeRaw puts the terminal in into raw mode, as cfmakeraw(3) does:
// no echo, no line discipline, no signals from ^C or ^Z (they arrive as
// bytes 0x03 and 0x1a), no translation of output ("\n" does not return
// the carriage: the editor writes "\r\n"). out is unused on Unix, where
// the mode belongs to the terminal device that in and out share.
func MakeRaw(in, out int) (*State, error) {
	t, err := unix.IoctlGetTermios(in, ioctlGetTermios)
	if err != nil {
		return nil, fmt.Errorf("term: termios of fd %d: %w", in, err)
	}
	s := &State{state{fd: in, old: *t}}
	raw := *t
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(in, ioctlSetTermios, &raw); err != nil {
		return nil, fmt.Errorf("term: raw mode on fd %d: %w", in, err)
	}
	return s, nil
}

func (s *state) restore() error {
	if err := unix.IoctlSetTermios(s.fd, ioctlSetTermios, &s.old); err != nil {
		return fmt.Errorf("term: restoring fd %d: %w", s.fd, err)
	}
	return nil
}
