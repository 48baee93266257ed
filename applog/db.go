package applog

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures Open. The zero value (or a nil *Options) is a
// writer with defaults.
type Options struct {
	// SegmentSize is the size at which a log rolls to a new segment
	// file; 0 means DefaultSegmentSize.
	SegmentSize int64
	// LockWait is how long a writer's Open waits for the lock held by
	// another process; 0 means 5 s, negative means fail at once.
	LockWait time.Duration
	// ReadOnly opens without the lock and never creates or changes a
	// file; Append, AppendBatch and Insert fail with ErrReadOnly.
	ReadOnly bool
	// Logger receives diagnostics (recovery actions, corruption found);
	// nil discards them.
	Logger *slog.Logger
}

// DefaultSegmentSize is the segment size used when Options.SegmentSize
// is 0.
const DefaultSegmentSize = 4 << 20

// File names in the database directory.
const (
	fileKey   = "key"     // ed25519 private key, 64 bytes, mode 0600
	filePub   = "key.pub" // the own ID in text and a newline
	fileLock  = "LOCK"    // flock(2)ed by the writer; holds its pid
	fileLogs  = "logs"    // log ordinal table
	fileFeed  = "feed"    // the change feed
	fileState = "state"   // checkpoint written by Close
)

// DB is a database of logs: the own log, which this database's key signs,
// and the logs of others received through Insert. A DB is safe for
// concurrent use. Reads never block on writes.
type DB struct {
	dir      string
	opts     Options
	log      *slog.Logger
	readOnly bool
	id       ID
	sign     *signer // nil when read-only
	lock     *lockFile

	logs     atomic.Pointer[logTable]
	tableMu  sync.Mutex // adding logs (writer leader) or re-reading the table (reader)
	tableLen int64      // bytes of the logs file read (reader) or written (writer)
	logsF    *os.File   // writer only

	feedF    *os.File    // writer only: the feed file, open for writing
	feedLen  int64       // writer only, guarded by qmu: size of the feed
	feedBuf  []byte      // guarded by qmu
	openCk   *checkpoint // the checkpoint found at Open (writer), nil if none
	openCkB  []byte      // the state file's bytes at Open (writer)
	feedSync int64       // writer, guarded by qmu: the feed is durable up to here (-1: unknown)
	hintLen  int64       // feed length the state file last described; guarded by qmu
	hintStep int64       // write a feed hint when the feed grew this much (hintEvery)
	openTime time.Duration

	// group commit
	qmu     sync.Mutex
	qcond   *sync.Cond
	next    *batch // requests waiting for the round in progress
	writing bool   // the write lead is held or handed on (see submit)
	syncing int    // rounds written and not yet published (see maxSyncing)
	parked  bool   // the lead waits for a round to publish (see submit)
	last    *round // the latest round, until it is published
	// syncPrev is closed when the round before the one being written
	// has synced; writer only. A roll closes the old segment's files
	// only after it, as that round may still fdatasync them.
	syncPrev <-chan struct{}
	bufs     bufPool // the leader's spare write buffers
	closing  bool
	failed   error // a write or sync failed, the writer is unusable

	chMu sync.Mutex
	ch   chan struct{}

	checks    checkPool // Insert's per-record scratch
	preparing sync.Map  // ID → chan struct{}: logs being prepared (see prepareLog)

	openFiles atomic.Int64
	mapMu     sync.RWMutex // held for reading while a mapped index is used; Close unmaps under it
	commits   atomic.Int64 // group commits made (for benchmarks)
	closed    atomic.Bool
	closeMu   sync.Mutex
	closeErr  error
}

// logTable is a snapshot of the logs held, in ordinal order, that readers
// load atomically and use without a lock. Adding a log makes a new table
// (with) in O(1), not a copy of the old one, since a receiver adds logs
// by the thousand: all tables share one byID, and list only ever grows in
// place past the length of every published table, where no reader of
// one looks. So get may find, by ID, a log that was added after t; that
// log is new and empty, as it would be in the next table.
type logTable struct {
	list []*logState
	byID *sync.Map // ID → *logState, of every table made from this one's first
}

