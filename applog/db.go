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
	// MaxLogs bounds the logs a writer holds: Insert refuses the records
	// of a new log beyond it (ErrLogLimit). 0 means no limit.
	MaxLogs int
	// FreeSpace reports the bytes available in, and the size of, the
	// file system holding dir; below FreeSpaceFloor of it, Insert refuses
	// every log but the own one (ErrLowSpace). nil means the operating
	// system's (statfs; unknown on systems without it, which refuses
	// nothing).
	FreeSpace func(dir string) (avail, total uint64, err error)
	// MaxLoaded bounds the logs kept in memory at once (about 1 KB
	// each); the least recently used idle ones are unloaded beyond it
	// (see unload.go). 0 means DefaultMaxLoaded.
	MaxLoaded int

	// fs is the file system under the store (vfs.go); nil means the
	// OS's. Only tests set it, to inject faults.
	fs fileSystem
}

// DefaultMaxLoaded is the number of logs kept in memory when
// Options.MaxLoaded is 0.
const DefaultMaxLoaded = 4096

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
// concurrent use. Reads never wait for a commit round.
//
// A DB is a facade over parts that each own their state and do their
// own work; its methods check, delegate and wire them together:
//
//   - logTable (table.go, lost.go): the log table, the logs loaded, the
//     unload sweep (unload.go), and the lost logs found from their
//     directories;
//   - fileCache (files.go): every segment and index open;
//   - recordReader (read.go): reads records through the indexes;
//   - logOpener (logopen.go): loads a log's state from its files, and
//     refreshes a reader's;
//   - stateFile (checkpoint.go): the checkpoint, its header and entries;
//   - feedWriter (feedwrite.go, recover_feed.go): the feed's writing
//     end, and its repair at Open;
//   - committer (commit.go): group commit; a roundWriter (round.go)
//     writes each round, through the segWriter (logwrite.go);
//   - tailRecovery (recover_tail.go): recovers a log's tail when a
//     writer loads it;
//   - forkSet (forkset.go), blockList (block.go) and limits (limits.go):
//     what Insert refuses;
//   - repairLog and verifier (verify.go): the damage found, and Verify;
//   - the change notifier.
type DB struct {
	dir      string
	opts     Options
	log      *slog.Logger
	readOnly bool
	id       ID
	sign     *signer // nil when read-only
	lock     *lockFile

	tab   *logTable    // the log table and the logs loaded (table.go)
	own   *logState    // the own log; writer only (loaded at Open)
	files *fileCache   // every segment and index open
	rr    recordReader // reads records through the indexes (read.go)
	lo    logOpener    // loads a log's state from its files (logopen.go)
	fs    fileSystem   // every file operation goes through it (vfs.go)

	st stateFile  // the checkpoint (checkpoint.go)
	fw feedWriter // writer only: the feed's writing end

	gc committer // group commit
	sw segWriter // writer only: writes the logs' records (logwrite.go)

	changed notifier // Changed

	forks   forkSet   // the forked logs (forkset.go)
	blocks  blockList // the blocked logs (block.go)
	lim     limits    // MaxLogs and the free-space floor (limits.go)
	repairs repairLog // damage to derived files found and repaired, for Verify
	checks  checkPool // Insert's per-record scratch

	unloadAsked atomic.Bool // a round is asked to unload idle logs (logAt)

	stopWatch chan struct{} // writer: closed by Close to stop the block list's watch
	watchDone chan struct{} // closed when the watch returned

	closed   atomic.Bool
	closeMu  sync.Mutex
	closeErr error
}

// Open opens the database in dir. A writer (the default) creates the
// directory, its key pair and the own log when missing, takes the
// writer lock (waiting up to Options.LockWait) and recovers every log's
// tail. A read-only Open never creates anything: on a missing database
// it returns an error wrapping fs.ErrNotExist.
func Open(dir string, opts *Options) (*DB, error) {
	start := time.Now()
	db := newDB(dir, opts)
	var err error
	if db.readOnly {
		err = db.openReader()
	} else {
		err = db.openWriter()
	}
	if err == nil {
		err = db.forks.load()
	}
	if err != nil {
		db.closeFiles()
		return nil, err
	}
	if !db.readOnly {
		db.stopWatch, db.watchDone = make(chan struct{}), make(chan struct{})
		go db.blocks.watch(db.stopWatch, db.watchDone, db.applyBlocks)
	}
	db.log.Debug("applog: open", "dir", dir, "readOnly", db.readOnly, "logs", db.tab.count(), "lazy", db.st.lazy, "took", time.Since(start))
	return db, nil
}

