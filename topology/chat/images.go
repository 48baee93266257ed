package chat

import (
	"errors"
	"fmt"
	"io"
	"mime"

	"scuttle/applog/blob"
)

// The images a front end may show under their lines (Line.Image): the
// web page asks for them by content id, and Image hands out only those
// the chat showed, of an image type, that the store holds complete.

// ErrNoImage is matched by the error of Image for an id that is not an
// image the chat showed and holds complete.
var ErrNoImage = errors.New("chat: no such image")

// Image returns the media type and the content of the image file whose
// content id is id (its text), opened with its key if it is sealed: one
// the chat showed this run, whose entry names an image type that may be
// shown inline (PNG, JPEG, GIF or WebP; never SVG), and that the store
// holds complete. The media type is the bare type ("image/png"), not the
// author's text. Anything else fails with ErrNoImage. The caller closes
// the content; a sealed file's content fails as it is read if a block
// does not open.
func (c *Chat) Image(id string) (string, io.ReadCloser, error) {
	bid, err := blob.ParseID(id)
	if err != nil || c.cfg.Blobs == nil {
		return "", nil, ErrNoImage
	}
	f, ok := c.files.get(bid)
	if !ok || !inlineImage(f.entry.Media) || !c.complete(bid) {
		return "", nil, ErrNoImage
	}
	media, _, _ := mime.ParseMediaType(f.entry.Media) // inlineImage parsed it
	file, err := c.cfg.Blobs.Open(bid)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrNoImage, err)
	}
	if !f.entry.Sealed() {
		return media, file, nil
	}
	r, w := io.Pipe()
	go func() {
		defer file.Close()
		_, err := blob.CopySealed(w, file, f.entry.Key)
		w.CloseWithError(err)
	}()
	return media, r, nil
}
