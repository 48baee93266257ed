package term

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// state is the console modes of input and output before MakeRaw.
type state struct {
	in, out         windows.Handle
	inMode, outMode uint32
}

// IsTerminal reports whether fd is a console.
func IsTerminal(fd int) bool {
	var mode uint32
	return windows.GetConsoleMode(windows.Handle(fd), &mode) == nil
}

// Size returns the console window's width and height in character cells.
func Size(fd int) (width, height int, err error) {
	var info windows.ConsoleScreenBufferInfo
	if err := windows.GetConsoleScreenBufferInfo(windows.Handle(fd), &info); err != nil {
		return 0, 0, fmt.Errorf("term: size of console %d: %w", fd, err)
	}
	return int(info.Window.Right-info.Window.Left) + 1, int(info.Window.Bottom-info.Window.Top) + 1, nil
}

// MakeRaw puts the console of in and out into raw mode: input without
// echo, line editing or ^C processing, keys as the escape sequences a
// VT terminal sends (ENABLE_VIRTUAL_TERMINAL_INPUT); output that
// interprets those sequences (ENABLE_VIRTUAL_TERMINAL_PROCESSING) and
// does not add a carriage return to "\n" (DISABLE_NEWLINE_AUTO_RETURN).
func MakeRaw(in, out int) (*State, error) {
	s := &State{state{in: windows.Handle(in), out: windows.Handle(out)}}
	if err := windows.GetConsoleMode(s.in, &s.inMode); err != nil {
		return nil, fmt.Errorf("term: console mode of input %d: %w", in, err)
	}
	if err := windows.GetConsoleMode(s.out, &s.outMode); err != nil {
		return nil, fmt.Errorf("term: console mode of output %d: %w", out, err)
	}
	raw := s.inMode&^(windows.ENABLE_ECHO_INPUT|windows.ENABLE_PROCESSED_INPUT|windows.ENABLE_LINE_INPUT) | windows.ENABLE_VIRTUAL_TERMINAL_INPUT
	if err := windows.SetConsoleMode(s.in, raw); err != nil {
		return nil, fmt.Errorf("term: raw mode on input %d: %w", in, err)
	}
	vt := s.outMode | windows.ENABLE_PROCESSED_OUTPUT | windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING | windows.DISABLE_NEWLINE_AUTO_RETURN
	if err := windows.SetConsoleMode(s.out, vt); err != nil {
		windows.SetConsoleMode(s.in, s.inMode)
		return nil, fmt.Errorf("term: escape sequences on output %d: %w", out, err)
	}
	return s, nil
}

func (s *state) restore() error {
	err1 := windows.SetConsoleMode(s.in, s.inMode)
	err2 := windows.SetConsoleMode(s.out, s.outMode)
	if err1 != nil {
		return fmt.Errorf("term: restoring console input: %w", err1)
	}
	if err2 != nil {
		return fmt.Errorf("term: restoring console output: %w", err2)
	}
	return nil
}
