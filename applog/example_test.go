package applog_test

import (
	"fmt"
	"log"
	"os"

	"scuttle/applog"
)

func Example() {
	dir, err := os.MkdirTemp("", "applog-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := applog.Open(dir, nil) // creates the database and its key pair
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.Append([]byte("hello"))
	db.AppendBatch([][]byte{[]byte("world"), []byte("!")})

	it := db.Iter(db.ID(), 1)
	defer it.Close()
	for it.Next() {
		e := it.Entry()
		fmt.Printf("seq %d: %s (signed %v)\n", e.Seq, e.Data, it.Signed())
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// seq 1: hello (signed true)
	// seq 2: world (signed false)
	// seq 3: ! (signed true)
}
