package testkit

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// OpenPTY opens a new pseudo-terminal: master is the side a terminal
// emulator holds (what the program writes is read from it, what is
// written to it the program reads), slave the terminal the program
// runs on, in the mode a new terminal has (cooked, with echo). The
// caller closes both.
func OpenPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("testkit: opening /dev/ptmx: %w", err)
	}
	var n int
	var ioctlErr error
	sc, err := master.SyscallConn()
	if err == nil {
		err = sc.Control(func(fd uintptr) {
			if ioctlErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioctlErr != nil {
				ioctlErr = fmt.Errorf("unlocking: %w", ioctlErr)
				return
			}
			if n, ioctlErr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN); ioctlErr != nil {
				ioctlErr = fmt.Errorf("its number: %w", ioctlErr)
			}
		})
	}
	if err = cmpErr(err, ioctlErr); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("testkit: pseudo-terminal %s: %w", master.Name(), err)
	}
	name := "/dev/pts/" + strconv.Itoa(n)
	slave, err = os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("testkit: opening %s: %w", name, err)
	}
	return master, slave, nil
}

// cmpErr returns the first of a and b that is not nil.
func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// FD returns f's descriptor without making it blocking, as f.Fd would:
// for the ioctls of a test on a pty of OpenPTY.
func FD(t testing.TB, f *os.File) int {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	sc.Control(func(u uintptr) { n = int(u) })
	return n
}
