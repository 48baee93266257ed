package chat

import (
	"context"
	"fmt"
	"slices"
	"time"

	"scuttle/applog"
)

// The notices: what the store tells of that the user must know, each
// printed once as an info line. A fork is its author's doing and
// freezes that log here; the limits make the store refuse records.

// notices remembers which notices were printed this run.
type notices struct {
	forks map[applog.ID]bool // the forked logs told of
	logs  bool               // the log limit was told of
	space bool               // the disk was nearly full at the last look
	// blocked is the logs blocked at the last look (noteBlocked).
	blocked []applog.ID
}

// watchStore prints the store's notices as they come, until ctx ends:
// its limits (reportLimits) and its forks (reportForks).
func (c *Chat) watchStore(ctx context.Context) {
	n := notices{forks: map[applog.ID]bool{}}
	for {
		changed := c.cfg.DB.Changed()
		c.reportLimits(&n)
		c.reportForks(&n)
		c.noteBlocked(&n)
		select {
		case <-changed:
		case <-time.After(time.Second): // a refusal changes nothing stored
		case <-ctx.Done():
			return
		}
	}
}

// reportLimits prints, once, that the store refuses the records of new
// logs (--max-logs), and, each time it begins, that it refuses peers'
// entries for lack of disk space.
func (c *Chat) reportLimits(n *notices) {
	logs, space := c.cfg.DB.Limited()
	switch {
	case logs && !n.logs:
		n.logs = true
		c.info("this database holds as many logs as --max-logs allows: records of new logs are refused")
	case space != n.space:
		n.space = space
		if space {
			c.info("the disk is nearly full: peers' entries are refused until there is space again; yours are still stored")
		}
	}
}

// noteBlocked stops the fetches of blocked logs' files (forgetBlocked)
// whenever the logs blocked change: a block made outside the
// chat (scuttle block) is applied by the database, which deletes the
// log's entries, and scuttle chat's outbox loop deletes its files.
func (c *Chat) noteBlocked(n *notices) {
	if c.cfg.Blobs == nil {
		return
	}
	blocked := c.cfg.DB.BlockedLogs()
	if slices.Equal(blocked, n.blocked) {
		return
	}
	n.blocked = blocked
	c.forgetBlocked()
}

// reportForks prints, once per log, each fork the store learns of: a
// log whose author signed two different entries at one seq, which is
// frozen here from then on.
func (c *Chat) reportForks(n *notices) {
	db := c.cfg.DB
	for _, fk := range db.Forks() {
		if n.forks[fk.Log] {
			continue
		}
		n.forks[fk.Log] = true
		if fk.Log == db.ID() {
			c.info(OwnForkWarning(fk.Seq))
			continue
		}
		name := fk.Log.Short()
		if b, ok := c.cfg.Names.NameOf(fk.Log); ok {
			name = b.Name
		}
		c.info(fmt.Sprintf("%s's log forked at seq %d (two different signed entries); it is frozen here", Escape(name), fk.Seq))
	}
}

// OwnForkWarning is what the chat and scuttle append say when the own
// log is forked at seq.
func OwnForkWarning(seq uint64) string {
	return fmt.Sprintf("your own log forked at seq %d (two different signed entries: this database was restored from a backup or copied); "+
		"peers holding the other branch, and every peer told of the fork, will not take new entries; start a fresh database (a new --db directory) to be heard", seq)
}
