package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"scuttle/applog"
	"scuttle/applog/blob"
	"scuttle/topology/chat"
)

// send, get and files: the database's store of shared files
// (applog/blob). All three work while a chat runs on the database: the
// store takes other processes' Add and reads, and send queues its entry
// for the chat, which holds the own log, to append.

func sendCmd() *command {
	return &command{
		name:    "send",
		args:    "PATH",
		summary: "share the file at PATH: copy it into the database's store and add its entry to the own log (a running chat appends it within a second)",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			opts := blobFlags(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return usagef("takes one PATH, got %d arguments", len(args))
				}
				if opts.MaxBytes < 0 {
					return usagef("--max-blob-bytes %d: want 0 (no quota) or more", opts.MaxBytes)
				}
				// The writer if no chat holds the database; it also
				// makes a database that is not there yet.
				w, err := applog.Open(*db, &applog.Options{LockWait: -1, Logger: st.log})
				if err != nil && !errors.Is(err, applog.ErrLocked) {
					return err
				}
				if w != nil {
					defer w.Close()
				}
				store, err := blob.Open(*db, opts)
				if err != nil {
					return err
				}
				id, m, err := store.Add(args[0])
				if err != nil {
					return err
				}
				head, err := readHead(store, id)
				if err != nil {
					return err
				}
				e := blob.NewEntry(args[0], m, head)
				if err := store.Queue(e.Encode()); err != nil {
					return err
				}
				what := fmt.Sprintf("%s (%s) %s", chat.Escape(e.Name), blob.FormatSize(e.Size), id)
				if w == nil {
					_, err = fmt.Fprintf(st.stdout, "queued %s: the running chat adds it to the own log within a second\n", what)
					return err
				}
				if _, err := store.Drain(appendEntry(store, w, st.log)); err != nil {
					return err
				}
				if err := w.Close(); err != nil {
					return err
				}
				_, err = fmt.Fprintf(st.stdout, "sent %s\n", what)
				return err
			}
		},
	}
}

// blobFlags defines the flags of a database's file store on fs, and
// returns the options they set, for blob.Open: --max-blob-bytes (the
// quota). The free-space floor applies whatever they say. send and chat
// take them; a caller refuses a negative quota.
func blobFlags(fs *flag.FlagSet) *blob.Options {
	o := new(blob.Options)
	fs.Int64Var(&o.MaxBytes, "max-blob-bytes", 0, "refuse a file that would take the store of files past `N` bytes (0: no quota)")
	return o
}

// appendEntry returns what Drain calls with each queued file entry: it
// appends the entry to the own log, which db (the writer) holds, and
// records the own log as a source of the file (blob.Store.AddSource),
// so that peers are served it. Only the writer records sources, so send
// queues and the writer records.
func appendEntry(store *blob.Store, db *applog.DB, log *slog.Logger) func([]byte) error {
	return func(b []byte) error {
		if _, err := db.Append(b); err != nil {
			return err
		}
		e, err := blob.ParseEntry(b) // Drain passes only entries that parse
		if err == nil {
			err = store.AddSource(e.ID, db.ID())
		}
		if err != nil && !errors.Is(err, blob.ErrNotFound) { // not found: removed meanwhile
			log.Warn("recording the own log as a source of a sent file", "err", err)
		}
		return nil
	}
}

// readHead returns the first 512 bytes of the stored file id, for its
// media type.
func readHead(store *blob.Store, id blob.ID) ([]byte, error) {
	f, err := store.Open(id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return head[:n], err
}

func getCmd() *command {
	return &command{
		name:    "get",
		args:    "ID",
		summary: "write the file of content id ID from the database's store to standard output, or to FILE with -o; exit 1 if it is not all here, saying how much is, or if it is sealed and its key is not here",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			out := fs.String("o", "", "write to `FILE` instead of standard output")
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return usagef("takes one ID, got %d arguments", len(args))
				}
				id, err := blob.ParseID(args[0])
				if err != nil {
					return usagef("%v", err)
				}
				store, err := openStore(*db, st)
				if err != nil {
					return err
				}
				f, err := store.Open(id)
				if err != nil {
					return err
				}
				defer f.Close()
				copyOut, err := fileCopier(store, id)
				if err != nil {
					return err
				}
				w, dst := st.stdout, (*os.File)(nil)
				if *out != "" {
					if dst, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666); err != nil {
						return err
					}
					w = dst
				}
				// The copy is hashed as it goes: a file damaged on disk is
				// reported, not passed on as the one asked for.
				m, err := copyOut(w, f)
				if err == nil && m.ID() != id {
					err = fmt.Errorf("the stored file %s is damaged: its content hashes to %s", id, m.ID())
				}
				if dst != nil {
					if cerr := dst.Close(); err == nil {
						err = cerr
					}
					if err != nil {
						os.Remove(*out)
						return err
					}
					_, err = fmt.Fprintf(st.stdout, "wrote %s: %d bytes of %s\n", chat.Escape(*out), m.PlainSize(), id)
				}
				return err
			}
		},
	}
}

