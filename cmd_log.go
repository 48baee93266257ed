package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"scuttle/applog"
	"scuttle/topology/chat"
)

// The commands of exercise 10: append to the own log, read every log back,
// and inspect the database (logs, id, verify).

const defaultDB = "logs.db"

func appendCmd() *command {
	return &command{
		name:    "append",
		args:    "[MESSAGE...]",
		summary: "append MESSAGE, or each line of standard input, to the own log; durable on exit 0",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			wait := fs.Duration("wait", 5*time.Second, "how long to wait for another writer to release the database")
			verbose := fs.Bool("v", false, "print each seq on standard output once it is durable")
			return func(ctx context.Context, args []string) error {
				l, err := applog.Open(*db, &applog.Options{LockWait: lockWait(*wait), Logger: st.log})
				if err != nil {
					return err
				}
				if seq := l.Forked(l.ID()); seq != 0 {
					fmt.Fprintf(st.stderr, "scuttle append: warning: %s\n", chat.OwnForkWarning(seq))
				}
				if len(args) == 1 && args[0] == "-" || len(args) == 0 {
					err = appendLines(ctx, l, st.stdin, st.stdout, *verbose)
				} else {
					var seq uint64
					if seq, err = l.Append([]byte(strings.Join(args, " "))); err == nil && *verbose {
						_, err = fmt.Fprintln(st.stdout, seq)
					}
				}
				return errors.Join(err, l.Close())
			}
		},
	}
}

// lockWait maps the --wait flag to applog's LockWait, where 0 means the
// default: --wait 0 means do not wait.
func lockWait(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// Batches of standard input are cut at whichever comes first: the input
// has nothing more buffered (so lines typed by hand are durable at once),
// appendBatchEntries lines, or appendBatchBytes bytes.
const (
	appendBatchEntries = 64 << 10
	appendBatchBytes   = 8 << 20
)

// appendLines appends every line of r as one entry, in durable batches,
// and with verbose prints each seq once its batch is durable.
func appendLines(ctx context.Context, l *applog.DB, r io.Reader, w io.Writer, verbose bool) error {
	in := bufio.NewReaderSize(r, 256<<10)
	out := bufio.NewWriter(w)
	var (
		arena   []byte   // the batch's lines, back to back
		ends    []int    // end offset of each line in arena
		entries [][]byte // views of arena handed to AppendBatch
		lineNo  int
	)
	flush := func() error {
		if len(ends) == 0 {
			return nil
		}
		entries = entries[:0]
		start := 0
		for _, end := range ends {
			entries = append(entries, arena[start:end:end])
			start = end
		}
		first, err := l.AppendBatch(entries)
		if err != nil {
			return err
		}
		if verbose {
			for i := range entries {
				out.WriteString(strconv.FormatUint(first+uint64(i), 10))
				out.WriteByte('\n')
			}
			if err := out.Flush(); err != nil {
				return err
			}
		}
		arena, ends = arena[:0], ends[:0]
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return errors.Join(flush(), err)
		}
		line, err := in.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) { // a line longer than the buffer
			if len(arena)-lastEnd(ends)+len(line) > applog.MaxEntrySize {
				return errors.Join(flush(), fmt.Errorf("line %d: longer than %d bytes", lineNo+1, applog.MaxEntrySize))
			}
			arena = append(arena, line...)
			line, err = in.ReadSlice('\n')
		}
		if len(line) > 0 || err == nil {
			lineNo++
			line = chat.TrimEOL(line)
			arena = append(arena, line...)
			if len(arena)-lastEnd(ends) > applog.MaxEntrySize {
				return errors.Join(flush(), fmt.Errorf("line %d: longer than %d bytes", lineNo, applog.MaxEntrySize))
			}
			ends = append(ends, len(arena))
		}
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			return errors.Join(flush(), fmt.Errorf("reading standard input: %w", err))
		}
		if in.Buffered() == 0 || len(ends) >= appendBatchEntries || len(arena) >= appendBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

func lastEnd(ends []int) int {
	if len(ends) == 0 {
		return 0
	}
	return ends[len(ends)-1]
}

// openReader opens the database in dir for reading, without creating it.
func openReader(dir string, st *state) (*applog.DB, error) {
	l, err := applog.Open(dir, &applog.Options{ReadOnly: true, Logger: st.log})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no database at %s (scuttle append creates one)", dir)
	}
	return l, err
}

// readOnly returns the run function of a command that takes no arguments
// and reads the database in *dir: fn gets it opened read-only.
func readOnly(st *state, dir *string, fn func(context.Context, *applog.DB) error) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("takes no arguments")
		}
		l, err := openReader(*dir, st)
		if err != nil {
			return err
		}
		return errors.Join(fn(ctx, l), l.Close())
	}
}

