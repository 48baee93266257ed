// Package testkit holds what scuttle's tests share across packages: a
// goroutine-leak check and the one way the end-to-end tests start a
// scuttle process.
//
// It is for tests only: no file of the module other than a _test.go file
// may import it (TestOnlyTestsImport checks this), so nothing of it ever
// reaches the binary.
//
// # Goroutine leaks
//
// CheckLeaks, called first in a test, records the goroutines running and
// fails the test, with their stacks, if any goroutine started since is
// still running once the test and its cleanups have ended; it waits up
// to 5 s for them to end. Leaks.Verify makes the same check midway, for
// a test that stops something and must see its goroutines end before it
// goes on.
//
// # Processes
//
// Command builds the command of every scuttle process a test starts, on
// this machine or, through a netlab Host's Command, in a lab host's
// network namespace. Each runs in Env: the test's environment without
// any SCUTTLE_* variable of the developer's shell, so a database, an
// interface or a network key set there never changes what a test sees;
// a test that means one passes it explicitly.
//
// # Terminals
//
// OpenPTY (Linux) opens a pseudo-terminal, for a test that runs the
// terminal chat as a user's terminal would. VT is a screen for such
// tests: it interprets the escape sequences the chat's line editor
// writes and shows the rows of text that result, so a test asserts what
// a user sees rather than the bytes that draw it.
//
// # Simulators
//
// Events is the clock and event queue of the seeded simulators (ebt's
// rooms, the overlay's): functions run at simulated times, in the order
// of their times and then of their scheduling, so a run is a function of
// its seed (TestEvents).
//
// The package builds on every operating system; netlab, which exists on
// Linux only, composes with it through Command's CommandFunc.
package testkit
