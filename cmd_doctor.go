package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"scuttle/mdns"
	"scuttle/mdns/doctor"
	"scuttle/topology"
	"scuttle/topology/chat"
)

// doctor: the command to run when peers do not find each other. It runs
// the checks of package doctor (interfaces, port 5353, a multicast
// self-test, other hosts, the chat's TCP port, the firewall) and prints
// each one's finding: a line of OK, WARN or FAIL and what to do, or with
// --json one JSON object. It fails if a check fails.
//
// Network safety: doctor sends multicast on the interfaces it checks;
// its tests run it with --iface lo or inside netlab namespaces only.

func doctorCmd() *command {
	return &command{
		name:    "doctor",
		args:    "[ME]",
		summary: "check why peers might not find each other: interfaces, port 5353, a multicast self-test, ME's TCP port, firewall",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			iface := st.ifaceFlag(fs)
			asJSON := fs.Bool("json", false, "print one JSON object per check, one per line")
			port := fs.Uint("port", 0, "the chat's TCP `port` to check (default: derived from ME; none without ME)")
			timeout := fs.Duration("timeout", doctor.DefaultTimeout, "bound on the self-test and on listening for other hosts")
			st.verboseFlag(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) > 1 {
					return usagef("takes at most one ME, got %d arguments", len(args))
				}
				if *port > 65535 {
					return usagef("--port %d: not a TCP port", *port)
				}
				if *timeout <= 0 {
					return usagef("--timeout must be positive, got %v", *timeout)
				}
				opts := doctor.Options{Interfaces: splitList(*iface), Port: uint16(*port), Timeout: *timeout, Logger: st.log}
				if len(args) == 1 {
					if err := mdns.CheckName(args[0]); err != nil {
						return usagef("%v", err)
					}
					if opts.Port == 0 {
						opts.Port = topology.HashToPort(args[0])
					}
				}
				p := &findingPrinter{w: st.stdout, json: *asJSON}
				doctor.Run(ctx, opts, p.print)
				return p.result()
			}
		},
	}
}

// A findingPrinter prints findings as doctor's output lines and counts
// the failed checks.
type findingPrinter struct {
	w      io.Writer
	json   bool  // one JSON object a line, else text
	failed int   // findings with status FAIL
	werr   error // the first error writing to w
}

// print writes f as one line: its JSON encoding (writeJSON), or
// "STATUS [IFACE ]CHECK: DETAIL[ — HINT]", the status padded to four and
// each field through chat.Escape.
func (p *findingPrinter) print(f doctor.Finding) {
	if f.Status == doctor.Fail {
		p.failed++
	}
	if p.json {
		if err := writeJSON(p.w, f); err != nil && p.werr == nil {
			p.werr = err
		}
		return
	}
	// A finding carries what strangers announce (the instance names the
	// self-test saw, interface names): every field prints escaped, so
	// none can print a line of its own.
	where := chat.Escape(f.Check)
	if f.Iface != "" {
		where = chat.Escape(f.Iface) + " " + where
	}
	line := fmt.Sprintf("%-4s %s: %s", f.Status, where, chat.Escape(f.Detail))
	if f.Hint != "" {
		line += " — " + chat.Escape(f.Hint)
	}
	if _, err := fmt.Fprintln(p.w, line); err != nil && p.werr == nil {
		p.werr = err
	}
}

// result is the command's error: the first write error, else how many
// checks failed, if any.
func (p *findingPrinter) result() error {
	switch {
	case p.werr != nil:
		return p.werr
	case p.failed == 1:
		return errors.New("1 check failed")
	case p.failed > 1:
		return fmt.Errorf("%d checks failed", p.failed)
	}
	return nil
}
