package chat

import (
	"errors"

	"scuttle/applog"
	"scuttle/applog/blob"
)

// What the chat needs of the store beyond what blob has today: sources
// and sealed files. Stubs until they land in package blob.

func addSource(store *blob.Store, f blob.Entry, author applog.ID) {}

type fileFetcher interface {
	Get(id blob.ID)
	Forget(id blob.ID)
}

func addSealed(store *blob.Store, path string, head []byte) (blob.Entry, error) {
	return blob.Entry{}, errors.New("files in private rooms are not supported yet")
}