func newLogTable() *logTable { return &logTable{byID: new(sync.Map)} }

func (t *logTable) get(id ID) *logState {
	if t == nil {
		return nil
	}
	l, _ := t.byID.Load(id)
	ls, _ := l.(*logState)
	return ls
}

// with returns the table of t's logs and l. Only the latest table may be
// added to.
func (t *logTable) with(l *logState) *logTable {
	t.byID.Store(l.id, l)
	return &logTable{list: append(t.list, l), byID: t.byID}
}

// Open opens the database in dir. A writer (the default) creates the
// directory, its key pair and the own log when missing, takes the
// writer lock (waiting up to Options.LockWait) and recovers every log's
// tail. A read-only Open never creates anything: on a missing database
// it returns an error wrapping fs.ErrNotExist.
func Open(dir string, opts *Options) (*DB, error) {
	start := time.Now()
	db := &DB{dir: dir}
	if opts != nil {
		db.opts = *opts
	}
	if db.opts.SegmentSize <= 0 {
		db.opts.SegmentSize = DefaultSegmentSize
	}
	if db.opts.SegmentSize < fileHeaderSize+minFrameSize {
		db.opts.SegmentSize = fileHeaderSize + minFrameSize
	}
	if db.opts.LockWait == 0 {
		db.opts.LockWait = 5 * time.Second
	}
	db.log = db.opts.Logger
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	db.readOnly = db.opts.ReadOnly
	db.qcond = sync.NewCond(&db.qmu)
	db.hintStep = hintEvery
	db.ch = make(chan struct{})
	var err error
	if db.readOnly {
		err = db.openReader()
	} else {
		err = db.openWriter()
	}
	if err != nil {
		db.closeFiles()
		return nil, err
	}
	db.openTime = time.Since(start)
	db.log.Debug("applog: open", "dir", dir, "readOnly", db.readOnly, "logs", len(db.logs.Load().list), "took", db.openTime)
	return db, nil
}