// errNoKey is the error of get for a sealed file whose key the store
// does not hold.
var errNoKey = errors.New("is sealed and its key is not here: only the chats of those it was sent to learn it, from its entry")

// fileCopier returns how get writes out the stored file id: blob.Copy,
// or for a sealed file blob.CopySealed with the key the store keeps;
// both hash what they read, for the id. A sealed file whose key is not
// here is an error, before anything is written.
func fileCopier(store *blob.Store, id blob.ID) (func(io.Writer, io.Reader) (*blob.Manifest, error), error) {
	m, err := store.Manifest(id)
	if err != nil {
		return nil, err
	}
	if !m.Sealed() {
		return blob.Copy, nil
	}
	key, ok, err := store.Key(id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s %w", id, errNoKey)
	}
	return func(w io.Writer, r io.Reader) (*blob.Manifest, error) { return blob.CopySealed(w, r, key) }, nil
}

// openStore opens the store of the database in dir, which must exist;
// it checks that without the writer lock, which a chat may hold.
func openStore(dir string, st *state) (*blob.Store, error) {
	db, err := openReader(dir, st)
	if err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return blob.Open(dir, nil)
}

func filesCmd() *command {
	return &command{
		name:    "files",
		summary: "list the files in the database's store: content id, size, blocks here, complete or not",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			asJSON := fs.Bool("json", false, "print one JSON object per line: id, size, blocks, held, complete")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("takes no arguments")
				}
				store, err := openStore(*db, st)
				if err != nil {
					return err
				}
				list, err := store.List()
				if err != nil {
					return err
				}
				if *asJSON {
					for _, f := range list {
						err := writeJSON(st.stdout, struct {
							ID       string `json:"id"`
							Size     int64  `json:"size"`
							Blocks   int    `json:"blocks"`
							Held     int    `json:"held"`
							Complete bool   `json:"complete"`
						}{f.ID.String(), f.Size, f.Blocks, f.Held, f.Complete})
						if err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(st.stdout, 0, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSIZE\tHELD")
				for _, f := range list {
					held := "complete"
					if !f.Complete {
						held = strconv.Itoa(f.Held) + " of " + strconv.Itoa(f.Blocks) + " blocks"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", f.ID, blob.FormatSize(f.Size), held)
				}
				return tw.Flush()
			}
		},
	}
}

// outboxEvery is how often a chat appends the entries scuttle send
// queued while it held the database, and looks for a change of the block
// list.
const outboxEvery = time.Second

// startOutbox keeps store, the store of files of the database, while a
// chat, whose writer is db, runs: now and then every outboxEvery until
// stop, it appends the file entries that scuttle send queued
// (blob.Store.Drain) to the own log, recording the own log as their
// source, and, when the block list has changed since it last looked
// (and at the start, if it is not empty), deletes the files that only
// blocked logs named (blob.Store.Purge), as scuttle block does when no
// chat runs. stop returns once the goroutine has: call it before closing
// db.
func startOutbox(ctx context.Context, store *blob.Store, db *applog.DB, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(outboxEvery)
		defer t.Stop()
		var blocked []applog.ID // as last purged
		for {
			if _, err := store.Drain(appendEntry(store, db, log)); err != nil {
				log.Warn("appending a sent file's entry", "err", err)
			}
			if now := db.BlockedLogs(); !slices.Equal(now, blocked) {
				n, err := store.Purge(db.Blocked)
				if err != nil {
					log.Warn("deleting the files of blocked logs", "err", err)
				}
				if n > 0 {
					log.Info("deleted the files only blocked logs named", "files", n)
				}
				blocked = now
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
