package blob_test

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"scuttle/applog/blob"
)

// A file fetched block by block, as the fetcher will: the manifest comes
// first, then each block, verified before it is written; a bad block is
// refused and costs nothing.
func Example() {
	db, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(db)
	store, err := blob.Open(db, nil)
	if err != nil {
		log.Fatal(err)
	}
	content := bytes.Repeat([]byte("scuttle "), blob.BlockSize/8+100) // two blocks
	m, _ := blob.Hash(bytes.NewReader(content))                       // what the sender's manifest says
	if err := store.Begin(m); err != nil {
		log.Fatal(err)
	}
	bad := bytes.Repeat([]byte("x"), blob.BlockSize)
	err = store.WriteBlock(m.ID(), 0, bad)
	fmt.Println(strings.Contains(err.Error(), "bad block: block 0 of"))
	store.WriteBlock(m.ID(), 1, content[blob.BlockSize:])
	st, _ := store.Have(m.ID())
	fmt.Println(st.Held, "of", st.Blocks, "blocks")
	store.WriteBlock(m.ID(), 0, content[:blob.BlockSize])
	st, _ = store.Have(m.ID())
	fmt.Println(st.Complete, blob.FormatSize(st.Size))

	e := blob.NewEntry(filepath.Join("talks", "notes.txt"), m, content)
	fmt.Println(strings.TrimSuffix(e.Line("alice", func(s string) string { return s }), m.ID().String()))
	// Output:
	// true
	// 1 of 2 blocks
	// true 262.9 kB
	// alice> [file] notes.txt (262.9 kB)
}
