package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/mdns"
	"scuttle/topology/chat"
)

// names and trust: the bindings of chat names to log IDs (applog/names)
// that a chat learns on first use, and the one way to change them. Both
// work while a chat runs on the database: they open it read-only (no
// lock) and the names file takes concurrent writers.

func namesCmd() *command {
	return &command{
		name:    "names",
		summary: "list the names the chat knows: name, log id, how it was learned (direct, claimed, trusted), when",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			asJSON := fs.Bool("json", false, "print one JSON object per line: name, id, how, time")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("takes no arguments")
				}
				ns, err := openNames(*db, st)
				if err != nil {
					return err
				}
				bs := ns.Bindings()
				if *asJSON {
					enc := json.NewEncoder(st.stdout)
					for _, b := range bs {
						err := enc.Encode(struct {
							Name string    `json:"name"`
							ID   applog.ID `json:"id"`
							How  string    `json:"how"`
							Time string    `json:"time"`
						}{b.Name, b.ID, b.How.String(), b.Time.UTC().Format(time.RFC3339)})
						if err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(st.stdout, 0, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tID\tHOW\tSINCE")
				for _, b := range bs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", chat.Escape(b.Name), b.ID, b.How, b.Time.UTC().Format(time.RFC3339))
				}
				return tw.Flush()
			}
		},
	}
}

func trustCmd() *command {
	return &command{
		name:    "trust",
		args:    "NAME ID",
		summary: "bind NAME to the log ID, replacing what the chat knew; a running chat applies it within a second",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			db := st.dbFlag(fs, defaultDB)
			return func(ctx context.Context, args []string) error {
				if len(args) != 2 {
					return usagef("takes NAME and ID, got %d arguments", len(args))
				}
				name := args[0]
				if err := mdns.CheckName(name); err != nil {
					return usagef("%v", err)
				}
				id, err := applog.ParseID(args[1])
				if err != nil {
					return usagef("%v", err)
				}
				ns, err := openNames(*db, st)
				if err != nil {
					return err
				}
				ch, err := ns.Trust(name, id)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(st.stdout, chat.TrustedLine(name, ch))
				return err
			}
		},
	}
}

// openNames returns the names store of the database in dir, which must
// exist; it checks that without the writer lock, which a chat may hold.
func openNames(dir string, st *state) (*names.Store, error) {
	db, err := openReader(dir, st)
	if err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return names.Open(dir, &names.Options{Logger: st.log})
}
