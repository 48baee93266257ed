// Command scuttle is a peer-to-peer chat and append-only log in one binary.
//
//	scuttle append hello world      # append to this database's own log (./logs.db)
//	scuttle read                    # print every entry of every log it holds
//	scuttle chat alice bob          # be alice, find bob.local by multicast DNS, replicate live
//
// Each subcommand lives in a cmd_*.go file of its own and is listed in
// commands below, in the order "scuttle help" shows them. A command never
// exits the process: it returns an error, and run maps it to an exit code
// (0 success, 1 failure, 2 usage error), so main_test.go drives every
// command in-process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"

	"scuttle/topology/chat"
)

// A command is one subcommand. setup registers the command's flags on fs
// and returns the function that runs it with the arguments left after the
// flags; the closure reads the flag values it registered.
type command struct {
	name    string
	args    string // the usage after the flags, e.g. "[MESSAGE...]"
	summary string // one line for "scuttle help"
	setup   func(fs *flag.FlagSet, st *state) func(ctx context.Context, args []string) error
}

// commands lists the subcommands in help order.
func commands() []*command {
	return []*command{
		appendCmd(),
		readCmd(),
		logsCmd(),
		idCmd(),
		verifyCmd(),
		rekeyCmd(),
		blockCmd(),
		unblockCmd(),
		sendCmd(),
		getCmd(),
		filesCmd(),
		chatCmd(),
		networkCmd(),
		namesCmd(),
		trustCmd(),
		announceCmd(),
		resolveCmd(),
		peersCmd(),
		doctorCmd(),
		versionCmd(),
	}
}

// state is what a command may touch of the process: its standard streams
// and environment, and the diagnostics logger (quiet unless -v).
type state struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	log    *slog.Logger
	level  slog.LevelVar
}

// writeJSON writes v as one line of JSON, every string in it written by
// chat.AppendJSON: the one way a command prints JSON, so that what a
// stranger announced or wrote (names, TXT values, entries) hides
// nothing on a terminal there either.
func writeJSON(w io.Writer, v any) error {
	b, err := chat.AppendJSONValue(nil, v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// usageError marks an error in how a command was called: exit status 2, and
// the command's usage is printed after the message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usage error; see usageError.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals()...)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the process exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	st := &state{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	st.level.Set(slog.LevelError) // quiet: only what went wrong; -v shows the rest
	st.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: &st.level}))

	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && name == "help" {
			return run(ctx, []string{args[1], "-h"}, stdin, stdout, stderr, getenv)
		}
		printHelp(stdout)
		return 0
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "scuttle: unknown command %q\nRun 'scuttle help' for usage.\n", name)
		return 2
	}

	fs := flag.NewFlagSet("scuttle "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below: to stdout for -h, to stderr after an error
	runCmd := cmd.setup(fs, st)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			printUsage(fs, cmd)
			return 0
		}
		printUsage(fs, cmd) // flag has printed the error
		return 2
	}
	err := runCmd(ctx, fs.Args())
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "scuttle %s: %v\n", cmd.name, err)
		printUsage(fs, cmd)
		return 2
	default:
		// An error may quote what a peer sent (a name, an address): it
		// prints escaped, on one line, like everything a peer controls.
		fmt.Fprintf(stderr, "scuttle %s: %s\n", cmd.name, chat.Escape(err.Error()))
		return 1
	}
}

func printUsage(fs *flag.FlagSet, cmd *command) {
	w := fs.Output()
	fmt.Fprintf(w, "usage: scuttle %s [flags] %s\n\n%s\n", cmd.name, cmd.args, cmd.summary)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nflags:\n")
		fs.PrintDefaults()
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, "scuttle is a peer-to-peer chat and append-only log.\n\nusage: scuttle <command> [flags] [arguments]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'scuttle <command> -h' for a command's flags.\n")
}

// verboseFlag registers -v, which turns on diagnostics on stderr.
func (st *state) verboseFlag(fs *flag.FlagSet) {
	fs.BoolFunc("v", "print diagnostics to standard error", func(string) error {
		st.level.Set(slog.LevelDebug)
		return nil
	})
}

// dbFlag registers --db with the default directory def, which SCUTTLE_DB
// in the environment overrides.
func (st *state) dbFlag(fs *flag.FlagSet, def string) *string {
	if env := st.getenv("SCUTTLE_DB"); env != "" {
		def = env
	}
	return fs.String("db", def, "database `dir`ectory (environment: SCUTTLE_DB)")
}

// ifaceFlag registers --iface: the comma-separated interfaces that mDNS
// uses, with SCUTTLE_IFACE as the default.
func (st *state) ifaceFlag(fs *flag.FlagSet) *string {
	return fs.String("iface", st.getenv("SCUTTLE_IFACE"), "comma-separated `list` of interfaces for multicast DNS (environment: SCUTTLE_IFACE; default: every multicast interface that is up, else loopback)")
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
