package replicate

import (
	"fmt"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/topology/testkit"
)

// TestQuotaFlood: a stranger floods bob, whose database holds at most
// 20 logs, with 50 made-up one-entry logs over real TCP. With a quota
// of 8 new logs per source, the stranger is stopped at 8, the
// connection stays up, and carol, a second peer nobody named either,
// still brings in her 5 logs. Before (no quota), the stranger took all
// 19 places left and none of carol's logs got in.
func TestQuotaFlood(t *testing.T) {
	testkit.CheckLeaks(t)
	const maxLogs, perSource = 20, 8
	stranger, carol := newFloodStore(t, 50), newFloodStore(t, 5)
	bob, err := applog.Open(t.TempDir(), &applog.Options{MaxLogs: maxLogs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	asked := make(chan applog.ID, 100)
	q := &Quota{PerSource: perSource, Wanted: func(id applog.ID) bool {
		if _, ok := stranger.heads[id]; ok {
			asked <- id
		}
		return false
	}}
	held := func(fs *floodStore) int {
		n := 0
		for id := range fs.heads {
			if bob.Head(id) != 0 {
				n++
			}
		}
		return n
	}

	ca, cb := tcpPair(t)
	l := serveBothOpts(t, ca, cb, stranger, FromDB(bob), &Options{Peer: "stranger", Source: "stranger key", Quota: q})
	seen := map[applog.ID]bool{}
	timeout := time.After(waitTimeout)
	for len(seen) < len(stranger.heads) {
		changed := bob.Changed()
		if n := held(stranger); n > perSource {
			t.Fatalf("bob holds %d of the stranger's logs, past its share of %d", n, perSource)
		}
		select {
		case id := <-asked:
			seen[id] = true
		case <-changed:
		case <-timeout:
			t.Fatalf("bob was offered %d of the stranger's %d logs", len(seen), len(stranger.heads))
		}
	}
	waitUntil(t, FromDB(bob), "the stranger's share at bob", func() bool { return held(stranger) >= perSource })
	l.noResult(t)
	l.stop(t)
	if n, r := held(stranger), q.Refused(); n != perSource || r != len(stranger.heads)-perSource {
		t.Errorf("bob holds %d of the stranger's logs and refused %d; want %d and %d", n, r, perSource, len(stranger.heads)-perSource)
	}

	ca, cb = tcpPair(t)
	serveBothOpts(t, ca, cb, carol, FromDB(bob), &Options{Peer: "carol", Source: "carol key", Quota: q})
	waitUntil(t, FromDB(bob), "carol's logs at bob", func() bool { return held(carol) == len(carol.heads) })
	if logs, _ := bob.Limited(); logs {
		t.Errorf("bob refused a log for his limit of %d; the quota should have kept the stranger below it", maxLogs)
	}
}

// TestQuotaAdmit: the bounds of a Quota, each on its own: per source,
// in total, and the rate of one source, on a fake clock.
func TestQuotaAdmit(t *testing.T) {
	type step struct {
		src     string
		advance time.Duration // before the admission
		want    bool
	}
	a, b := "a", "b"
	tests := []struct {
		name  string
		q     *Quota
		steps []step
	}{
		{"per source", &Quota{PerSource: 2}, []step{{a, 0, true}, {a, 0, true}, {a, 0, false}, {b, 0, true}, {b, 0, true}, {b, 0, false}}},
		{"total", &Quota{Total: 3}, []step{{a, 0, true}, {a, 0, true}, {b, 0, true}, {b, 0, false}, {a, 0, false}}},
		{"rate", &Quota{Burst: 2, Every: time.Minute}, []step{
			{a, 0, true}, {a, 0, true}, {a, 0, false}, {b, 0, true}, // a burst each
			{a, 30 * time.Second, false}, {a, 30 * time.Second, true}, {a, 0, false}, // then one a minute
			{a, 10 * time.Minute, true}, {a, 0, true}, {a, 0, false}, // the burst back, no more
		}},
		{"wanted", &Quota{PerSource: 1, Wanted: func(id applog.ID) bool { return id == testID("wanted") }}, []step{{a, 0, true}, {a, 0, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1e9, 0)
			q := tt.q
			q.now = func() time.Time { return now }
			srcs := map[string]*source{a: q.join(a), b: q.join(b)}
			for i, s := range tt.steps {
				now = now.Add(s.advance)
				id := testID(fmt.Sprint("log ", i))
				if got := q.admit(srcs[s.src], id); got != s.want {
					t.Errorf("step %d (source %s, after %v): admit = %v, want %v", i, s.src, s.advance, got, s.want)
				}
			}
			if q.Wanted != nil && !q.admit(srcs[a], testID("wanted")) {
				t.Errorf("a wanted log was refused")
			}
		})
	}
}

// TestQuotaSources: a Quota keeps at most maxSources sources, pushing
// out one with no session, so a stranger cycling keys costs it a
// constant; a source with a session keeps its count.
func TestQuotaSources(t *testing.T) {
	q := &Quota{PerSource: 1}
	live := q.join("live")
	if !q.admit(live, testID("first")) {
		t.Fatal("the first log of a source was refused")
	}
	for i := range 3 * maxSources {
		q.leave(q.join(fmt.Sprint("fresh key ", i)))
	}
	if n := len(q.sources); n > maxSources {
		t.Errorf("the quota keeps %d sources, want at most %d", n, maxSources)
	}
	if q.admit(live, testID("second")) {
		t.Errorf("a source with a session got a second log past its share of 1 after other sources came and went")
	}
}

// TestQuotaRefusing: Refusing hears of each source once, at its first
// refusal, however many of its logs are refused after, and not of a
// source that stays within its share.
func TestQuotaRefusing(t *testing.T) {
	var told []string
	q := &Quota{PerSource: 2, Refusing: func(src string) { told = append(told, src) }}
	a, b := q.join("a"), q.join("b")
	for i := range 10 {
		q.admit(a, testID(fmt.Sprint("a ", i)))
	}
	q.admit(b, testID("b 0"))
	q.admit(b, testID("b 1"))
	if want := []string{"a"}; fmt.Sprint(told) != fmt.Sprint(want) {
		t.Errorf("Refusing heard of %q, want %q", told, want)
	}
	q.admit(b, testID("b 2"))
	if want := []string{"a", "b"}; fmt.Sprint(told) != fmt.Sprint(want) {
		t.Errorf("after b's third log, Refusing heard of %q, want %q", told, want)
	}
}

// TestQuotaExempt: Exempt is asked at each new log, so a source that
// becomes exempt while its session runs (a named peer that dialled in
// before the user's dial proved it) brings in every new log from then
// on, and its exempt logs are not counted against the total.
func TestQuotaExempt(t *testing.T) {
	exempt := false
	q := &Quota{PerSource: 1, Total: 2, Exempt: func(src string) bool { return src == "a" && exempt }}
	a, b := q.join("a"), q.join("b")
	if !q.admit(a, testID("a 0")) || q.admit(a, testID("a 1")) {
		t.Fatal("before it was exempt, source a was not held to its share of 1")
	}
	exempt = true
	for i := range 10 {
		if !q.admit(a, testID(fmt.Sprint("a exempt ", i))) {
			t.Fatalf("exempt source a was refused its log %d", i)
		}
	}
	if !q.admit(b, testID("b 0")) {
		t.Error("source b was refused its first log: a's exempt logs counted against the total")
	}
	if q.admit(b, testID("b 1")) {
		t.Error("source b got a second log past its share of 1")
	}
}