func readCmd() *command {
	return &command{
		name:    "read",
		summary: "print every entry of every log, in the order they were stored; sealed ones as sealed, or with --open opened by this database's keys",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			asJSON := fs.Bool("json", false, "print one JSON object per line: peer, seq, entry, time, and data (the entry's bytes in base64) if the entry is not valid UTF-8")
			follow := fs.Bool("follow", false, "keep printing entries stored later, also by another process, until interrupted")
			peer := fs.String("peer", "", "print only the log with this `id`")
			since := fs.Uint64("since", 0, "print only entries with a seq greater than `seq`")
			open := fs.Bool("open", false, "print the text of the sealed entries this database's encryption keys open (private messages to or from it, lines of its rooms)")
			network := fs.String("network", "", "with --open: the entries were written in the private network of `key` (environment: SCUTTLE_NETWORK); default: the public one")
			networkFile := fs.String("network-file", "", "with --open: "+networkFileUsage)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("takes no arguments")
				}
				if !*open && (*network != "" || *networkFile != "") {
					return usagef("--network and --network-file go with --open")
				}
				var netKey []byte
				if *open {
					k, err := networkFlag(st, *network, *networkFile)
					if err != nil {
						return err
					}
					netKey = k
				}
				var only applog.ID
				if *peer != "" {
					id, err := applog.ParseID(*peer)
					if err != nil {
						return usagef("--peer: %v", err)
					}
					only = id
				}
				l, err := openReader(*db, st)
				if err != nil {
					return err
				}
				defer l.Close()
				p := entryPrinter{w: bufio.NewWriter(st.stdout), json: *asJSON}
				if *open {
					if p.open, err = newOpener(*db, netKey); err != nil {
						return err
					}
					if len(p.open.keys) == 0 {
						fmt.Fprintf(st.stderr, "scuttle read: %s has no encryption key (scuttle rekey makes one): every sealed entry prints sealed\n", *db)
					}
					if err := p.open.learnRooms(ctx, l); err != nil {
						return err
					}
					defer func() {
						if p.open.full {
							fmt.Fprintf(st.stderr, "scuttle read: more than %d room keys; the lines of the rooms past them print sealed\n", maxOpenRooms)
						}
					}()
				}
				if only != "" && !*follow {
					err = p.printLog(l, only, *since)
				} else {
					err = p.printFeed(ctx, l, only, *since, *follow)
				}
				return errors.Join(err, p.w.Flush())
			}
		},
	}
}

// entryPrinter prints entries in the format of "scuttle read".
type entryPrinter struct {
	w    *bufio.Writer
	json bool
	open *opener // with --open; nil prints every sealed entry sealed
	buf  []byte
}

// printLog prints log id from seq since+1 on.
func (p *entryPrinter) printLog(l *applog.DB, id applog.ID, since uint64) error {
	it := l.Iter(id, since+1)
	defer it.Close()
	for it.Next() {
		if err := p.print(it.Entry()); err != nil {
			return err
		}
	}
	return it.Err()
}

// printFeed prints every entry in store order, of log only if it is set,
// with a seq above since; with follow it then waits for more until ctx ends.
func (p *entryPrinter) printFeed(ctx context.Context, l *applog.DB, only applog.ID, since uint64, follow bool) error {
	f := l.Feed()
	defer f.Close()
	for {
		for f.Next() {
			e := f.Entry()
			if e.Seq <= since || only != "" && e.Log != only {
				continue
			}
			if err := p.print(e); err != nil {
				return err
			}
		}
		if err := f.Err(); err != nil || !follow {
			return err
		}
		if err := p.w.Flush(); err != nil {
			return err
		}
		if err := f.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil // interrupted: the normal end of --follow
			}
			return err
		}
	}
}

func (p *entryPrinter) print(e applog.Entry) error {
	v := p.view(e)
	if p.json {
		p.buf = appendEntryJSON(p.buf[:0], e, v)
	} else {
		p.buf = appendEntryLine(p.buf[:0], e, v)
	}
	_, err := p.w.Write(p.buf)
	return err
}

// appendEntryLine appends the seed's line for e:
//
//	{peer: 'ID', seq: N, entry: 'TEXT'}
//
// TEXT is quoted so that the line is one line and reads back
// unambiguously. What v says of e changes the fields after seq
// (sealedView).
func appendEntryLine(b []byte, e applog.Entry, v sealedView) []byte {
	b = append(b, "{peer: '"...)
	b = append(b, e.Log...)
	b = append(b, "', seq: "...)
	b = strconv.AppendUint(b, e.Seq, 10)
	switch {
	case v.key != "":
		b = append(b, ", key: '"...)
		b = append(b, v.key...)
		return append(b, "'}\n"...)
	case v.sealed && v.msg == nil:
		return append(b, ", sealed: true}\n"...)
	case v.msg != nil:
		b = appendSealedFields(b, v.msg)
		if v.msg.RoomKey != nil {
			return append(b, "}\n"...)
		}
		b = append(b, ", entry: "...)
		b = appendQuoted(b, v.msg.Text)
		return append(b, "}\n"...)
	}
	b = append(b, ", entry: "...)
	b = appendQuoted(b, e.Data)
	return append(b, "}\n"...)
}

