package web

import (
	"embed"
	"errors"
	"io"
	"net/http"
	"strings"

	"scuttle/topology/chat"
)

// The routes, behind the guards (see handler):
//
//	GET  /           the page (index.html)
//	GET  /app.js     its script
//	GET  /app.css    its style
//	GET  /worker.js  the shared worker that holds one stream for every tab
//	GET  /events     the stream of lines and state (stream.go)
//	POST /type       a typed line, the body (text/plain, UTF-8)
//	GET  /image/{id} an image the chat showed (chat.Line.Image), if the
//	                 Chat has images (Images)

//go:embed static
var static embed.FS

// assets are the files of static, by route, with their types.
var assets = []struct{ route, file, ctype string }{
	{"GET /{$}", "static/index.html", "text/html; charset=utf-8"},
	{"GET /app.js", "static/app.js", "text/javascript; charset=utf-8"},
	{"GET /app.css", "static/app.css", "text/css; charset=utf-8"},
	{"GET /worker.js", "static/worker.js", "text/javascript; charset=utf-8"},
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, a := range assets {
		body, err := static.ReadFile(a.file)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		mux.HandleFunc(a.route, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", a.ctype)
			w.Write(body)
		})
	}
	mux.HandleFunc("GET /events", s.events)
	mux.HandleFunc("POST /type", s.typeLine)
	if im, ok := s.cfg.Chat.(Images); ok {
		mux.HandleFunc("GET /image/{id}", func(w http.ResponseWriter, r *http.Request) { serveImage(w, r, im) })
	}
	return mux
}

// Images is what a Chat may also do: hand out the images its lines name
// (chat.Line.Image), as *chat.Chat does (Chat.Image).
type Images interface {
	// Image returns the media type and the content of image id, or an
	// error if it is not one the chat showed and holds.
	Image(id string) (media string, content io.ReadCloser, err error)
}

var _ Images = (*chat.Chat)(nil)

// imageTypes are the media types an image is served as: what browsers
// show as pictures, and nothing that can hold script (no SVG).
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// serveImage answers GET /image/{id}: the image, with its type and
// nosniff (set by the guards), or 404.
func serveImage(w http.ResponseWriter, r *http.Request, im Images) {
	media, content, err := im.Image(r.PathValue("id"))
	if err != nil {
		http.Error(w, "web: no such image", http.StatusNotFound)
		return
	}
	defer content.Close()
	if !imageTypes[media] {
		http.Error(w, "web: not an image shown inline", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", media)
	w.Header().Set("Content-Disposition", "inline")
	io.Copy(w, content) // a failure mid-way cuts the response: the browser shows a broken image
}

// typeLine hands the body, one line, to the chat as if typed there: 204
// when it was taken, 400 for an empty line or one with a line break,
// 413 above MaxBody, 503 when the chat did not take it.
func (s *Server) typeLine(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, "web: line longer than 64 KiB: not sent", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "web: reading the line: "+err.Error(), http.StatusBadRequest)
		return
	}
	line := string(body)
	switch {
	case strings.TrimSpace(line) == "":
		http.Error(w, "web: empty line: not sent", http.StatusBadRequest)
		return
	case strings.ContainsAny(line, "\r\n"):
		http.Error(w, "web: a line break in the line: not sent", http.StatusBadRequest)
		return
	}
	if err := s.cfg.Chat.Type(r.Context(), line); err != nil {
		s.cfg.Log.Debug("web: line not taken", "err", err)
		http.Error(w, "web: the chat did not take the line: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