func (db *DB) openReader() error {
	fi, err := os.Stat(db.dir)
	if err != nil {
		return fmt.Errorf("applog: open %s: %w", db.dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("applog: open %s: not a directory", db.dir)
	}
	b, err := os.ReadFile(filepath.Join(db.dir, filePub))
	if err != nil {
		if isNotExist(err) {
			return fmt.Errorf("applog: open %s: no database here: %w", db.dir, fs.ErrNotExist)
		}
		return fmt.Errorf("applog: %w", err)
	}
	id, err := ParseID(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("applog: %s: %w", filePub, err)
	}
	db.id = id
	ck := db.readCheckpoint()
	db.tableMu.Lock()
	defer db.tableMu.Unlock()
	return db.loadTable(ck)
}

func (db *DB) openWriter() error {
	if err := os.MkdirAll(db.dir, 0o755); err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	lk, err := acquireLock(filepath.Join(db.dir, fileLock), db.opts.LockWait)
	if err != nil {
		return err
	}
	db.lock = lk
	if err := db.loadKey(); err != nil {
		return err
	}
	ck := db.readCheckpoint()
	db.openCk = ck
	db.tableMu.Lock()
	defer db.tableMu.Unlock()
	f, err := os.OpenFile(filepath.Join(db.dir, fileLogs), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	db.logsF = f
	if err := db.loadTable(ck); err != nil {
		return err
	}
	if db.logs.Load().get(db.id) == nil {
		if _, err := db.addLog(db.sign.pub, nil); err != nil {
			return err
		}
	}
	return db.openFeed(ck)
}

// loadKey reads the own key pair, creating it on first use.
func (db *DB) loadKey() error {
	path := filepath.Join(db.dir, fileKey)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(b) == ed25519.PrivateKeySize:
	case err == nil:
		return fmt.Errorf("applog: %s: %d bytes, want %d", path, len(b), ed25519.PrivateKeySize)
	case isNotExist(err):
		_, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return fmt.Errorf("applog: %w", gerr)
		}
		if err := writeFileAtomic(path, priv, 0o600); err != nil {
			return err
		}
		b = priv
	default:
		return fmt.Errorf("applog: %w", err)
	}
	priv := ed25519.PrivateKey(b)
	pub := priv.Public().(ed25519.PublicKey)
	if !ed25519.PrivateKey(ed25519.NewKeyFromSeed(priv.Seed())).Equal(priv) {
		return fmt.Errorf("applog: %s: public half does not match the seed", path)
	}
	db.sign = &signer{priv: priv, pub: pub}
	db.id = idOf(pub)
	pubPath := filepath.Join(db.dir, filePub)
	if pb, err := os.ReadFile(pubPath); err != nil || strings.TrimSpace(string(pb)) != string(db.id) {
		if err := writeFileAtomic(pubPath, []byte(string(db.id)+"\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// loadTable reads the log ordinal table from where it was last read and
// opens the logs it adds. Caller holds tableMu.
func (db *DB) loadTable(ck *checkpoint) error {
	path := filepath.Join(db.dir, fileLogs)
	f := db.logsF
	if f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
			if isNotExist(err) {
				if db.logs.Load() == nil {
					db.logs.Store(newLogTable())
				}
				return nil
			}
			return fmt.Errorf("applog: %w", err)
		}
		defer f.Close()
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	size := fi.Size()
	if db.tableLen == 0 {
		var h [fileHeaderSize]byte
		n, _ := readFull(f, h[:], 0)
		if err := checkFileHeader(h[:n], magicLogs, 0); err != nil {
			if db.readOnly || size > fileHeaderSize {
				if size == 0 && db.readOnly {
					db.logs.Store(newLogTable())
					return nil
				}
				return fmt.Errorf("applog: %s: %w", path, err)
			}
			if err := resetFile(f, magicLogs, 0); err != nil {
				return err
			}
			size = fileHeaderSize
		}
		db.tableLen = fileHeaderSize
	}
	t := db.logs.Load()
	if t == nil {
		t = newLogTable()
	}
	// publish the logs opened, even if a later one fails: db.tableLen
	// has moved past them
	defer func() { db.logs.Store(t) }()
	if size > db.tableLen {
		b := make([]byte, size-db.tableLen)
		if _, err := readFull(f, b, db.tableLen); err != nil {
			return fmt.Errorf("applog: read %s: %w", path, err)
		}
		for len(b) >= logsRecordSize {
			pub, ok := decodeLogsRecord(b)
			if !ok {
				break
			}
			ord := uint32(len(t.list))
			var lc *logCheckpoint
			if ck != nil && int(ord) < len(ck.logs) {
				lc = &ck.logs[ord]
			}
			l, err := db.openLog(ord, pub, lc, nil)
			if err != nil {
				return err
			}
			if t.get(l.id) != nil {
				return fmt.Errorf("applog: %s: log %s listed twice", path, l.id)
			}
			t = t.with(l)
			b = b[logsRecordSize:]
			db.tableLen += logsRecordSize
		}
		if len(b) > 0 && !db.readOnly {
			// a torn append of a new log: never used, cut it
			db.log.Warn("applog: cutting torn log table tail", "offset", db.tableLen)
			if err := f.Truncate(db.tableLen); err != nil {
				return fmt.Errorf("applog: %w", err)
			}
		}
	}
	return nil
}

// table returns the current log table; a read-only database first
// picks up logs another process added.
func (db *DB) table(refresh bool) *logTable {
	if refresh && db.readOnly && !db.closed.Load() {
		db.tableMu.Lock()
		if err := db.loadTable(nil); err != nil {
			db.log.Debug("applog: reload log table", "err", err)
		}
		db.tableMu.Unlock()
	}
	return db.logs.Load()
}

// ID returns the id of the database's own log.
func (db *DB) ID() ID { return db.id }

// Head returns the highest durable seq held of log id; 0 if none.
func (db *DB) Head(id ID) uint64 {
	l := db.table(false).get(id)
	if l == nil && db.readOnly {
		l = db.table(true).get(id)
	}
	if l == nil {
		return 0
	}
	db.refresh(l)
	return l.head.Load()
}

// Heads returns every log held and its head (durable records only).
func (db *DB) Heads() map[ID]uint64 {
	t := db.table(true)
	m := make(map[ID]uint64, len(t.list))
	for _, l := range t.list {
		db.refresh(l)
		m[l.id] = l.head.Load()
	}
	return m
}

// LogInfo describes one log held.
type LogInfo struct {
	ID      ID
	Head    uint64
	Entries uint64
	Bytes   int64 // bytes on disk: segments and indexes
	Own     bool  // the database's own log
}

// Logs lists the logs held, in the order they were first stored.
func (db *DB) Logs() ([]LogInfo, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	t := db.table(true)
	out := make([]LogInfo, 0, len(t.list))
	for _, l := range t.list {
		db.refresh(l)
		head := l.head.Load()
		info := LogInfo{ID: l.id, Head: head, Entries: head, Own: l.id == db.id}
		ents, err := os.ReadDir(l.dir)
		if err != nil && !isNotExist(err) {
			return nil, fmt.Errorf("applog: %w", err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".seg") || strings.HasSuffix(e.Name(), ".idx") {
				if fi, err := e.Info(); err == nil {
					info.Bytes += fi.Size()
				}
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// Changed returns a channel that is closed the next time the database's
// durable content grows through this DB (an append or an insert). Take a
// new channel after each wake-up.
func (db *DB) Changed() <-chan struct{} {
	db.chMu.Lock()
	defer db.chMu.Unlock()
	return db.ch
}

func (db *DB) notifyChanged() {
	db.chMu.Lock()
	close(db.ch)
	db.ch = make(chan struct{})
	db.chMu.Unlock()
}

// Close waits for writes in progress, writes the checkpoint that lets the
// next Open skip recovery, releases the lock and closes every file. It is
// idempotent; later calls return the first result.
func (db *DB) Close() error {
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	if db.closed.Load() {
		return db.closeErr
	}
	db.qmu.Lock()
	db.closing = true
	db.qcond.Broadcast()
	for db.writing || db.syncing > 0 {
		db.qcond.Wait()
	}
	db.qmu.Unlock()
	db.closed.Store(true)
	var err error
	if !db.readOnly && db.failed == nil {
		err = db.writeCheckpoint()
	}
	if cerr := db.closeFiles(); err == nil {
		err = cerr
	}
	db.closeErr = err
	db.notifyChanged()
	return err
}

// closeFiles closes everything open; used by Close and a failed Open.
func (db *DB) closeFiles() error {
	var errs []error
	db.mapMu.Lock()
	defer db.mapMu.Unlock()
	if t := db.logs.Load(); t != nil {
		for _, l := range t.list {
			for _, s := range l.segments() {
				s.closeFiles()
			}
			if l.w.seg != nil {
				errs = append(errs, l.w.seg.Close(), l.w.idx.Close())
			}
		}
	}
	if db.feedF != nil {
		errs = append(errs, db.feedF.Close())
	}
	if db.logsF != nil {
		errs = append(errs, db.logsF.Close())
	}
	if db.lock != nil {
		errs = append(errs, db.lock.release())
	}
	return errors.Join(errs...)
}

// errIfClosed returns ErrClosed after Close.
func (db *DB) errIfClosed() error {
	if db.closed.Load() {
		return ErrClosed
	}
	return nil
}
