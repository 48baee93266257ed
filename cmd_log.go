package main

import (
	"context"
	"errors"
	"flag"
)

// Placeholder until applog lands.

func stubCmd(name, args, summary string) *command {
	return &command{name: name, args: args, summary: summary,
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			return func(context.Context, []string) error { return errors.New("not implemented yet") }
		}}
}
func appendCmd() *command {
	return stubCmd("append", "[MESSAGE...]", "append one entry, or each line of standard input, to the own log")
}
func readCmd() *command   { return stubCmd("read", "", "print every entry of every log") }
func logsCmd() *command   { return stubCmd("logs", "", "list the logs held") }
func idCmd() *command     { return stubCmd("id", "", "print the own log's id") }
func verifyCmd() *command { return stubCmd("verify", "", "check every record of every log") }
