package replicate_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"scuttle/applog"
	"scuttle/applog/blob"
	"scuttle/applog/replicate"
)

// Alice shares a file; bob's Fetcher fetches it over the same connection
// that replicates their logs.
func ExampleFetcher() {
	dir, err := os.MkdirTemp("", "replicate-fetch-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	open := func(name string) (*applog.DB, *blob.Store) {
		db, err := applog.Open(filepath.Join(dir, name), nil)
		if err != nil {
			log.Fatal(err)
		}
		bs, err := blob.Open(filepath.Join(dir, name), nil)
		if err != nil {
			log.Fatal(err)
		}
		return db, bs
	}
	alice, aliceBlobs := open("alice")
	defer alice.Close()
	bob, bobBlobs := open("bob")
	defer bob.Close()

	src := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(src, []byte(strings.Repeat("scuttle ", 100000)), 0o600); err != nil {
		log.Fatal(err)
	}
	id, _, err := aliceBlobs.Add(src)
	if err != nil {
		log.Fatal(err)
	}

	done := make(chan error, 1)
	fetcher := replicate.NewFetcher(bobBlobs, &replicate.FetcherOptions{
		Done: func(got blob.ID, err error) { done <- err },
	})
	fetcher.Get(id) // before or after the peers connect

	ca, cb := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	// Alice serves every file her store holds; a chat serves only those
	// whose entries it holds, of authors it has not blocked.
	wg.Go(func() { replicate.Serve(ctx, ca, replicate.FromDB(alice), &replicate.Options{Blobs: aliceBlobs}) })
	wg.Go(func() { replicate.Serve(ctx, cb, replicate.FromDB(bob), &replicate.Options{Fetcher: fetcher}) })

	if err := <-done; err != nil {
		log.Fatal(err)
	}
	f, err := bobBlobs.Open(id)
	if err != nil {
		log.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, f)
	f.Close()
	fmt.Printf("bob holds the file: %d bytes\n", n)

	cancel()
	wg.Wait()
	// Output: bob holds the file: 800000 bytes
}