// appendQuoted appends s between single quotes, escaped as JavaScript
// would read it back: \' and \\, and the escapes of chat.AppendEscaped.
func appendQuoted(b, s []byte) []byte {
	b = append(b, '\'')
	b = chat.AppendEscaped(b, s, `'\`)
	return append(b, '\'')
}

// appendEntryJSON appends e as one line of "scuttle read --json"
// (a key entry or a sealed one as appendSealedJSON writes it):
//
//	{"peer":ID,"seq":N,"entry":TEXT,"time":RFC3339NANO[,"data":BASE64]}
//
// JSON strings hold text only: an entry that is not valid UTF-8 also
// carries its exact bytes in data (standard base64), since entry then
// shows each invalid byte as U+FFFD. Each string is written by
// chat.AppendJSON, as writeJSON would, without reflection: read prints
// every entry of the database.
func appendEntryJSON(b []byte, e applog.Entry, sv sealedView) []byte {
	if sv.sealed || sv.key != "" {
		return appendSealedJSON(b, e, sv)
	}
	b = append(b, `{"peer":`...)
	b = chat.AppendJSON(b, []byte(e.Log))
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"entry":`...)
	b = chat.AppendJSON(b, e.Data)
	b = append(b, `,"time":`...)
	b = chat.AppendJSON(b, e.Time.UTC().AppendFormat(nil, time.RFC3339Nano))
	if !utf8.Valid(e.Data) {
		b = append(b, `,"data":`...)
		b = chat.AppendJSON(b, base64.StdEncoding.AppendEncode(nil, e.Data))
	}
	return append(b, "}\n"...)
}

func logsCmd() *command {
	return &command{
		name:    "logs",
		summary: "list the logs held: id, head seq, entries, bytes, and which is the own log",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			asJSON := fs.Bool("json", false, "print one JSON object per line: id, head, entries, bytes, own, and forked (the seq) for a forked log")
			return readOnly(st, db, func(ctx context.Context, l *applog.DB) error {
				logs, err := l.Logs()
				if err != nil {
					return err
				}
				if *asJSON {
					for _, li := range logs {
						err := writeJSON(st.stdout, struct {
							ID      applog.ID `json:"id"`
							Head    uint64    `json:"head"`
							Entries uint64    `json:"entries"`
							Bytes   int64     `json:"bytes"`
							Own     bool      `json:"own"`
							Forked  uint64    `json:"forked,omitempty"`
							Blocked bool      `json:"blocked,omitempty"`
						}{li.ID, li.Head, li.Entries, li.Bytes, li.Own, li.Forked, li.Blocked})
						if err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(st.stdout, 0, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tHEAD\tENTRIES\tBYTES\tOWN\tSTATE")
				for _, li := range logs {
					own := ""
					if li.Own {
						own = "own"
					}
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", li.ID, li.Head, li.Entries, li.Bytes, own, logState(li))
				}
				return tw.Flush()
			})
		},
	}
}

func idCmd() *command {
	return &command{
		name:    "id",
		summary: "print the own log's id",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			return readOnly(st, db, func(ctx context.Context, l *applog.DB) error {
				_, err := fmt.Fprintln(st.stdout, l.ID())
				return err
			})
		},
	}
}

func verifyCmd() *command {
	return &command{
		name:    "verify",
		summary: "check every record of every log: framing, CRC, hash chain, signatures, index",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			return readOnly(st, db, func(ctx context.Context, l *applog.DB) error {
				problems := 0
				err := l.Verify(func(p error) {
					// damage to a derived file, repaired or read
					// around, is reported but lost nothing
					if !errors.Is(p, applog.ErrRepaired) {
						problems++
					}
					fmt.Fprintln(st.stdout, chat.Escape(p.Error()))
				})
				if err != nil {
					return err
				}
				// A fork is the author's doing, not damage here: it is
				// listed, and leaves the exit status to local corruption.
				for _, fk := range l.Forks() {
					fmt.Fprintf(st.stdout, "forked: log %s at seq %d: its author signed two different entries; frozen here (not local corruption)\n", fk.Log, fk.Seq)
				}
				if problems > 0 {
					return fmt.Errorf("%d %s", problems, pluralize(problems, "problem", "problems"))
				}
				logs, err := l.Logs()
				if err != nil {
					return err
				}
				var entries uint64
				held := 0
				for _, li := range logs {
					if !li.Blocked {
						entries += li.Entries
						held++
					}
				}
				_, err = fmt.Fprintf(st.stdout, "ok: %d %s in %d %s\n", entries, pluralize(int(entries), "entry", "entries"), held, pluralize(held, "log", "logs"))
				return err
			})
		},
	}
}

// logState is the STATE column of logs: what keeps a log from growing.
func logState(li applog.LogInfo) string {
	switch {
	case li.Blocked:
		return "blocked"
	case li.Forked != 0:
		return fmt.Sprintf("forked at %d", li.Forked)
	}
	return ""
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
