package replicate

import "scuttle/applog"

// Store is what replication needs of a log store. *applog.DB provides it
// through FromDB; tests may provide their own.
type Store interface {
	// Heads returns every log held and its highest durable seq.
	Heads() map[applog.ID]uint64
	// Head returns the highest durable seq of log id, 0 if none.
	Head(id applog.ID) uint64
	// Changed returns a channel closed the next time the durable content
	// grows.
	Changed() <-chan struct{}
	// Iter iterates the records of log id from seq from on, up to the head
	// as of each Next.
	Iter(id applog.ID, from uint64) Iterator
	// Insert verifies and durably stores records of log id received from a
	// peer (see applog.DB.Insert) and returns how many were new. It must not
	// retain recs after it returns.
	Insert(id applog.ID, recs [][]byte) (int, error)
}

// Iterator iterates the encoded records of one log in seq order.
type Iterator interface {
	Next() bool
	Record() []byte // valid until the next Next
	Signed() bool   // whether the current record carries a signature
	Err() error
	Close() error
}

// FromDB returns db as a Store.
func FromDB(db *applog.DB) Store { return dbStore{db} }

type dbStore struct{ *applog.DB }

func (s dbStore) Iter(id applog.ID, from uint64) Iterator { return s.DB.Iter(id, from) }
