package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"scuttle/applog"
	"scuttle/applog/blob"
)

// block and unblock: the user's moderation of the logs a database takes
// from its peers (applog's block list).

func blockCmd() *command {
	return &command{
		name:    "block",
		args:    "ID",
		summary: "delete log ID and the files only it shared from the database, and refuse it from every peer from now on (a running chat does it all within two seconds)",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			return func(ctx context.Context, args []string) error {
				id, err := oneID(args)
				if err != nil {
					return err
				}
				l, err := applog.Open(*db, &applog.Options{ReadOnly: true})
				if err != nil {
					return err
				}
				err = l.Block(id)
				l.Close()
				if err != nil {
					return err
				}
				// A writer deletes blocked logs: at its Open, and while it
				// runs (a chat holding the database) within a second.
				w, err := applog.Open(*db, &applog.Options{LockWait: -1, Logger: st.log})
				if errors.Is(err, applog.ErrLocked) {
					_, err = fmt.Fprintf(st.stdout, "blocked %s: the running chat refuses it from now on, no longer shows or forwards it, and deletes its entries from disk within a second and the files only it shared within two\n", id)
					return err
				}
				if err != nil {
					return err
				}
				n, err := purgeFiles(*db, w)
				if cerr := w.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(st.stdout, "blocked %s: its entries and %s only it shared are deleted, and it is refused from every peer\n", id, strconv.Itoa(n)+" "+pluralize(n, "file", "files"))
				return err
			}
		},
	}
}

// purgeFiles deletes, from the store of files of the database in dir,
// whose writer w is, the files that only blocked logs named
// (blob.Store.Purge), and returns how many. A database with no store
// has none to delete, and gets none.
func purgeFiles(dir string, w *applog.DB) (int, error) {
	if _, err := os.Lstat(filepath.Join(dir, "blobs")); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	store, err := blob.Open(dir, nil)
	if err != nil {
		return 0, err
	}
	return store.Purge(w.Blocked)
}

func unblockCmd() *command {
	return &command{
		name:    "unblock",
		args:    "ID",
		summary: "take log ID off the block list: peers may send it again",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			return func(ctx context.Context, args []string) error {
				id, err := oneID(args)
				if err != nil {
					return err
				}
				if err := applog.Unblock(*db, id); err != nil {
					return err
				}
				_, err = fmt.Fprintf(st.stdout, "unblocked %s: peers may send it again\n", id)
				return err
			}
		},
	}
}

// oneID parses the one ID argument of block and unblock.
func oneID(args []string) (applog.ID, error) {
	if len(args) != 1 {
		return "", usagef("want one log ID, got %d arguments", len(args))
	}
	id, err := applog.ParseID(args[0])
	if err != nil {
		return "", usagef("%v", err)
	}
	return id, nil
}
