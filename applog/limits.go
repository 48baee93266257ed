package applog

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// What a database refuses to store of its peers' logs, so that no peer
// can fill it: more than Options.MaxLogs logs (but never a log its user
// wants: SetWanted), anything of a peer once the file system's free
// space is below the floor (see FreeSpaceFloor), a blocked log
// (block.go), a forked one (fork.go). Refused runs are skipped by
// InsertRuns, which stores the other runs; Refuses lets a replica skip
// such records before checking them.

var (
	// ErrLogLimit is returned by Insert for the first records of a new
	// log when the database holds Options.MaxLogs logs, unless the log is
	// wanted (SetWanted).
	ErrLogLimit = errors.New("applog: too many logs")
	// ErrLowSpace is returned by Insert for records of any log but the
	// own one while the file system's free space is below the floor.
	ErrLowSpace = errors.New("applog: free space below the floor")
)

// IsRefused reports whether err says only that records were not stored
// because this database refuses their log (ErrFork, ErrForked,
// ErrBlocked, ErrLogLimit, ErrLowSpace): a replica goes on with the
// other logs.
func IsRefused(err error) bool {
	for _, e := range []error{ErrFork, ErrForked, ErrBlocked, ErrLogLimit, ErrLowSpace} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FreeSpaceFloor returns the free space below which no peer's records
// are stored on a file system of total bytes: 5 % of it or 1 GiB,
// whichever is smaller. The own appends go on until the disk is full.
func FreeSpaceFloor(total uint64) uint64 { return min(total/20, 1<<30) }

// freeCheckEvery is how long a free-space reading is believed.
const freeCheckEvery = time.Second

// limits is the state of the checks above that is not in a log.
type limits struct {
	warnedLogs atomic.Bool                   // the log limit was logged once
	wanted     atomic.Pointer[func(ID) bool] // SetWanted's; nil: none

	mu      sync.Mutex
	checked time.Time
	low     bool
	warned  bool // low space was logged since it was last fine
}

// refusal returns why records of log id are not to be stored, nil if
// they may be. held says whether the database holds the log.
func (db *DB) refusal(id ID, held bool) error {
	if seq := db.Forked(id); seq != 0 {
		return fmt.Errorf("%w: insert %s: forked at seq %d", ErrForked, id.Short(), seq)
	}
	if db.Blocked(id) {
		return fmt.Errorf("%w: insert %s", ErrBlocked, id.Short())
	}
	if id != db.id && db.lowSpace() {
		return fmt.Errorf("%w: insert %s", ErrLowSpace, id.Short())
	}
	if !held && db.opts.MaxLogs > 0 && db.tab.count() >= db.opts.MaxLogs && !db.wanted(id) {
		if !db.lim.warnedLogs.Swap(true) {
			db.log.Warn("log limit reached: records of new logs are refused", "max", db.opts.MaxLogs)
		}
		return fmt.Errorf("%w: insert %s: %d logs held, limit %d", ErrLogLimit, id.Short(), db.tab.count(), db.opts.MaxLogs)
	}
	return nil
}

// SetWanted makes Insert take the logs for which wanted returns true
// whatever Options.MaxLogs says: the logs of the peers a user named or
// trusts, which a flood of made-up logs must not lock out. They count
// towards the limit, so a database may hold more than MaxLogs logs; the
// free-space floor, blocks and forks still apply to them. wanted is
// asked only about a new log while the database is at the limit, from
// Insert's and Refuses's callers' goroutines, possibly at once; it must
// be safe for that and return soon. nil wants no log. The own log is
// always taken.
func (db *DB) SetWanted(wanted func(ID) bool) {
	if wanted == nil {
		db.lim.wanted.Store(nil)
		return
	}
	db.lim.wanted.Store(&wanted)
}

// wanted reports whether SetWanted's function wants log id.
func (db *DB) wanted(id ID) bool {
	if id == db.id {
		return true
	}
	f := db.lim.wanted.Load()
	return f != nil && (*f)(id)
}

// MaxLogs returns the bound on the logs nobody asked for that the
// database was opened with (Options.MaxLogs; 0: none), so that its
// replicas can share it out among their peers.
func (db *DB) MaxLogs() int { return db.opts.MaxLogs }

// Limited reports whether Insert refused a new log for Options.MaxLogs
// since Open (a log nobody wanted, see SetWanted), and whether the free space is below the floor now (as last
// read): what a user should be told once.
func (db *DB) Limited() (logs, space bool) {
	db.lim.mu.Lock()
	space = db.lim.low
	db.lim.mu.Unlock()
	return db.lim.warnedLogs.Load(), space
}

// Refuses reports whether Insert would refuse every record of log id
// (forked, blocked, a new log beyond Options.MaxLogs that SetWanted's
// function does not want, a peer's log below
// the free-space floor), so that a replica can skip them unchecked.
func (db *DB) Refuses(id ID) bool {
	pub, ok := id.publicKey()
	if !ok {
		return true
	}
	_, held := db.tab.lookup(pub)
	return db.refusal(id, held) != nil
}

// lowSpace reports whether the database's file system has less free
// space than FreeSpaceFloor, reading it at most once per freeCheckEvery.
// An unknown free space is not low.
func (db *DB) lowSpace() bool {
	lim := &db.lim
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if now := time.Now(); now.Sub(lim.checked) >= freeCheckEvery {
		lim.checked = now
		free := db.opts.FreeSpace
		if free == nil {
			free = diskFree
		}
		avail, total, err := free(db.dir)
		lim.low = err == nil && total > 0 && avail < FreeSpaceFloor(total)
		if lim.low && !lim.warned {
			db.log.Warn("free space below the floor: peers' records are refused", "dir", db.dir, "avail", avail, "floor", FreeSpaceFloor(total))
		}
		lim.warned = lim.low
	}
	return lim.low
}