// newDB makes the DB of dir with opts, defaults filled in, and wires
// its parts to one another, before any file is read.
func newDB(dir string, opts *Options) *DB {
	db := &DB{dir: dir}
	if opts != nil {
		db.opts = *opts
	}
	db.opts.setDefaults()
	db.fs = db.opts.fileSystem()
	db.log = db.opts.Logger
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	db.readOnly = db.opts.ReadOnly
	db.repairs.log = db.log
	db.gc.init(db.log)
	db.fw = feedWriter{hintStep: hintEvery, fs: db.fs, dir: dir, repairs: &db.repairs, log: db.log}
	db.st = stateFile{fs: db.fs, dir: dir, readOnly: db.readOnly, repairs: &db.repairs, log: db.log}
	db.blocks = blockList{dir: dir, readOnly: db.readOnly, log: db.log}
	db.forks = forkSet{fs: db.fs, dir: dir, readOnly: db.readOnly, log: db.log}
	db.tab = &logTable{maxLoaded: db.opts.MaxLoaded, dir: dir, fs: db.fs, readOnly: db.readOnly, st: &db.st, repairs: &db.repairs, log: db.log}
	flag := os.O_RDWR
	if db.readOnly {
		flag = os.O_RDONLY
	}
	db.files = newFileCache(db.fs, flag, maxIdleFiles)
	db.sw = segWriter{fs: db.fs, files: db.files, segmentSize: db.opts.SegmentSize}
	db.rr = recordReader{fs: db.fs, files: db.files, closed: &db.closed, repairs: &db.repairs}
	db.lo = logOpener{dir: dir, fs: db.fs, files: db.files, readOnly: db.readOnly, rr: &db.rr, st: &db.st, log: db.log}
	return db
}

// setDefaults fills in the defaults of the options left zero, and
// raises a SegmentSize too small for one record.
func (o *Options) setDefaults() {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SegmentSize < fileHeaderSize+minFrameSize {
		o.SegmentSize = fileHeaderSize + minFrameSize
	}
	if o.MaxLoaded <= 0 {
		o.MaxLoaded = DefaultMaxLoaded
	}
	if o.LockWait == 0 {
		o.LockWait = 5 * time.Second
	}
}

// openReader is the reader's Open: it reads the own ID, the state
// header and the log table, and finds the logs the table does not list.
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
	db.id, db.blocks.own = id, id
	if err := db.st.open(); err != nil {
		return err
	}
	db.tab.fileMu.Lock()
	defer db.tab.fileMu.Unlock()
	if err := db.tab.read(); err != nil {
		return err
	}
	_, err = db.tab.findLost(false)
	return err
}

// openWriter is the writer's Open; see "Recovery" in doc.go for its steps.
func (db *DB) openWriter() error {
	if err := db.fs.mkdirAll(db.dir, 0o755); err != nil {
		return fmt.Errorf("applog: %w", err)
	}
	lk, err := acquireLock(db.fs, filepath.Join(db.dir, fileLock), db.opts.LockWait)
	if err != nil {
		return err
	}
	db.lock = lk
	if err := db.loadKey(); err != nil {
		return err
	}
	db.blocks.own = db.id
	if err := db.blocks.deleteAll(db.fs); err != nil {
		return err
	}
	return db.recover()
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
		if err := writeFileAtomic(db.fs, path, priv, 0o600); err != nil {
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
	db.sw.sign = db.sign
	db.id = idOf(pub)
	pubPath := filepath.Join(db.dir, filePub)
	if pb, err := os.ReadFile(pubPath); err != nil || strings.TrimSpace(string(pb)) != string(db.id) {
		if err := writeFileAtomic(db.fs, pubPath, []byte(string(db.id)+"\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ID returns the id of the database's own log.
func (db *DB) ID() ID { return db.id }

// Changed returns a channel that is closed the next time the database's
// durable content grows through this DB (an append or an insert). Take a
// new channel after each wake-up.
func (db *DB) Changed() <-chan struct{} { return db.changed.wait() }

// notifier hands out a channel that the next notify closes.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns the channel the next notify closes.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

// notify closes the channel handed out and starts a new one.
func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
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
	if db.stopWatch != nil {
		close(db.stopWatch)
		<-db.watchDone
	}
	failed := db.gc.drain()
	db.closed.Store(true)
	var err error
	if !db.readOnly && failed == nil {
		err = db.writeCheckpoint()
	}
	if cerr := db.closeFiles(); err == nil {
		err = cerr
	}
	db.closeErr = err
	db.changed.notify()
	return err
}

// closeFiles closes everything open; used by Close and a failed Open.
func (db *DB) closeFiles() error {
	var errs []error
	db.rr.mapMu.Lock()
	defer db.rr.mapMu.Unlock()
	db.tab.loaded.Range(func(_, v any) bool {
		for _, s := range v.(*logState).segments() {
			s.unmap()
		}
		return true
	})
	errs = append(errs, db.files.close(), db.forks.close())
	for _, f := range []*os.File{db.fw.f, db.tab.f, db.st.f} {
		if f != nil {
			errs = append(errs, f.Close())
		}
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
