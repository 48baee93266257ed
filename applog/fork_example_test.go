package applog_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"scuttle/applog"
)

// A database copied to a second machine writes its own seq 2: a fork.
// The replica that holds both branches keeps a proof anyone can check
// with the author's key alone.
func ExampleCheckForkProof() {
	dir, err := os.MkdirTemp("", "fork")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	open := func(name string) *applog.DB {
		db, err := applog.Open(filepath.Join(dir, name), nil)
		if err != nil {
			log.Fatal(err)
		}
		return db
	}
	records := func(db *applog.DB) [][]byte {
		var recs [][]byte
		it := db.Iter(db.ID(), 1)
		defer it.Close()
		for it.Next() {
			recs = append(recs, append([]byte(nil), it.Record()...))
		}
		return recs
	}

	alice := open("alice")
	alice.Append([]byte("one"))
	alice.Close()
	os.CopyFS(filepath.Join(dir, "laptop"), os.DirFS(filepath.Join(dir, "alice")))
	os.Remove(filepath.Join(dir, "laptop", "LOCK"))
	alice, laptop := open("alice"), open("laptop")
	defer alice.Close()
	defer laptop.Close()
	alice.Append([]byte("two"))
	laptop.Append([]byte("another two"))

	bob := open("bob")
	defer bob.Close()
	bob.Insert(alice.ID(), records(alice))
	_, err = bob.Insert(laptop.ID(), records(laptop))
	fmt.Println(errors.Is(err, applog.ErrFork))

	proof, _ := bob.ForkProof(alice.ID())
	fk, err := applog.CheckForkProof(proof)
	fmt.Println(fk.Log == alice.ID(), fk.Seq, err, len(proof))
	// Output:
	// true
	// true 2 <nil> 264
}
