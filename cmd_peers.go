package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/mdns"
	"scuttle/topology"
	"scuttle/topology/chat"
)

// peers: list the scuttle chats that multicast DNS finds on the LAN, by
// browsing their DNS-SD service _scuttle._tcp (topology/chat/service.go).

func peersCmd() *command {
	return &command{
		name:    "peers",
		summary: "list the chats on the LAN: name, addresses and port, short id, whether in this network, and with --db whether the name's binding is known",
		setup: func(fs *flag.FlagSet, st *state) func(context.Context, []string) error {
			iface := st.ifaceFlag(fs)
			timeout := fs.Duration("timeout", 2*time.Second, "browse for `duration`")
			asJSON := fs.Bool("json", false, "print one JSON object per peer, one per line")
			db := fs.String("db", "", "compare each peer with the name bindings of the database `dir`ectory: known, new or conflicting")
			network := fs.String("network", "", "tell the peers of the network of `key` (environment: SCUTTLE_NETWORK); default: the public one")
			networkFile := fs.String("network-file", "", networkFileUsage)
			st.verboseFlag(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("takes no arguments")
				}
				if *timeout <= 0 {
					return usagef("--timeout must be positive, got %v", *timeout)
				}
				key, err := networkFlag(st, *network, *networkFile)
				if err != nil {
					return err
				}
				var ns *names.Store
				if *db != "" {
					if ns, err = openNames(*db, st); err != nil {
						return err
					}
				}
				found, err := browsePeers(ctx, st, splitList(*iface), *timeout)
				if err != nil {
					return err
				}
				if len(found) == 0 {
					fmt.Fprintf(st.stderr, "scuttle peers: no peers found in %v\n", *timeout)
					return nil
				}
				return printPeers(st, found, topology.NetworkTag(key), ns, *asJSON)
			}
		},
	}
}

// browsePeers browses _scuttle._tcp for d and returns the instances
// present at the end, by name.
func browsePeers(ctx context.Context, st *state, iface []string, d time.Duration) ([]mdns.ServiceEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	md, err := mdns.Listen(ctx, mdns.Config{Interfaces: iface, Logger: st.log})
	if err != nil {
		return nil, err
	}
	defer md.Close()
	seen := map[string]mdns.ServiceEntry{}
	md.Browse(ctx, chat.ServiceType, func(e mdns.ServiceEntry) {
		if e.Gone {
			delete(seen, strings.ToLower(e.Instance))
			return
		}
		seen[strings.ToLower(e.Instance)] = e
	})
	out := make([]mdns.ServiceEntry, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b mdns.ServiceEntry) int {
		return cmp.Compare(strings.ToLower(a.Instance), strings.ToLower(b.Instance))
	})
	return out, nil
}

// peerInfo is one peer as printed.
type peerInfo struct {
	Name    string   `json:"name"`
	Addrs   []string `json:"addrs"`
	Port    uint16   `json:"port"`
	ID      string   `json:"id"`
	Version string   `json:"version"`
	// Network is "this" when the peer's net= tag is ours (both absent:
	// the public network), else "other".
	Network string `json:"network"`
	// Binding, with --db: "known" (the name is bound to the peer's id),
	// "new" (not bound) or "conflicting" (bound to another id, Bound).
	Binding string `json:"binding,omitempty"`
	Bound   string `json:"bound,omitempty"`
}

func peerOf(e mdns.ServiceEntry, ourTag string, ns *names.Store) peerInfo {
	p := peerInfo{Name: e.Instance, Addrs: e.Addrs, Port: e.Port, Network: "other"}
	p.ID, _ = chat.TXTValue(e.TXT, "id")
	p.Version, _ = chat.TXTValue(e.TXT, "v")
	if tag, _ := chat.TXTValue(e.TXT, "net"); tag == ourTag {
		p.Network = "this"
	}
	if ns != nil {
		switch b, ok := ns.Lookup(e.Instance); {
		case !ok:
			p.Binding = "new"
		case string(b.ID) == p.ID:
			p.Binding = "known"
		default:
			p.Binding, p.Bound = "conflicting", string(b.ID)
		}
	}
	return p
}

func printPeers(st *state, found []mdns.ServiceEntry, ourTag string, ns *names.Store, asJSON bool) error {
	if asJSON {
		for _, e := range found {
			if err := writeJSON(st.stdout, peerOf(e, ourTag, ns)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(st.stdout, 0, 4, 2, ' ', 0)
	for _, e := range found {
		p := peerOf(e, ourTag, ns)
		// The id is the peer's TXT value: its short form if it is a log
		// ID, else escaped, as every string a stranger controls.
		id := "-"
		if _, err := applog.ParseID(p.ID); err == nil {
			id = applog.ID(p.ID).Short()
		} else if p.ID != "" {
			id = chat.Escape(p.ID) + " (not a log id)"
		}
		line := fmt.Sprintf("%s\t%s\tport %s\tid %s\t%s network", chat.Escape(p.Name), strings.Join(p.Addrs, ","), strconv.Itoa(int(p.Port)), id, p.Network)
		switch p.Binding {
		case "":
		case "conflicting":
			line += "\tconflicting: the name is bound to " + applog.ID(p.Bound).Short()
		default:
			line += "\t" + p.Binding
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}
