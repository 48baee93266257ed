package replicate

import "scuttle/applog/blob"

// Blobs is what a session serves of the files its side holds. *blob.Store
// is one; a caller that serves only some files (those whose entries it
// holds, of authors it has not blocked) wraps it.
//
// A session calls Manifest once for a file and keeps the manifest while
// it serves that file's blocks: a Blobs that stops serving a file must
// also refuse ReadBlock of it.
type Blobs interface {
	// Manifest returns the manifest of file id if this side serves it; an
	// error otherwise.
	Manifest(id blob.ID) (*blob.Manifest, error)
	// ReadBlock returns block i of the file whose manifest is m, verified
	// against its hash, in buf (len >= blob.BlockSize); an error if not
	// held.
	ReadBlock(m *blob.Manifest, i int, buf []byte) ([]byte, error)
}
