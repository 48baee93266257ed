package replicate

import (
	"sync"
	"time"

	"scuttle/applog"
)

// A Quota shares out among the peers of one store the new logs that
// nobody asked for: logs the store does not hold yet, that Wanted does
// not want, brought in by a peer the user did not name. Without one, a
// single stranger serving made-up one-entry logs fills the store's log
// limit (applog's Options.MaxLogs) alone, and every log a peer relays
// after that is refused. With one, each source (a peer's key) brings in
// at most PerSource new logs, Burst at once and then one every Every,
// and all sources together at most Total; past that, the records of
// further new logs from the source are skipped, as those of a log the
// store refuses, and the connection goes on. What is left of the limit
// is the share of the peers the user named, whose sessions have no
// Quota or whose sources Exempt reports.
//
// A Quota counts what it let in since it was made: a restart starts
// afresh (the logs taken stay, and count towards the store's limit).
// It keeps at most maxSources sources, besides those with a session
// running: a source with no session that is pushed out starts afresh
// too, as a fresh key would. A Quota is
// safe for concurrent use by the sessions of one store.
type Quota struct {
	// PerSource bounds the new logs one source brings in; 0 means no
	// bound.
	PerSource int
	// Total bounds the new logs all sources together bring in; 0 means
	// no bound.
	Total int
	// Burst and Every bound the rate of one source: Burst new logs at
	// once, then one more every Every. Every 0 means no rate bound.
	Burst int
	Every time.Duration
	// Wanted reports the logs that are never counted nor refused (the
	// store's wanted logs, applog's SetWanted); nil wants none. It is
	// asked only about logs the store does not hold.
	Wanted func(applog.ID) bool
	// Exempt reports the sources whose new logs are never counted nor
	// refused (the peers the user named); nil exempts none. It is asked
	// at each new log, not once per session, so that a source proven to
	// be a named peer after its session began (it dialled in first, and
	// the user's own dial proved its key later) is exempt from then on.
	Exempt func(source string) bool
	// Refusing, if not nil, is called with a source's name the first
	// time a new log of it is refused, so that the user hears of it
	// once, not once per log: again only after the source was pushed
	// out (see maxSources). It is called from the refusing session's
	// receiving goroutine, without the Quota's lock, and must not block.
	Refusing func(source string)

	mu      sync.Mutex
	total   int
	refused int
	sources map[string]*source
	now     func() time.Time // time.Now; tests replace it
}

// NewQuota returns the Quota of a store that takes at most maxLogs logs
// nobody asked for (applog's Options.MaxLogs), nil if that is 0 (no
// bound to share): each source brings in at most maxLogs/32 new logs,
// 256 at once and then 10 a second, and all sources together at most
// half of maxLogs, so that the other half is left to the logs that the
// peers the user named relay.
func NewQuota(maxLogs int, wanted func(applog.ID) bool) *Quota {
	if maxLogs <= 0 {
		return nil
	}
	return &Quota{
		PerSource: max(maxLogs/32, 1),
		Total:     max(maxLogs/2, 1),
		Burst:     256,
		Every:     100 * time.Millisecond,
		Wanted:    wanted,
	}
}

// source is what a Quota knows of one source.
type source struct {
	name     string    // as given to join
	taken    int       // new logs brought in
	tokens   float64   // of the rate bound, as of at
	at       time.Time // when tokens was last brought up to date
	sessions int       // sessions running now
	last     time.Time // last admission or session start
	told     bool      // Refusing was called for it
}

// maxSources bounds the sources a Quota keeps (about 100 bytes each).
const maxSources = 4096

// join notes a session of source src and returns it.
func (q *Quota) join(src string) *source {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock()
	s := q.sources[src]
	if s == nil {
		if q.sources == nil {
			q.sources = make(map[string]*source)
		}
		if len(q.sources) >= maxSources {
			q.pushOut()
		}
		s = &source{name: src, tokens: float64(q.Burst), at: now}
		q.sources[src] = s
	}
	s.sessions++
	s.last = now
	return s
}

// leave notes that a session of s ended.
func (q *Quota) leave(s *source) {
	q.mu.Lock()
	s.sessions--
	q.mu.Unlock()
}

// pushOut forgets the source without sessions that was used longest
// ago, if any. Caller holds q.mu.
func (q *Quota) pushOut() {
	var oldest string
	var at time.Time
	for k, s := range q.sources {
		if s.sessions == 0 && (oldest == "" || s.last.Before(at)) {
			oldest, at = k, s.last
		}
	}
	if oldest != "" {
		delete(q.sources, oldest)
	}
}

// admit reports whether source s may bring in the new log id, and if
// so counts it.
func (q *Quota) admit(s *source, id applog.ID) bool {
	if (q.Wanted != nil && q.Wanted(id)) || (q.Exempt != nil && q.Exempt(s.name)) {
		return true
	}
	ok, tell := q.count(s)
	if tell {
		q.Refusing(s.name)
	}
	return ok
}

// count is admit's bookkeeping, under the lock: whether s may bring in
// one more new log, and whether Refusing is to hear of its refusal.
func (q *Quota) count(s *source) (ok, tell bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock()
	if q.Every > 0 {
		s.tokens = min(float64(q.Burst), s.tokens+float64(now.Sub(s.at))/float64(q.Every))
		s.at = now
	}
	if (q.PerSource > 0 && s.taken >= q.PerSource) || (q.Total > 0 && q.total >= q.Total) || (q.Every > 0 && s.tokens < 1) {
		q.refused++
		tell = q.Refusing != nil && !s.told
		s.told = true
		return false, tell
	}
	if q.Every > 0 {
		s.tokens--
	}
	s.taken++
	q.total++
	s.last = now
	return true, false
}

// Refused returns how many times a new log was refused for the quota.
func (q *Quota) Refused() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.refused
}

func (q *Quota) clock() time.Time {
	if q.now != nil {
		return q.now()
	}
	return time.Now()
}
