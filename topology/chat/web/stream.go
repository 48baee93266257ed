package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"scuttle/applog"
	"scuttle/topology/chat"
)

// The stream of GET /events, in the Server-Sent Events format: first
//
//	retry: 3000
//	event: reset     (the page forgets what it shows: a new stream follows)
//	event: state     (the status, who is here, the names; again on each change)
//
// then one "event: line" per line of Chat.Lines, the history first, and
// a comment line now and then. Each data field is one line of JSON (see
// lineJSON and stateJSON). Streams are capped at Config.MaxStreams: one
// more is answered 503, which the page shows.

// lineJSON is a chat.Line as the page reads it.
type lineJSON struct {
	Info bool      `json:"info,omitempty"`
	Time int64     `json:"time"` // Unix milliseconds
	From string    `json:"from,omitempty"`
	Log  applog.ID `json:"log,omitempty"`
	Own  bool      `json:"own,omitempty"`
	Room string    `json:"room,omitempty"` // "#NAME": a private room's line
	To   string    `json:"to,omitempty"`   // a private message's recipients
	Text string    `json:"text"`
	// Image is the content id of an image shown under the line, read
	// from GET /image/{id}.
	Image string `json:"image,omitempty"`
}

// stateJSON is what the page shows beside the lines.
type stateJSON struct {
	Me      string         `json:"me"`
	Room    string         `json:"room"`
	Private bool           `json:"private"`
	Peers   int            `json:"peers"`
	Who     []presenceJSON `json:"who"`
	Names   []nameJSON     `json:"names"`
}

type presenceJSON struct {
	Name      string    `json:"name"`
	Log       applog.ID `json:"log"`
	Connected bool      `json:"connected"`
	Since     int64     `json:"since"` // Unix milliseconds; 0: unknown
}

type nameJSON struct {
	Name string    `json:"name"`
	Log  applog.ID `json:"log"`
	How  string    `json:"how"`
	Own  bool      `json:"own"`
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func toLine(l chat.Line) lineJSON {
	return lineJSON{Info: l.Kind == chat.Info, Time: millis(l.Time), From: l.From, Log: l.Log, Own: l.Own, Room: l.Room, To: l.To, Text: l.Text, Image: l.Image}
}

func (s *Server) state() stateJSON {
	st := s.cfg.Chat.Status()
	j := stateJSON{Me: st.Me, Room: st.Room, Private: st.Private, Peers: st.Peers, Who: []presenceJSON{}, Names: []nameJSON{}}
	for _, p := range s.cfg.Chat.Who() {
		j.Who = append(j.Who, presenceJSON{p.Name, p.Log, p.Connected, millis(p.Since)})
	}
	for _, n := range s.cfg.Chat.Names() {
		j.Names = append(j.Names, nameJSON{n.Name, n.Log, n.How, n.Own})
	}
	return j
}

// events serves a stream; see the top of this file.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		http.Error(w, "web: too many streams open (at most "+strconv.Itoa(s.cfg.MaxStreams)+"): close this chat's page in another browser", http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
	// The request is read: the server's read deadline must not end the
	// stream (it would cancel the request's context).
	if err := rc.SetReadDeadline(time.Time{}); err != nil {
		http.Error(w, "web: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)

	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	e := &eventWriter{w: w, rc: rc}
	if err := e.send("reset", []byte("{}"), "retry: 3000\n"); err != nil {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		if err := s.watchState(ctx, e); err != nil {
			cancel(err)
		}
	})
	err := s.cfg.Chat.Lines(ctx, func(l chat.Line) error {
		b, err := json.Marshal(toLine(l))
		if err != nil {
			return err
		}
		return e.send("line", b, "")
	})
	cancel(err)
	if ctx.Err() == nil || context.Cause(ctx) != context.Canceled {
		s.cfg.Log.Debug("web: stream ended", "remote", r.RemoteAddr, "err", context.Cause(ctx))
	}
}

// watchState sends the state at once, then each time it changes, and a
// comment when nothing was sent for pingEvery, until ctx ends or a send
// fails.
func (s *Server) watchState(ctx context.Context, e *eventWriter) error {
	tick := time.NewTicker(s.cfg.StateEvery)
	defer tick.Stop()
	var last []byte
	idle := time.Duration(0)
	for {
		b, err := json.Marshal(s.state())
		if err != nil {
			return err
		}
		switch {
		case !bytes.Equal(b, last):
			if err := e.send("state", b, ""); err != nil {
				return err
			}
			last, idle = b, 0
		case idle >= pingEvery:
			if err := e.comment(); err != nil {
				return err
			}
			idle = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			idle += s.cfg.StateEvery
		}
	}
}

// An eventWriter writes the events of one stream, from the lines' and
// the state's goroutines, one event at a time, each flushed and bounded
// by writeWait.
type eventWriter struct {
	mu  sync.Mutex
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte
}

func (e *eventWriter) send(event string, data []byte, extra string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.buf = append(e.buf[:0], extra...)
	e.buf = append(e.buf, "event: "...)
	e.buf = append(e.buf, event...)
	e.buf = append(e.buf, "\ndata: "...)
	e.buf = append(e.buf, data...) // JSON: one line
	e.buf = append(e.buf, "\n\n"...)
	return e.write()
}

func (e *eventWriter) comment() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.buf = append(e.buf[:0], ":\n\n"...)
	return e.write()
}

func (e *eventWriter) write() error {
	if err := e.rc.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return err
	}
	if _, err := e.w.Write(e.buf); err != nil {
		return err
	}
	return e.rc.Flush()
}
